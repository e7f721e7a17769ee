using System.Net;
using Akka.Actor;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Validate;

namespace HeMif.Discovery;

/// <summary>
/// Puts what an interface learned from its routers together with the facts it was given (discovery, the override file,
/// configuration, code). What was given wins where it says something (the override file "still wins"); what the
/// network says fills the rest:
/// <list type="bullet">
/// <item><see cref="InterfaceFacts.Pvds"/>: the learned PvDs, always.</item>
/// <item><see cref="InterfaceFacts.DnsServers"/>: the given servers when there are any and they do not come from the host
/// resolver, else the RDNSS servers of every PvD (PvDs in key order, servers in the order advertised, each once) when
/// there are any, else the host resolver's.</item>
/// <item><see cref="InterfaceFacts.Routes"/>: the given routes, then each learned default route and RFC 4191 route
/// whose prefix is not given, with its remaining lifetime.</item>
/// <item><see cref="InterfaceFacts.PvdId"/>: the given one, else the first explicit PvD's ID (key order), with its
/// Additional Information when it has passed its checks.</item>
/// <item><see cref="InterfaceFacts.Sources"/> and each route's <see cref="RouteInformation.Source"/>: say
/// <see cref="FactSource.RouterAdvertisement"/> for what was learned.</item>
/// </list>
/// </summary>
internal static class LearnedFacts
{
    /// <summary>The facts to use for <paramref name="given"/> with <paramref name="pvds"/> learned, at <paramref name="now"/>.</summary>
    public static InterfaceFacts Merge(InterfaceFacts given, IReadOnlyList<ProvisioningDomain> pvds, DateTimeOffset now)
    {
        if (pvds.Count == 0 && given.Pvds.Count == 0)
        {
            return given;
        }

        var sources = given.Sources;
        var servers = given.DnsServers;
        // The interface's own RAs speak before the host resolver's per-link view (which may lag until the next re-read);
        // the override file and configuration speak before both.
        if (servers.Count == 0 || given.Sources.DnsServers is FactSource.HostResolver or FactSource.SystemdNetworkd)
        {
            var learned = new List<IPAddress>();
            foreach (var s in pvds.SelectMany(p => p.DnsServers).Where(s => s.IsValidAt(now)).Select(s => s.Value))
            {
                if (!learned.Contains(s))
                {
                    learned.Add(s);
                }
            }

            if (learned.Count > 0)
            {
                servers = learned;
                sources = sources with { DnsServers = FactSource.RouterAdvertisement };
            }
        }

        var routes = new List<RouteInformation>(given.Routes);
        foreach (var r in pvds.SelectMany(p => p.DefaultRoute is { } d ? [d, .. p.Routes] : p.Routes))
        {
            if (r.Expires is { } e && now >= e || routes.Any(g => g.Prefix == r.Prefix))
            {
                continue;
            }

            routes.Add(new RouteInformation(r.Prefix, r.Preference, r.Expires is { } until ? until - now : TimeSpan.MaxValue) { Source = FactSource.RouterAdvertisement });
        }

        var explicitPvd = pvds.FirstOrDefault(p => p.Id is not null);
        if (given.PvdId is null && explicitPvd is not null)
        {
            sources = sources with { PvdId = FactSource.RouterAdvertisement };
        }

        return given with
        {
            Sources = sources,
            Pvds = pvds,
            DnsServers = servers,
            Routes = routes,
            PvdId = given.PvdId ?? explicitPvd?.Id,
            // The PvD's Additional Information (RFC 8801 §4), fetched and checked by its listener, for the PvD the interface is named by.
            PvdInfo = given.PvdInfo ?? pvds.FirstOrDefault(p => p.Id is not null && p.Id == (given.PvdId ?? explicitPvd?.Id))?.AdditionalInformation,
        };
    }

    /// <summary>
    /// The PvDs as a history key: their keys and sequence numbers. When it differs, the interface is attached to another
    /// network (a PvD came or went, or a PvD's sequence number changed), and RFC 8305 §4 asks for its history to be
    /// flushed ("SHOULD be flushed whenever a device changes the network to which it is attached").
    /// </summary>
    public static bool SameNetwork(IReadOnlyList<ProvisioningDomain> a, IReadOnlyList<ProvisioningDomain> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Key == p.Second.Key && p.First.SequenceNumber == p.Second.SequenceNumber);
}

/// <summary>
/// The engine actor's part of discovery (docs/architecture.md): a listener child per interface when the engine has an
/// RA source, the facts each interface was given, and what its listener learned; hands the supervisor the merged facts.
/// Touched only by the engine actor, kept across its restarts.
/// </summary>
internal sealed class DiscoveryRegistry(IRouterAdvertisementSource? source, TimeProvider time, InterfaceViews views)
{
    private static readonly RaLearningStatus NoSource = new(RaLearningState.Off, "no Router Advertisement source is configured");
    private static readonly RaLearningStatus Starting = new(RaLearningState.Starting, "the Router Advertisement listener is starting");
    private readonly Dictionary<string, InterfaceStateChanged> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InterfaceFacts> _merged = new(StringComparer.Ordinal);

    private readonly Dictionary<string, InterfaceFacts> _given = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DiscoveryMessages.Learned> _learned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _listeners = new(StringComparer.Ordinal);
    private long _count;

    /// <summary>Fetches PvD Additional Information for the listeners (null: not fetched).</summary>
    public IPvdInformationFetcher? Fetcher { get; init; }

    /// <summary>What each interface's listener said last, by interface name.</summary>
    public IReadOnlyDictionary<string, DiscoveryMessages.Learned> Learned => _learned;

    /// <summary>An interface was added with <paramref name="facts"/>: remember them, start its listener when there is a source.</summary>
    public void Added(IActorContext context, InterfaceFacts facts)
    {
        _given[facts.Name] = facts;
        Merge(facts.Name);
        if (source is not null && !_listeners.ContainsKey(facts.Name))
        {
            var name = facts.Name;
            var fetcher = Fetcher;
            _listeners[name] = context.ActorOf(ActorProps.Of(() => new RaListenerActor(name, source, time, fetcher, null)), ActorNames.Derived("ra", ++_count, name));
        }
    }

    /// <summary>New facts were given for an interface: the facts to hand its supervisor.</summary>
    public InterfaceFacts Updated(InterfaceFacts facts)
    {
        _given[facts.Name] = facts;
        return Merge(facts.Name) ?? facts;
    }

    /// <summary>An interface was removed: stop its listener, forget it.</summary>
    public void Removed(IActorContext context, string name)
    {
        _given.Remove(name);
        _learned.Remove(name);
        _merged.Remove(name);
        _states.Remove(name);
        views.Remove(name);
        if (_listeners.Remove(name, out var listener))
        {
            context.Stop(listener);
        }
    }

    /// <summary>A listener said what it knows: the facts to hand the supervisor, or null when the sender is not a current listener.</summary>
    public InterfaceFacts? OnLearned(IActorRef sender, DiscoveryMessages.Learned learned)
    {
        if (!_listeners.TryGetValue(learned.Interface, out var current) || !current.Equals(sender))
        {
            return null;
        }

        _learned[learned.Interface] = learned;
        return Merge(learned.Interface);
    }

    /// <summary>A supervisor said its interface's state (only current interfaces are passed here).</summary>
    public void OnState(InterfaceStateChanged change)
    {
        if (_given.ContainsKey(change.Interface))
        {
            _states[change.Interface] = change;
            Publish(change.Interface);
        }
    }

    /// <summary>Merges what <paramref name="name"/> was given with what it learned, keeps it, and publishes its view.</summary>
    private InterfaceFacts? Merge(string name)
    {
        if (!_given.TryGetValue(name, out var given))
        {
            return null;
        }

        var merged = _learned.TryGetValue(name, out var learned) ? LearnedFacts.Merge(given, learned.Pvds, time.GetUtcNow()) : given;
        _merged[name] = merged;
        Publish(name);
        return merged;
    }

    private void Publish(string name)
    {
        if (_merged.TryGetValue(name, out var facts))
        {
            var state = _states.GetValueOrDefault(name);
            var learning = _learned.TryGetValue(name, out var learned) ? learned.Status : source is null ? NoSource : Starting;
            views.Set(new InterfaceView(facts, state?.State ?? ValidationState.Validating, state?.Detail ?? "not examined yet", learning));
        }
    }
}

using System.Net;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using HeMif.Discovery;
using HeMif.Multipath;
using HeMif.Validate;

namespace HeMif.Continuity;

/// <summary>
/// Watches the path under one connection (draft §7.4: the application is told when the path under a connection dies or
/// a better one appears, so that it can move its session). Built from two streams the engine already has: the
/// interface views (state, facts; the current ones first) say whether the connection's own path is viable; the
/// re-planned interface order for the destination (the subflow watch, which plans again on every interface change)
/// says whether another interface now ranks first.
/// <list type="bullet">
/// <item>Not viable: the interface is gone, down, lost validation (captive portal, DNS interception, no connectivity),
/// or no longer has the connection's local address (only once the address had been seen on it).</item>
/// <item>Viable again: none of that holds any more. Re-examination (<see cref="ValidationState.Validating"/>) is neither.</item>
/// <item>Better path available: a re-plan puts first an interface other than the connection's, and other than the
/// one the plan before put first. The first plan is the baseline: a connection that won on cellular because Wi-Fi
/// failed in the race is not told that Wi-Fi is "better" until Wi-Fi comes back after a change.</item>
/// </list>
/// </summary>
internal static class PathWatch
{
    /// <summary>The path events of a connection over <paramref name="interfaceName"/> from <paramref name="localAddress"/>.</summary>
    public static IObservable<PathEvent> Create(
        string interfaceName, IPAddress? localAddress, IObservable<InterfaceView> views, IObservable<SubflowPlan> plans, TimeProvider clock)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        ArgumentNullException.ThrowIfNull(views);
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(clock);
        var local = localAddress is null ? null : Plain(localAddress);
        return Observable.Create<PathEvent>(observer =>
        {
            var gate = new Lock();
            var viable = true;
            var addressSeen = false;
            var planned = false;
            string? first = null;

            var onViews = views.Where(v => v.Facts.Name == interfaceName).Subscribe(view =>
            {
                lock (gate)
                {
                    var hasAddress = local is not null && view.Facts.Addresses.Any(a => Plain(a.Address).Equals(local));
                    addressSeen |= hasAddress;
                    var loss = Loss(view, addressSeen && !hasAddress);
                    if (loss is { } l && viable)
                    {
                        viable = false;
                        observer.OnNext(new PathEvent(PathEventKind.NotViable, l.Reason, interfaceName, l.Detail, clock.GetUtcNow()));
                    }
                    else if (loss is null && !viable && view.State == ValidationState.Validated)
                    {
                        viable = true;
                        observer.OnNext(new PathEvent(PathEventKind.ViableAgain, PathEventReason.Recovered, interfaceName, $"{interfaceName} is up and validated again: {view.Detail}", clock.GetUtcNow()));
                    }
                }
            }, observer.OnError, observer.OnCompleted);

            var onPlans = plans.Subscribe(plan =>
            {
                lock (gate)
                {
                    var top = plan.Primary?.Interface;
                    if (!planned)
                    {
                        planned = true;
                        first = top;
                        return;
                    }

                    if (top is not null && top != interfaceName && top != first)
                    {
                        var reason = plan.Primary!.Reason;
                        observer.OnNext(new PathEvent(PathEventKind.BetterPathAvailable, PathEventReason.HigherRankedInterface, interfaceName,
                            $"{top} now ranks first for {plan.Host}:{plan.Port} ({plan.Trigger}): {reason}", clock.GetUtcNow())
                        {
                            BetterInterface = top,
                        });
                    }

                    first = top;
                }
            }, observer.OnError, () => { });

            return new CompositeDisposable(onViews, onPlans);
        });
    }

    /// <summary>Why the path is not viable, or null when it is.</summary>
    private static (PathEventReason Reason, string Detail)? Loss(InterfaceView view, bool addressLost)
    {
        var name = view.Facts.Name;
        if (view.Removed)
        {
            return (PathEventReason.InterfaceRemoved, $"{name} is gone from the host");
        }

        if (!view.Facts.IsUp)
        {
            return (PathEventReason.InterfaceDown, $"{name} is down: the host says its link is not up");
        }

        if (view.State == ValidationState.Down)
        {
            return (PathEventReason.InterfaceDown, $"{name} is down: {view.Detail}");
        }

        if (addressLost)
        {
            return (PathEventReason.LocalAddressLost, $"{name} no longer has the connection's local address");
        }

        return view.State is ValidationState.CaptivePortal or ValidationState.DnsIntercepted or ValidationState.NoConnectivity
            ? (PathEventReason.ValidationLost, $"{name} lost validation: {view.State}: {view.Detail}")
            : null;
    }

    /// <summary>An address as compared here: IPv4-mapped IPv6 as IPv4, no scope.</summary>
    private static IPAddress Plain(IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()) : a;
    }
}

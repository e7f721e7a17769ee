using HeMif.Engine;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// An interface the policy keeps out of every request is not examined: no connectivity check, so not a packet on it
/// (draft §5.1: the hard set "will provide a filter which will exclude not qualifying interfaces"; found by the chaos lab,
/// lab/chaos.sh, where a prohibited wired link carried the check's DNS query and ARP). Engine-level, in virtual time.
/// </summary>
public sealed class ExcludedInterfaceTests : IAsyncLifetime
{
    private static readonly PolicyRule NoCellular = new("no-cellular", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Names = ["rmnet0"] } };

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private HeMifEngine? _engine;
    private EngineDriver _driver = null!;

    public ExcludedInterfaceTests() => _network = FakeNetwork.WifiAndCellular(_clock);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    [Fact]
    public void A_user_Prohibit_with_no_condition_keeps_the_interface_unexamined_for_good_and_says_which_rule()
    {
        Start(new HeMifPolicy { UserRules = [NoCellular] });

        _driver.Advance(TimeSpan.FromMinutes(16)); // past three periodic re-examinations (5 min each)
        Assert.DoesNotContain("rmnet0", Probed());
        Assert.Contains("wlan0", Probed());
        var state = _engine!.CurrentStates["rmnet0"];
        Assert.Equal(ValidationState.Excluded, state.State);
        Assert.Contains("user rule 'no-cellular' (Prohibit) excludes it from every request", state.Detail, StringComparison.Ordinal);
        Assert.True(_engine.AllExamined, "an excluded interface counts as examined: nothing waits for it");
    }

    [Fact]
    public void An_operator_Require_that_does_not_select_the_interface_keeps_it_unexamined()
    {
        Start(new HeMifPolicy
        {
            OperatorRules = [new PolicyRule("wifi-only", PreferenceLevel.Require) { Interface = new InterfaceMatch { Kinds = [InterfaceKind.Wifi] } }],
        });

        _driver.Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("rmnet0", Probed());
        Assert.Equal(ValidationState.Excluded, _engine!.CurrentStates["rmnet0"].State);
    }

    [Fact]
    public void A_Prohibit_some_request_escapes_still_examines_the_interface()
    {
        Start(new HeMifPolicy
        {
            // Only for one host: other requests may use cellular, so it must be examined.
            UserRules = [NoCellular with { Request = new RequestMatch { Hosts = ["video.example"] } }],
            // An operator Prohibit that a user Require (for some requests) lifts: also examined.
            OperatorRules = [new PolicyRule("no-wifi", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Names = ["wlan0"] } }],
        });
        Assert.True(_driver.RunUntil(() => _engine!.AllExamined), "virtual time ran out");
        Assert.Contains("rmnet0", Probed());
        Assert.Equal(ValidationState.Validated, _engine!.CurrentStates["rmnet0"].State);
        Assert.Equal(ValidationState.Excluded, _engine.CurrentStates["wlan0"].State);

        _driver.Await(_engine.UpdatePolicyAsync(new HeMifPolicy
        {
            OperatorRules = [new PolicyRule("no-wifi", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Names = ["wlan0"] } }],
            UserRules = [new PolicyRule("wifi-for-backup", PreferenceLevel.Require) { Interface = new InterfaceMatch { Names = ["wlan0"] }, Request = new RequestMatch { Hosts = ["backup.example"] } }],
        }));
        Assert.True(_driver.RunUntil(() => _engine.CurrentStates["wlan0"].State == ValidationState.Validated), "Wi-Fi was not examined once a user rule could lift the operator's Prohibit");
    }

    [Fact]
    public void A_policy_update_excludes_an_interface_at_once_and_a_later_one_brings_it_back_examined()
    {
        Start(HeMifPolicy.Empty);
        Assert.True(_driver.RunUntil(() => _engine!.AllExamined), "virtual time ran out");
        Assert.Equal(ValidationState.Validated, _engine!.CurrentStates["rmnet0"].State);

        _driver.Await(_engine.UpdatePolicyAsync(new HeMifPolicy { UserRules = [NoCellular] }));
        Assert.True(_driver.RunUntil(() => _engine.CurrentStates["rmnet0"].State == ValidationState.Excluded), "the update did not exclude rmnet0");
        var probedBefore = Probed().Count(i => i == "rmnet0");
        _driver.Advance(TimeSpan.FromMinutes(6)); // a periodic re-examination passes it by
        Assert.Equal(probedBefore, Probed().Count(i => i == "rmnet0"));

        _driver.Await(_engine.UpdatePolicyAsync(HeMifPolicy.Empty));
        Assert.True(_driver.RunUntil(() => _engine.CurrentStates["rmnet0"].State == ValidationState.Validated), "rmnet0 was not examined again");
        Assert.Equal(probedBefore + 1, Probed().Count(i => i == "rmnet0"));
    }

    [Fact]
    public void An_interface_without_an_address_is_not_examined_until_it_gets_one()
    {
        var bare = FakeNetwork.Cellular with { Addresses = [] };
        _engine = new HeMifEngine(_network.Options(_clock, [FakeNetwork.Wifi, bare]));
        _driver = new EngineDriver(_engine, _clock);
        Assert.True(_driver.RunUntil(() => _engine.AllExamined), "virtual time ran out");
        _driver.Advance(TimeSpan.FromMinutes(6));
        Assert.DoesNotContain("rmnet0", Probed());
        Assert.Equal(ValidationState.NoConnectivity, _engine.CurrentStates["rmnet0"].State);
        Assert.Contains("no IP address", _engine.CurrentStates["rmnet0"].Detail, StringComparison.Ordinal);

        _driver.Await(_engine.UpdateInterfaceAsync(FakeNetwork.Cellular));
        Assert.True(_driver.RunUntil(() => _engine.CurrentStates["rmnet0"].State == ValidationState.Validated), "rmnet0 was not examined once it had addresses");
        Assert.Contains("rmnet0", Probed());
    }

    private void Start(HeMifPolicy policy)
    {
        _engine = new HeMifEngine(_network.Options(_clock) with { Policy = policy });
        _driver = new EngineDriver(_engine, _clock);
    }

    private List<string> Probed()
    {
        lock (_network.Probed)
        {
            return [.. _network.Probed];
        }
    }
}

using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.Engine;
using HeMif.Actors.Tests.TestKit;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// The <see cref="PolicyActor"/> on its own, asked by a probe. Draft §5.1: "One goal of the filter is to reconcile
/// multiple selection policies from users or operators … The merged policies serve as a filter which is iterated
/// across the list of available interfaces." A policy update applies from the next request on; a request planned
/// before it keeps the plan it got; bad input is the asker's error, never the end of the policy in force.
/// </summary>
public sealed class PolicyActorTests : VirtualTimeTestKit
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private static readonly IReadOnlyList<InterfaceFacts> Interfaces = [FakeNetwork.Wifi, FakeNetwork.Cellular];

    private static readonly HeMifPolicy NoWifi = new()
    {
        UserRules = [new PolicyRule("no-wifi", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Kinds = [InterfaceKind.Wifi] } }],
    };

    private readonly TestProbe _asker;
    private readonly IActorRef _policy;

    public PolicyActorTests()
    {
        _asker = CreateTestProbe("request");
        _policy = Start(Props.Create(() => new PolicyActor(HeMifPolicy.Empty)), "policy");
    }

    /// <summary>§4.2.5 common practice, with nothing else known: "Prefer WiFi over a 3GPP interface".</summary>
    [Fact]
    public void A_plan_request_is_answered_with_the_plan_of_the_policy_in_force()
    {
        _asker.Send(_policy, MakePlan());
        Idle();

        var plan = _asker.ExpectMsg<ConnectionPlan>();
        Assert.Equal(["wlan0", "rmnet0"], plan.Candidates.Select(c => c.Interface));
        Assert.Empty(plan.Excluded);
        Assert.Equal(_policy, _asker.LastSender);
    }

    [Fact]
    public void A_policy_update_applies_to_the_next_plan_and_not_to_one_asked_for_before_it()
    {
        _asker.Send(_policy, MakePlan());
        _asker.Send(_policy, new PolicyMessages.UpdatePolicy(NoWifi));
        _asker.Send(_policy, MakePlan());
        Idle();

        var before = _asker.ExpectMsg<ConnectionPlan>();
        Assert.Equal(["wlan0", "rmnet0"], before.Candidates.Select(c => c.Interface));
        Assert.Same(NoWifi, _asker.ExpectMsg<HeMifPolicy>()); // the update is confirmed with the policy now in force
        var after = _asker.ExpectMsg<ConnectionPlan>();
        Assert.Equal(["rmnet0"], after.Candidates.Select(c => c.Interface));
        Assert.Equal("no-wifi", Assert.Single(Assert.Single(after.Excluded).Reasons).Rule.Name);
    }

    [Fact]
    public void An_invalid_policy_update_is_answered_with_a_failure_and_the_policy_in_force_stays()
    {
        UpdateTo(NoWifi);
        var twice = new PolicyRule("same-name", PreferenceLevel.Avoid);

        _asker.Send(_policy, new PolicyMessages.UpdatePolicy(new HeMifPolicy { OperatorRules = [twice], UserRules = [twice] }));
        Idle();

        var failure = _asker.ExpectMsg<Status.Failure>();
        Assert.Contains("Rule name 'same-name' is used twice", Assert.IsType<ArgumentException>(failure.Cause).Message, StringComparison.Ordinal);
        AssertNoWifiStillInForce();
    }

    public static TheoryData<string> InvalidPlanRequests => ["two interfaces with one name", "a null interface", "a null history entry"];

    [Theory]
    [MemberData(nameof(InvalidPlanRequests))]
    public void An_invalid_plan_request_is_answered_with_a_failure_and_the_policy_in_force_stays(string invalid)
    {
        UpdateTo(NoWifi);
        var request = invalid switch
        {
            "two interfaces with one name" => MakePlan([FakeNetwork.Wifi, FakeNetwork.Wifi]),
            "a null interface" => MakePlan([FakeNetwork.Wifi, null!]),
            _ => MakePlan(history: [null!]),
        };

        _asker.Send(_policy, request);
        Idle();

        Assert.IsAssignableFrom<ArgumentException>(_asker.ExpectMsg<Status.Failure>().Cause);
        AssertNoWifiStillInForce();
    }

    private static PolicyMessages.MakePlan MakePlan(IReadOnlyList<InterfaceFacts>? interfaces = null, IReadOnlyList<PathHistory>? history = null) =>
        new(interfaces ?? Interfaces, Request, HeMif.Simulation.VirtualClock.DefaultStart, history ?? []);

    private void UpdateTo(HeMifPolicy policy)
    {
        _asker.Send(_policy, new PolicyMessages.UpdatePolicy(policy));
        Idle();
        Assert.Same(policy, _asker.ExpectMsg<HeMifPolicy>());
    }

    private void AssertNoWifiStillInForce()
    {
        _asker.Send(_policy, MakePlan());
        Idle();
        Assert.Equal(["rmnet0"], _asker.ExpectMsg<ConnectionPlan>().Candidates.Select(c => c.Interface));
    }
}

using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>
/// Supervision with Akka's directives. The message that failed is never redelivered, whatever the directive;
/// it is reported, with the decision, on <see cref="ActorSystem.Failures"/>.
/// </summary>
public sealed class SupervisionTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly List<ActorFailure> _failures = [];
    private ActorSystem _system = null!;
    private TestProbe _probe = null!;
    private IDisposable? _subscription;

    public Task InitializeAsync()
    {
        UseGuardian(Directive.Restart);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _subscription?.Dispose();
        await _system.ShutdownAsync();
    }

    [Fact]
    public async Task Resume_keeps_the_state_and_drops_the_message_that_failed()
    {
        await ReplaceGuardian(Directive.Resume);
        var counter = _system.ActorOf(CountingActor(), "counter");
        counter.Tell("inc");
        counter.Tell(new Boom("resume me"));
        counter.Tell("inc");
        counter.Tell("report");

        await _probe.ExpectMsgAsync("count 2 (instance 1)");
        var failure = Failures().Single();
        Assert.Equal(Directive.Resume, failure.Directive);
        Assert.Equal(new Boom("resume me"), failure.Message);
    }

    [Fact]
    public async Task Restart_recreates_the_state_through_the_factory_and_keeps_the_mailbox()
    {
        var counter = _system.ActorOf(CountingActor(), "counter");
        counter.Tell("inc");
        counter.Tell("inc");
        counter.Tell(new Boom("restart me"));
        counter.Tell("inc");      // queued behind the failure: kept in the mailbox across the restart
        counter.Tell("report");

        await _probe.ExpectMsgAsync("count 1 (instance 2)");
        var failure = Failures().Single();
        Assert.Equal(Directive.Restart, failure.Directive);
        Assert.Equal(new Boom("restart me"), failure.Message);
        await _probe.ExpectNoMsgAsync("the failed message is not redelivered to the new instance");
    }

    [Fact]
    public async Task Stop_stops_the_failing_actor()
    {
        await ReplaceGuardian(Directive.Stop);
        var actor = _system.ActorOf(CountingActor(), "fragile");
        actor.Tell(new Boom("stop me"));
        await _probe.ExpectTerminatedAsync(actor);
        Assert.Equal(Directive.Stop, Failures().Single().Directive);
    }

    [Fact]
    public async Task The_restart_budget_stops_the_actor_once_exhausted_and_renews_after_the_window()
    {
        await ReplaceGuardian(new SupervisorStrategy(_ => Directive.Restart, 2, TimeSpan.FromMinutes(1), RestartBackoff.None));
        var actor = _system.ActorOf(CountingActor(), "flaky");
        actor.Tell(new Boom("1"));
        actor.Tell(new Boom("2"));
        await _system.WhenIdleAsync();
        _time.Advance(TimeSpan.FromMinutes(1)); // both restarts leave the window
        actor.Tell(new Boom("3"));
        actor.Tell(new Boom("4"));
        actor.Tell("report");
        await _probe.ExpectMsgAsync("count 0 (instance 5)", hint: "four restarts, two per window, are within budget");

        actor.Tell(new Boom("5"));
        await _probe.ExpectTerminatedAsync(actor);
        var last = Failures()[^1];
        Assert.Equal(Directive.Stop, last.Directive);
        Assert.Contains("restart budget exhausted (2 within", last.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restarts_back_off_exponentially_with_jitter_from_the_injected_random_source()
    {
        var backoff = new RestartBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), 2, 0.5);
        await ReplaceGuardian(new SupervisorStrategy(_ => Directive.Restart, 10, TimeSpan.FromMinutes(10), backoff, new Random(7)));
        var jitter = new Random(7); // the same sequence the strategy draws
        var actor = _system.ActorOf(CountingActor(), "backoff");

        for (var n = 0; n < 4; n++)
        {
            // n = 0, 1, 2, 3 → 100, 200, 300 (capped), 300 (capped) ms, each times (1 + 0.5·r).
            var expected = TimeSpan.FromMilliseconds(Math.Min(300, 100 * Math.Pow(2, n)) * (1 + (0.5 * jitter.NextDouble())));
            actor.Tell(new Boom($"failure {n}"));
            actor.Tell("report");
            await _system.WhenIdleAsync();

            _time.Advance(expected - TimeSpan.FromTicks(1));
            await _probe.ExpectNoMsgAsync($"restart {n + 1} must wait {expected.TotalMilliseconds} ms");
            _time.Advance(TimeSpan.FromTicks(1));
            await _probe.ExpectMsgAsync($"count 0 (instance {n + 2})", hint: $"restart {n + 1} after its backoff");
        }
    }

    [Fact]
    public async Task Escalate_hands_the_failure_to_the_parents_supervisor_which_restarts_the_parent_and_with_it_the_child()
    {
        var parentInstances = 0;
        var parent = _system.ActorOf(LambdaActor.Props(
            (a, m) => a.Context.Children.Single().Tell(m, a.Sender),
            preStart: a =>
            {
                Interlocked.Increment(ref parentInstances);
                a.Context.ActorOf(CountingActor(), "child");
            },
            strategy: new SupervisorStrategy(_ => Directive.Escalate, 10, TimeSpan.FromMinutes(1), RestartBackoff.None)), "parent");

        parent.Tell("inc");
        parent.Tell(new Boom("escalate me"));
        await _system.WhenIdleAsync();
        parent.Tell("report");

        await _probe.ExpectMsgAsync("count 0 (instance 1)", hint: "a fresh child, made by the restarted parent, without the old count");
        Assert.Equal(2, parentInstances);
        var failures = Failures();
        Assert.Equal(Directive.Escalate, failures[0].Directive);
        Assert.Equal("/user/parent/child", failures[0].Actor.Path);
        Assert.Equal(Directive.Restart, failures[1].Directive);
        Assert.Equal("/user/parent", failures[1].Actor.Path);
    }

    [Fact]
    public async Task An_escalated_child_resumes_with_its_queued_messages_when_the_grandparent_resumes_the_parent()
    {
        await ReplaceGuardian(Directive.Resume);
        var parent = _system.ActorOf(LambdaActor.Props(
            (a, m) => a.Context.Children.Single().Tell(m, a.Sender),
            preStart: a => a.Context.ActorOf(CountingActor(), "child"),
            strategy: new SupervisorStrategy(_ => Directive.Escalate, 10, TimeSpan.FromMinutes(1), RestartBackoff.None)), "parent");

        parent.Tell("inc");
        parent.Tell(new Boom("escalate me"));
        parent.Tell("inc");
        parent.Tell("report");

        await _probe.ExpectMsgAsync("count 2 (instance 1)", hint: "state kept, queued messages processed after the resume");
    }

    [Fact]
    public async Task A_factory_that_throws_stops_the_actor_and_reports_why()
    {
        var actor = _system.ActorOf(Props.Create<LambdaActor>(() => throw new InvalidOperationException("no config")), "broken");
        await _probe.ExpectTerminatedAsync(actor);
        var failure = Failures().Single();
        Assert.Equal(Directive.Stop, failure.Directive);
        Assert.Equal("no config", failure.Exception.Message);
        Assert.Contains("creating LambdaActor failed", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Nonsensical_backoff_settings_are_rejected_with_the_value_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SupervisorStrategy(_ => Directive.Restart, 1, TimeSpan.FromMinutes(1), new RestartBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 2, 0)));
        Assert.Equal("Max", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RestartBackoff(TimeSpan.Zero, TimeSpan.Zero, 0.5, 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RestartBackoff(TimeSpan.Zero, TimeSpan.Zero, 1, 2).Validate());
    }

    private Props CountingActor()
    {
        var instance = 0;
        return Props.Create(() =>
        {
            var number = Interlocked.Increment(ref instance);
            return new LambdaActor((a, m) =>
            {
                switch (m)
                {
                    case "inc":
                        a.Counter++;
                        break;
                    case "report":
                        _probe.Tell($"count {a.Counter} (instance {number})");
                        break;
                    case Boom boom:
                        throw new InvalidOperationException(boom.Why);
                }
            });
        });
    }

    private List<ActorFailure> Failures()
    {
        lock (_failures)
        {
            return [.. _failures];
        }
    }

    private void UseGuardian(SupervisorStrategy strategy)
    {
        _subscription?.Dispose();
        _system = TestSystems.Create(_time, strategy);
        _probe = new TestProbe(_system);
        _subscription = _system.Failures.Subscribe(f => { lock (_failures) { _failures.Add(f); } });
    }

    private void UseGuardian(Directive directive) =>
        UseGuardian(new SupervisorStrategy(_ => directive, 10, TimeSpan.FromMinutes(1), RestartBackoff.None));

    private async Task ReplaceGuardian(SupervisorStrategy strategy)
    {
        await _system.ShutdownAsync();
        UseGuardian(strategy);
    }

    private Task ReplaceGuardian(Directive directive) =>
        ReplaceGuardian(new SupervisorStrategy(_ => directive, 10, TimeSpan.FromMinutes(1), RestartBackoff.None));
}

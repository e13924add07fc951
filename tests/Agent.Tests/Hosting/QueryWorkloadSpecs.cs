using Treecast.Contracts;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>A deadline watch asks the root's agent how a workload stands before it duplicates anything.</summary>
public sealed class When_the_root_is_asked_how_a_workload_stands : IAsyncLifetime
{
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await AgentCluster.StartAsync("vmm-a");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_answer_completed_with_the_time_it_completed()
    {
        await _cluster.SendAsync("vmm-a", new StartWorkload("job-7", "vmm-a", TimeSpan.FromMilliseconds(200)));
        var started = await _cluster.Events.WaitForAsync<WorkloadStarted>(w => w.WorkloadId == "job-7");
        var completed = await _cluster.Events.WaitForAsync<WorkloadCompleted>(w => w.WorkloadId == "job-7", TimeSpan.FromMinutes(1));

        var watchId = Guid.NewGuid();
        await _cluster.SendAsync("vmm-a", new QueryWorkload(watchId, "job-7", "vmm-a"));

        var report = await _cluster.Events.WaitForAsync<WorkloadStatusReported>(r => r.WatchId == watchId);
        Assert.Equal(WorkloadStatus.Completed, report.Status);
        Assert.Equal("vmm-a", report.VmmId);
        Assert.NotNull(report.CompletedAt);
        Assert.True(report.CompletedAt >= started.StartedAt, $"completed at {report.CompletedAt}, started at {started.StartedAt}");
        Assert.True(report.CompletedAt <= completed.CompletedAt, $"reported {report.CompletedAt}, published {completed.CompletedAt}");
    }

    [Fact]
    public async Task Should_answer_running_while_it_runs_and_unknown_for_a_workload_that_never_ran_here()
    {
        await _cluster.SendAsync("vmm-a", new StartWorkload("job-long", "vmm-a", TimeSpan.FromHours(1)));
        await _cluster.Events.WaitForAsync<WorkloadStarted>(w => w.WorkloadId == "job-long");
        var running = Guid.NewGuid();
        var unknown = Guid.NewGuid();

        await _cluster.SendAsync("vmm-a", new QueryWorkload(running, "job-long", "vmm-a"));
        await _cluster.SendAsync("vmm-a", new QueryWorkload(unknown, "job-elsewhere", "vmm-a"));

        var whileRunning = await _cluster.Events.WaitForAsync<WorkloadStatusReported>(r => r.WatchId == running);
        Assert.Equal(WorkloadStatus.Running, whileRunning.Status);
        Assert.Null(whileRunning.CompletedAt);
        var neverRan = await _cluster.Events.WaitForAsync<WorkloadStatusReported>(r => r.WatchId == unknown);
        Assert.Equal(WorkloadStatus.Unknown, neverRan.Status);
    }
}

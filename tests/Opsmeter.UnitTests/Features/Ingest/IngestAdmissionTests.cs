using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.UnitTests.Features.Ingest;

public sealed class IngestAdmissionTests
{
    private static readonly Guid Noisy = Guid.NewGuid(), Quiet = Guid.NewGuid();

    private static IngestAdmission Admission(int inFlight, int? waiting = null, TimeProvider? time = null) =>
        new(Options.Create(new IngestOptions { MaxInFlightBytesPerWorkspace = inFlight, MaxWaitingBytesPerWorkspace = waiting }), time ?? new FakeTimeProvider());

    private static DefaultHttpContext Request(Guid workspaceId, long? contentLength)
    {
        var http = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ApiKeyAuthenticationHandler.WorkspaceClaim, workspaceId.ToString())], "test")),
        };
        http.Request.ContentLength = contentLength;
        return http;
    }

    [Fact]
    public async Task Past_its_budget_a_workspace_waits_in_order_while_another_gets_in_at_once()
    {
        using var admission = Admission(inFlight: 1000);
        using var first = await admission.EnterAsync(Request(Noisy, 600));
        var second = admission.EnterAsync(Request(Noisy, 600)).AsTask();
        var third = admission.EnterAsync(Request(Noisy, 100)).AsTask();

        using var other = await admission.EnterAsync(Request(Quiet, 1000));
        Assert.Equal((400, 700), (admission.Statistics(Noisy)!.CurrentAvailablePermits, admission.Statistics(Noisy)!.CurrentQueuedCount)); // bytes

        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted); // first in, first out: it fits, but waits behind the second
        first!.Dispose();
        using var secondLease = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(secondLease!.IsAcquired);
        Assert.False(third.IsCompleted); // the noisy workspace now shares the node: it works on half its budget (below)
        secondLease.Dispose();
        using var thirdLease = await third.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(thirdLease!.IsAcquired);
    }

    [Fact]
    public async Task While_another_workspace_sends_a_workspace_works_on_half_its_budget_and_on_all_of_it_once_the_other_is_gone()
    {
        var clock = new FakeTimeProvider();
        using var admission = Admission(inFlight: 1000, time: clock);
        using (await admission.EnterAsync(Request(Quiet, 10)))
        {
        }

        using var first = await admission.EnterAsync(Request(Noisy, 400));
        clock.Advance(IngestAdmission.SharingWindow - TimeSpan.FromSeconds(1));
        var second = admission.EnterAsync(Request(Noisy, 400)).AsTask(); // the quiet workspace sent 9 s ago: half of 1,000

        Assert.False(second.IsCompleted);
        Assert.Equal(200, admission.Statistics(Noisy)!.CurrentAvailablePermits); // it holds its place in the whole budget
        first!.Dispose();
        using var secondLease = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(secondLease!.IsAcquired);

        clock.Advance(TimeSpan.FromSeconds(1));
        using var third = await admission.EnterAsync(Request(Noisy, 400)); // alone again for 10 s: the whole budget
        Assert.True(third!.IsAcquired);
        Assert.Equal(200, admission.Statistics(Noisy)!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task Past_its_waiting_cap_a_workspace_is_refused_at_once()
    {
        using var admission = Admission(inFlight: 1000, waiting: 1000);
        using var running = await admission.EnterAsync(Request(Noisy, 1000));
        var waiting = admission.EnterAsync(Request(Noisy, 1000)).AsTask();

        await Assert.ThrowsAsync<IngestShareExceededException>(() => admission.EnterAsync(Request(Noisy, 1)).AsTask());
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task A_body_larger_than_the_budget_or_of_unknown_length_runs_alone_and_is_never_refused_for_its_size()
    {
        using var admission = Admission(inFlight: 1000, waiting: 1000);
        using (var large = await admission.EnterAsync(Request(Noisy, 5_000_000)))
        {
            Assert.True(large!.IsAcquired);
            Assert.False(admission.EnterAsync(Request(Noisy, 1)).AsTask().IsCompleted);
        }

        using var chunked = await admission.EnterAsync(Request(Quiet, contentLength: null));
        Assert.True(chunked!.IsAcquired);
        Assert.False(admission.EnterAsync(Request(Quiet, 1)).AsTask().IsCompleted);
    }

    [Fact]
    public async Task At_zero_it_is_off()
    {
        using var admission = Admission(inFlight: 0);

        Assert.Null(await admission.EnterAsync(Request(Noisy, 5_000_000)));
    }
}

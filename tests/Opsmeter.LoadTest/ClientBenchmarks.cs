using System.Net;
using System.Text;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Opsmeter.Client;

namespace Opsmeter.LoadTest;

/// <summary>
/// What the .NET SDK costs the app that calls it: <see cref="IOpsmeterClient.Track"/> per call (time and bytes) with queues
/// of different sizes, full so that each call also drops the oldest event (the worst case), against the ceiling of a bare
/// write into the same kind of channel; and what <c>UseOpsmeter()</c> and <c>UseOpsmeterPolicy()</c> add to a chat call,
/// against the inner client called directly. Nothing is sent: the client's sender is not started, and the policy is
/// answered once by an in-memory handler and then read from the client's cache, as in steady state.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
#pragma warning disable CA1001 // BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes what [GlobalSetup] made
public class ClientBenchmarks
#pragma warning restore CA1001
{
    private static readonly OpsmeterEvent Usage = new() { Provider = "openai", Model = "gpt-4o-mini", InputTokens = 1200, OutputTokens = 80 };
    private static readonly List<ChatMessage> Messages = [new(ChatRole.User, "hello")];
    private static readonly ChatOptions Ask = new() { ModelId = "gpt-4o" };

    private ServiceProvider services = null!;
    private OpsmeterClient client = null!;
    private Channel<OpsmeterEvent> bare = null!;
    private AnsweringChatClient inner = null!;
    private IChatClient recorded = null!;
    private IChatClient governed = null!;

    [Params(1_000, 100_000)]
    public int QueueCapacity { get; set; }

    public static int Run(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15))
            .AddColumn(StatisticColumn.Median, StatisticColumn.P95)
            .WithOptions(ConfigOptions.JoinSummary);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(ClientBenchmarks)]).Run(args.Length > 0 ? args : ["--filter", "*"], config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var options = new OpsmeterOptions { BaseUrl = new Uri("http://opsmeter.invalid"), ApiKey = "om_benchmark_0123456789abcdef", MaxQueuedEvents = QueueCapacity };
        services = new ServiceCollection()
            .AddSingleton<IOptions<OpsmeterOptions>>(Microsoft.Extensions.Options.Options.Create(options))
            .AddHttpClient(OpsmeterClient.HttpClientName, c => c.BaseAddress = options.BaseUrl)
            .ConfigurePrimaryHttpMessageHandler(() => new AllowingPolicy())
            .Services.BuildServiceProvider();
        client = new OpsmeterClient(services.GetRequiredService<IHttpClientFactory>(), Microsoft.Extensions.Options.Options.Create(options),
            TimeProvider.System, NullLogger<OpsmeterClient>.Instance, start: false);
        bare = Channel.CreateBounded<OpsmeterEvent>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => { });
        for (var i = 0; i < QueueCapacity; i++)
        {
            client.Track(Usage);
            bare.Writer.TryWrite(Usage);
        }

        inner = new AnsweringChatClient();
        recorded = new ChatClientBuilder(inner).UseOpsmeter(client).Build();
        governed = new ChatClientBuilder(inner).UseOpsmeterPolicy(opsmeter: client).UseOpsmeter(client).Build();
        await governed.GetResponseAsync(Messages, Ask); // the policy's answer is cached from here on
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await client.DisposeAsync();
        await services.DisposeAsync();
        inner.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Track")]
    public bool ChannelWrite() => bare.Writer.TryWrite(Usage with { ExternalRequestId = null });

    [Benchmark, BenchmarkCategory("Track")]
    public void Track() => client.Track(Usage);

    [Benchmark(Baseline = true), BenchmarkCategory("Chat call")]
    public Task<ChatResponse> InnerClient() => inner.GetResponseAsync(Messages, Ask);

    [Benchmark, BenchmarkCategory("Chat call")]
    public Task<ChatResponse> WithUseOpsmeter() => recorded.GetResponseAsync(Messages, Ask);

    /// <summary>The policy for this call is in the client's cache (as in steady state: it is asked once per ttlSeconds).</summary>
    [Benchmark, BenchmarkCategory("Chat call")]
    public Task<ChatResponse> WithPolicyAndUseOpsmeter() => governed.GetResponseAsync(Messages, Ask);

    /// <summary>A provider that answers at once with usage, as a real one would after the network.</summary>
    private sealed class AnsweringChatClient : IChatClient
    {
        private readonly ChatResponse answer = new(new ChatMessage(ChatRole.Assistant, "hi"))
        {
            ModelId = "gpt-4o-2024-08-06",
            Usage = new UsageDetails { InputTokenCount = 1200, OutputTokenCount = 80, TotalTokenCount = 1280 },
        };

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(answer);

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", null, "gpt-4o") : null;

        public void Dispose()
        {
        }
    }

    /// <summary>Answers <c>/v1/policy</c> with allow for an hour; nothing else is asked of it.</summary>
    private sealed class AllowingPolicy : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"action":"allow","reasons":[],"maxOutputTokens":null,"fallbackModel":null,"retryAfterSeconds":null,"mode":"enforce","ttlSeconds":3600,"budgets":[]}""",
                    Encoding.UTF8, "application/json"),
            });
    }
}

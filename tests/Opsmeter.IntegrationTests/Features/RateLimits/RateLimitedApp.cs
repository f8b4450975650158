using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Features.RateLimits;

/// <summary>
/// An app with tiny limits whose refills never come during a test: a key may send 5 requests at once and then one every
/// 1,000 s; an address may post 3 password forms and present 3 unknown keys an hour. So "the 6th is refused" holds
/// however slow the machine, with no clock to fake (the limiters replenish on their own timers).
/// </summary>
public sealed class RateLimitedApp : IAsyncLifetime
{
    public RateLimitedApp() => App = new(new Dictionary<string, string>
    {
        ["Opsmeter:RateLimits:PerKeyPerSecond"] = "0.001",
        ["Opsmeter:RateLimits:Burst"] = "5",
        ["Opsmeter:RateLimits:SignInPostsPerAddress"] = "3",
        ["Opsmeter:RateLimits:UnknownKeysPerAddress"] = "3",
        ["Opsmeter:RateLimits:AddressWindowSeconds"] = "3600",
    }, services => services.ConfigureDbContext<OpsmeterDbContext>(o => o.AddInterceptors(KeyLookups)));

    internal OpsmeterApp App { get; }

    /// <summary>The database commands that read the api_keys table, as they are sent to PostgreSQL.</summary>
    internal ApiKeyQueryCounter KeyLookups { get; } = new();

    public Task InitializeAsync() => App.InitializeAsync();

    public Task DisposeAsync() => App.DisposeAsync();

    /// <summary>
    /// A client whose connections come from <paramref name="source"/> (any 127.x.y.z is this machine), so that the
    /// server sees another remote address, as it would another client's.
    /// </summary>
    internal static HttpClient ClientFrom(OpsmeterApp app, string source, string? apiKey = null)
    {
        using var probe = app.CreateClient();
        var port = probe.BaseAddress!.Port;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new HttpClient(handler) { BaseAddress = probe.BaseAddress };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }

        return client;
    }
}

internal sealed class ApiKeyQueryCounter : DbCommandInterceptor
{
    private int count;

    public int Count => Volatile.Read(ref count);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains("FROM api_keys", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref count);
        }

        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

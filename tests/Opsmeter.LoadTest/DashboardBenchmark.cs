using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Opsmeter.LoadTest;

/// <summary>
/// Page and <c>/v1/metrics</c> timings over a large workspace: generates the data (<see cref="DashboardData"/>),
/// signs in as a person would, and requests each page repeatedly, one at a time, reporting p50 and p95.
/// </summary>
internal static partial class DashboardBenchmark
{
    private const string ApiKey = "om_dashboard_0123456789abcdefghijklm";
    private const string Email = "bench@example.test";
    private const string Password = "benchmark passphrase";

    private static readonly string[] Pages =
    [
        "/Dashboard?range=90d", "/Dashboard?range=7d", "/Dashboard?range=24h",
        "/Dashboard/Breakdown/endpointTag?range=90d", "/Dashboard/Breakdown/promptVersion?range=90d", "/Dashboard/Breakdown/model?range=90d",
        "/Dashboard/Breakdown/userId?range=90d", "/Dashboard/Breakdown/tenantId?range=90d",
        "/Dashboard/Events?range=90d", "/Dashboard/Events?range=90d&model=gpt-4o&page=20",
        "/v1/metrics?groupBy=model&range=90d", "/v1/metrics?groupBy=day&range=90d", "/v1/metrics?groupBy=userId&range=90d",
    ];

    public static async Task<int> RunAsync(Options options, long events, int days, int samples)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: false);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Opsmeter__Bootstrap__AdminEmail"] = Email,
            ["Opsmeter__Bootstrap__AdminPassword"] = Password,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        var (server, address) = await OpsmeterProcess.StartAsync(environment);
        await using var _ = server;
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        await using (var find = db.CreateCommand("SELECT id FROM workspaces WHERE name = 'default'"))
        {
            var workspaceId = (Guid)(await find.ExecuteScalarAsync())!;
            Console.Error.WriteLine($"Generating {events:N0} events over {days} days…");
            await DashboardData.GenerateAsync(db, workspaceId, events, days, TimeProvider.System);
        }

        using var client = await SignedInClientAsync(address);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{events:N0} events over {days} days in one workspace; {samples} sequential requests per page after 2 warm-ups; {MachineInfo.Describe()}.");
        report.AppendLine();
        report.AppendLine("| page | p50 ms | p95 ms | max ms |");
        report.AppendLine("|---|---:|---:|---:|");
        foreach (var page in Pages)
        {
            var times = new List<double>();
            for (var i = 0; i < samples + 2; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(page);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"{page} answered {(int)response.StatusCode}");
                }

                await response.Content.ReadAsByteArrayAsync();
                if (i >= 2)
                {
                    times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            times.Sort();
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| `{page}` | {times[times.Count / 2]:0} | {times[(int)Math.Ceiling(times.Count * 0.95) - 1]:0} | {times[^1]:0} |");
            Console.Error.WriteLine($"  {page}: p95 {times[(int)Math.Ceiling(times.Count * 0.95) - 1]:0} ms");
        }

        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report.ToString());
        }

        return 0;
    }

    private static async Task<HttpClient> SignedInClientAsync(Uri address)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        var form = await client.GetStringAsync("/account/signin");
        var token = WebUtility.HtmlDecode(Token().Match(form).Groups[1].Value);
        using var signIn = await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Form.Email"] = Email, ["Form.Password"] = Password, ["__RequestVerificationToken"] = token,
        }));
        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Areas.Dashboard;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Security;

/// <summary>
/// Issue 19's hostile-input suite for the dashboard and account forms: every Razor Pages POST handler has a valid example
/// in <see cref="HostileForms"/>, each example answers as documented there (so that the generated bad posts start from a
/// post the handler accepts), and thousands of bad posts made from them answer no 5xx, refuse what must be refused, and
/// change no row unless the form says it saved. Run: <c>./test.sh --filter FullyQualifiedName~HostileForm</c>.
/// </summary>
[Collection(SharedApp.Name)]
public sealed partial class HostileFormTests(OpsmeterApp app)
{
    private const int Parallelism = 4;

    [Fact]
    public void Every_form_handler_has_generated_cases()
    {
        var handlers = typeof(DashboardPageModel).Assembly.GetTypes()
            .Where(t => typeof(PageModel).IsAssignableFrom(t) && !t.IsAbstract)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => m.Name.StartsWith("OnPost", StringComparison.Ordinal))
                .Select(m => $"{t.Namespace!["Opsmeter.Web.".Length..]}.{t.Name}.{m.Name}"))
            .ToHashSet();
        var examples = HostileForms.All.Select(e => e.Handler).ToList();

        Assert.True(handlers.Count > 30, $"only {handlers.Count} handlers found");
        Assert.Empty(handlers.Except(examples));
        Assert.Empty(examples.Except(handlers)); // an example for a handler the app no longer has
        Assert.Equal(examples.Count, examples.Distinct().Count());
    }

    [Fact]
    public async Task The_valid_form_examples_answer_as_documented()
    {
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(HostileForms.All, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (example, _) =>
        {
            using var session = await Session.StartAsync(app, example);
            var valid = session.Cases(example).First();
            var (status, html) = await session.PostAsync(valid);
            if (status != example.Valid || (example.SavedMarker is { } marker && !html.Contains(marker, StringComparison.Ordinal)))
            {
                failures.Add($"{example.Handler}: {status} {html[..Math.Min(html.Length, 300)]}");
            }
        });

        Assert.True(failures.IsEmpty, string.Join("\n", failures));
    }

    [Fact]
    public async Task Thousands_of_hostile_form_posts_are_refused_or_shown_again_write_nothing_and_leave_the_app_healthy()
    {
        var total = 0;
        var failures = new ConcurrentBag<string>();
        var timer = System.Diagnostics.Stopwatch.StartNew();
        await Parallel.ForEachAsync(HostileForms.All, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (example, _) =>
        {
            var session = await Session.StartAsync(app, example);
            try
            {
                // Cases are made from this session's token; after a success that ends a session (sign-out, delete) the next
                // case gets a fresh one. What one case leaves is what the next starts from: one count between two posts.
                var cases = session.Cases(example).ToList();
                Interlocked.Add(ref total, cases.Count);
                var counts = await session.CountRowsAsync();
                for (var i = 0; i < cases.Count; i++)
                {
                    var c = cases[i];
                    int status;
                    string html;
                    try
                    {
                        (status, html) = await session.PostAsync(c);
                    }
                    catch (HttpRequestException e)
                    {
                        failures.Add($"broken response ({e.InnerException?.Message ?? e.Message}) for {c}");
                        continue;
                    }

                    var saved = status == 302 || (status == 200 && example.SavedMarker is { } marker && html.Contains(marker, StringComparison.Ordinal));
                    var after = await session.CountRowsAsync();
                    if (status >= 500 || (c.MustRefuse && status is < 400 or >= 500))
                    {
                        failures.Add($"{status} for {c}\n  → {html[..Math.Min(html.Length, 300)]}");
                    }
                    else if (!saved && Changes(counts, after) is { Length: > 0 } changed)
                    {
                        failures.Add($"{status} (not saved) for {c} changed {changed}");
                    }

                    counts = after;
                    if (example.Fresh && saved && i + 1 < cases.Count)
                    {
                        session.Dispose();
                        session = await Session.StartAsync(app, example);
                        var next = session.Cases(example).ToList();
                        cases = [.. cases.Take(i + 1), .. next.Skip(i + 1)];
                        counts = await session.CountRowsAsync();
                    }
                }
            }
            finally
            {
                session.Dispose();
            }
        });
        Console.WriteLine($"{total} hostile form posts sent in {timer.Elapsed}");

        Assert.True(total >= 2_000, $"only {total} cases");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {total} cases failed, e.g.:\n" + string.Join("\n", failures.Take(15)));
        using var client = app.CreateClient();
        using var health = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var workspace = await app.CreateWorkspaceAsync(ApiKeyScopes.All);
        workspace.Client.Dispose();
        using var owner = await DashboardUser.SignedInAsync(app, workspace.Id);
        var (page, _) = await owner.GetAsync("/Dashboard/Keys");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    private static string Changes(Dictionary<string, long> before, Dictionary<string, long> after) =>
        string.Join(", ", after.Keys.Concat(before.Keys).Distinct()
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Select(k => $"{k} {before.GetValueOrDefault(k)}→{after.GetValueOrDefault(k)}"));

    /// <summary>A form's workspace, its person's session (or an anonymous one), the filled placeholders and the antiforgery token, fetched once.</summary>
    private sealed partial class Session : IDisposable
    {
        private readonly OpsmeterApp app;
        private readonly DashboardUser user;
        private readonly Guid workspace;
        private readonly Guid person;
        private readonly string invitee;
        private readonly Dictionary<string, string> values;
        private readonly string token;
        private readonly bool addsGlobalPrices;
        private static string? countSql;

        private Session(OpsmeterApp app, DashboardUser user, Guid workspace, Guid person, string invitee, Dictionary<string, string> values, string token,
            bool addsGlobalPrices)
        {
            this.addsGlobalPrices = addsGlobalPrices;
            this.app = app;
            this.user = user;
            this.workspace = workspace;
            this.person = person;
            this.invitee = invitee;
            this.values = values;
            this.token = token;
        }

        public static async Task<Session> StartAsync(OpsmeterApp app, FormExample example)
        {
            var ws = await app.CreateWorkspaceAsync(ApiKeyScopes.All);
            var name = await app.WithDbAsync(db => Task.FromResult(db.Workspaces.Single(w => w.Id == ws.Id).Name));
            var values = new Dictionary<string, string> { ["workspace"] = ws.Id.ToString(), ["name"] = name };
            if (example.Action.Contains("{budget}", StringComparison.Ordinal))
            {
                using var created = await ws.Client.PostAsync("/v1/budgets", new StringContent(HostileRoutes.Budget, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                values["budget"] = (await created.Content.ReadFromJsonAsync<IdOnly>())!.Id.ToString();
            }

            ws.Client.Dispose();
            var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id, WorkspaceRoles.Owner, example.As == FormUser.InstanceAdmin);
            var owner = await DashboardUser.SignInAsync(app, email, password);
            var invitee = $"invitee-{Guid.NewGuid():N}@hostile.test";
            if (example.Action.Contains("{invite}", StringComparison.Ordinal))
            {
                values["invite"] = (await owner.InviteAsync(invitee)).Split('/')[^1].Split('?')[0];
            }

            var user = owner;
            if (example.As == FormUser.Anonymous)
            {
                owner.Dispose();
                user = DashboardUser.For(app);
            }

            var (_, html) = await user.GetAsync(example.As == FormUser.Anonymous ? "/account/signin" : "/Dashboard/Keys");
            var match = Token().Match(html);
            Assert.True(match.Success, $"no antiforgery token for {example.Handler}");
            var person = await app.WithDbAsync(db => Task.FromResult(db.Users.Single(u => u.Email == email).Id));
            return new(app, user, ws.Id, person, invitee, values, WebUtility.HtmlDecode(match.Groups[1].Value),
                example.Fields.Keys.Any(k => k.StartsWith("GlobalForm.", StringComparison.Ordinal)));
        }

        public IEnumerable<FormCase> Cases(FormExample example)
        {
            var (action, fields) = HostileForms.Fill(example, values);
            return HostileForms.For(example with { Action = action }, fields, token, HostileForms.Unknown);
        }

        public async Task<(int Status, string Html)> PostAsync(FormCase c)
        {
            using var content = new StringContent(c.Body, Encoding.UTF8, c.ContentType);
            content.Headers.ContentType!.CharSet = null;
            using var response = await user.Client.PostAsync(c.Example.Action, content);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        /// <summary>
        /// Rows per table of the workspace (every table with a workspace_id, audit_log among them), the person's memberships
        /// (a new workspace), the invitee's account, and, for the admin's global price form, the global prices it may add.
        /// </summary>
        public async Task<Dictionary<string, long>> CountRowsAsync()
        {
            await using var connection = new NpgsqlConnection(app.ConnectionString);
            await connection.OpenAsync();
            var sql = countSql ??= await CountSqlAsync(connection);
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("workspace", workspace);
            command.Parameters.AddWithValue("person", person);
            command.Parameters.AddWithValue("invitee", invitee);
            command.Parameters.AddWithValue("provider", HostileForms.GlobalProvider);
            command.Parameters.AddWithValue("model", HostileForms.GlobalModel);
            await using var rows = await command.ExecuteReaderAsync();
            var counts = new Dictionary<string, long>();
            while (await rows.ReadAsync())
            {
                counts[rows.GetString(0)] = rows.GetInt64(1);
            }

            // Global rows are everyone's: only the form that adds them counts them (others run alongside it).
            if (!addsGlobalPrices)
            {
                counts.Remove(GlobalPrices);
            }

            return counts;
        }

        private const string GlobalPrices = "global hostile prices";

        /// <summary>The counting query, over the tables the schema has (read once: the catalog query is the slow part).</summary>
        private static async Task<string> CountSqlAsync(NpgsqlConnection connection)
        {
            var tables = new List<string>();
            await using (var list = new NpgsqlCommand("""
                SELECT c.table_name FROM information_schema.columns c JOIN pg_class t ON t.relname = c.table_name AND NOT t.relispartition
                WHERE c.table_schema = 'public' AND c.column_name = 'workspace_id' ORDER BY 1
                """, connection))
            await using (var reader = await list.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }

            return string.Join(" UNION ALL ", tables.Select(t => $"SELECT '{t}', count(*) FROM \"{t}\" WHERE workspace_id = @workspace").Concat(
            [
                "SELECT 'memberships of the person', count(*) FROM workspace_members WHERE user_id = @person",
                "SELECT 'workspace settings', count(*) FROM workspaces WHERE id = @workspace AND monthly_request_quota IS NOT NULL",
                "SELECT 'invitee accounts', count(*) FROM users WHERE normalized_email = upper(@invitee)",
                $"SELECT '{GlobalPrices}', count(*) FROM model_prices WHERE workspace_id IS NULL AND (provider = @provider OR model = @model)",
            ]));
        }

        public void Dispose() => user.Dispose();

        [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
        private static partial Regex Token();
    }

    private sealed record IdOnly(Guid Id);
}

namespace Opsmeter.IntegrationTests.Security;

/// <summary>Who posts a form: a workspace owner, an owner who is also an instance administrator, or nobody signed in.</summary>
internal enum FormUser
{
    Owner,
    InstanceAdmin,
    Anonymous,
}

/// <summary>
/// One valid post per Razor Pages POST handler: the starting point that <see cref="HostileForms"/> mutates.
/// <see cref="Handler"/> names the handler method as <c>Every_form_handler_has_generated_cases</c> finds it by reflection
/// ("Areas.Dashboard.Pages.Keys.IndexModel.OnPostCreateAsync"), so a handler the app gains without an example here fails it.
/// Placeholders, filled per workspace: <c>{workspace}</c> (its id), <c>{name}</c> (its name), <c>{budget}</c> (a budget of it),
/// <c>{invite}</c> (the token of an open invitation to it).
/// </summary>
/// <param name="Handler">The handler method, as reflection names it.</param>
/// <param name="Action">Where the form posts (path and query, as the page's form does).</param>
/// <param name="Fields">The valid fields (without the antiforgery token).</param>
/// <param name="Valid">The status the valid post answers: 302 (saved, or a flash message), 200 (the page again), or a 4xx.</param>
/// <param name="SavedMarker">For a form that answers a save with the page itself (200), what that page shows only after a save.</param>
/// <param name="As">Who posts.</param>
/// <param name="AnyWorkspace">The handler takes a post for any workspace (<c>[AnyWorkspace]</c>): a foreign workspaceId is no refusal.</param>
/// <param name="Fresh">A success ends the session or the workspace (sign-out, delete): every case gets a new workspace and person.</param>
/// <param name="FewCases">The handler does heavy work on a valid post (demo data): only the whole-form cases.</param>
/// <param name="NoToken">The page takes posts without an antiforgery token by design (the status page, which error pages re-execute
/// for any method and which changes nothing): a post without one is no refusal.</param>
internal sealed record FormExample(string Handler, string Action, Dictionary<string, string> Fields, int Valid = 302, string? SavedMarker = null,
    FormUser As = FormUser.Owner, bool AnyWorkspace = false, bool Fresh = false, bool FewCases = false, bool NoToken = false)
{
    public bool Dashboard => Action.StartsWith("/Dashboard", StringComparison.Ordinal);
}

/// <summary>One bad form post: the raw urlencoded body (so that invalid escapes and UTF-8 reach the server as sent).</summary>
internal sealed record FormCase(FormExample Example, string What, string Body, string ContentType, bool MustRefuse)
{
    public override string ToString() => $"{Example.Handler} [{What}] {Example.Action} {Body[..Math.Min(Body.Length, 300)]}" +
        (Body.Length > 300 ? $"… ({Body.Length} chars)" : "");
}

/// <summary>
/// The dashboard and account forms, and the bad posts made of them: each field in turn over-long, with NUL, invalid UTF-8
/// or a bad escape, numbers that are no numbers or beyond int64 and decimal, extreme and impossible dates, unknown options,
/// script text, removed, or sent twice; and whole-form mischief (no or a bogus antiforgery token, another workspace's id,
/// JSON instead of a form, hundreds of unknown fields, a 1 MB value). Deterministic.
/// </summary>
internal static class HostileForms
{
    public const string Unknown = HostileRoutes.Unknown;
    public const string TokenField = "__RequestVerificationToken";

    /// <summary>Marks what the admin's global price form may add, so that only its rows are counted (and no real model is repriced).</summary>
    public const string GlobalProvider = "hostile-provider";

    public const string GlobalModel = "hostile-model";

    private static Dictionary<string, string> F(params string[] pairs) =>
        Enumerable.Range(0, pairs.Length / 2).ToDictionary(i => pairs[2 * i], i => pairs[2 * i + 1]);

    private static readonly string[] Price =
    [
        "Provider", "openai", "Model", "gpt-4o-mini", "InputPerMillionUsd", "0.15", "OutputPerMillionUsd", "0.6", "CachedInputPerMillionUsd", "0.075",
        "CacheWritePerMillionUsd", "", "EffectiveFromUtc", "2026-01-01T00:00", "Reason", "contract 2026",
    ];

    private static string[] Prefixed(string prefix, string[] pairs) => [.. pairs.Select((p, i) => i % 2 == 0 ? prefix + "." + p : p)];

    public static IReadOnlyList<FormExample> All { get; } =
    [
        new("Areas.Dashboard.Pages.Incidents.IndexModel.OnPostAcknowledgeAsync", "/Dashboard/Incidents?handler=Acknowledge",
            F("workspaceId", "{workspace}", "id", Unknown, "show", "active", "note", "looking"), Valid: 404),
        new("Areas.Dashboard.Pages.Incidents.IndexModel.OnPostResolveAsync", "/Dashboard/Incidents?handler=Resolve",
            F("workspaceId", "{workspace}", "id", Unknown, "show", "all", "note", "fixed"), Valid: 404),
        new("Areas.Dashboard.Pages.Alerts.IndexModel.OnPostCreateAsync", "/Dashboard/Alerts?handler=Create",
            F("workspaceId", "{workspace}", "Form.Name", "#ai-costs", "Form.Url", "https://93.184.215.14/opsmeter", "Form.Format", "generic"),
            Valid: 200, SavedMarker: "id=\"new-secret\""),
        new("Areas.Dashboard.Pages.Alerts.IndexModel.OnPostDeleteAsync", "/Dashboard/Alerts?handler=Delete", F("workspaceId", "{workspace}", "id", Unknown)),
        new("Areas.Dashboard.Pages.Alerts.IndexModel.OnPostTestAsync", "/Dashboard/Alerts?handler=Test", F("workspaceId", "{workspace}", "id", Unknown)),
        new("Areas.Dashboard.Pages.Alerts.ChannelModel.OnPostAsync", $"/Dashboard/Alerts/Channel?id={Unknown}",
            F("workspaceId", "{workspace}", "Form.Name", "#ai-costs", "Form.Url", "https://93.184.215.14/opsmeter", "Form.Format", "slack"), Valid: 404),
        new("Areas.Dashboard.Pages.Budgets.IndexModel.OnPostEvaluateAsync", "/Dashboard/Budgets?handler=Evaluate", F("workspaceId", "{workspace}")),
        new("Areas.Dashboard.Pages.Budgets.EditModel.OnPostAsync", "/Dashboard/Budgets/Edit?id={budget}",
            F("workspaceId", "{workspace}", "Form.Name", "support monthly", "Form.ScopeDimension", "endpointTag", "Form.ScopeValue", "support.reply",
                "Form.Period", "monthly", "Form.TimeZone", "Europe/Berlin", "Form.LimitUsd", "100.50", "Form.WarningThresholds", "50, 80",
                "Form.OnExceeded", "clamp", "Form.MaxOutputTokens", "256", "Form.FallbackModel", "", "Form.DataModes", "real")),
        new("Areas.Dashboard.Pages.Budgets.EditModel.OnPostDeleteAsync", "/Dashboard/Budgets/Edit?id={budget}&handler=Delete",
            F("workspaceId", "{workspace}")),
        new("Areas.Dashboard.Pages.Settings.IndexModel.OnPostRetentionAsync", "/Dashboard/Settings?handler=Retention",
            F("workspaceId", "{workspace}", "Retention.RawRetentionDays", "45", "Retention.RollupRetentionDays", "400")),
        new("Areas.Dashboard.Pages.Settings.IndexModel.OnPostPolicyModeAsync", "/Dashboard/Settings?handler=PolicyMode",
            F("workspaceId", "{workspace}", "mode", "observe")),
        new("Areas.Dashboard.Pages.Settings.IndexModel.OnPostDemoAsync", "/Dashboard/Settings?handler=Demo", F("workspaceId", "{workspace}"),
            FewCases: true),
        new("Areas.Dashboard.Pages.Settings.IndexModel.OnPostDeleteAsync", "/Dashboard/Settings?handler=Delete",
            F("workspaceId", "{workspace}", "dataMode", "test")),
        new("Areas.Dashboard.Pages.Settings.WorkspaceModel.OnPostRenameAsync", "/Dashboard/Settings/Workspace?handler=Rename",
            F("workspaceId", "{workspace}", "Name", "{name}-renamed")),
        new("Areas.Dashboard.Pages.Settings.WorkspaceModel.OnPostDeleteAsync", "/Dashboard/Settings/Workspace?handler=Delete",
            F("workspaceId", "{workspace}", "Confirmation", "{name}"), Fresh: true),
        new("Areas.Dashboard.Pages.Prices.IndexModel.OnPostAddAsync", "/Dashboard/Prices?handler=Add",
            F(["workspaceId", "{workspace}", .. Prefixed("Form", Price)])),
        new("Areas.Dashboard.Pages.Prices.IndexModel.OnPostAddGlobalAsync", "/Dashboard/Prices?handler=AddGlobal",
            F(["workspaceId", "{workspace}", .. Prefixed("GlobalForm", ["Provider", GlobalProvider, "Model", GlobalModel, .. Price[4..]])]), As: FormUser.InstanceAdmin),
        new("Areas.Dashboard.Pages.Prices.IndexModel.OnPostRetireAsync", "/Dashboard/Prices?handler=Retire",
            F("workspaceId", "{workspace}", "id", Unknown, "reason", "typo in the price")),
        new("Areas.Dashboard.Pages.Members.IndexModel.OnPostInviteAsync", "/Dashboard/Members?handler=Invite",
            F("workspaceId", "{workspace}", "Form.Email", "new-{workspace}@hostile.test", "Form.Role", "member"), Valid: 200,
            SavedMarker: "id=\"invite-link\""),
        new("Areas.Dashboard.Pages.Members.IndexModel.OnPostRevokeAsync", "/Dashboard/Members?handler=Revoke", F("workspaceId", "{workspace}", "id", Unknown)),
        new("Areas.Dashboard.Pages.Members.IndexModel.OnPostChangeAsync", "/Dashboard/Members?handler=Change",
            F("workspaceId", "{workspace}", "userId", Unknown, "role", "admin")),
        new("Areas.Dashboard.Pages.WorkspaceModel.OnPost", "/Dashboard/Workspace", F("workspaceId", "{workspace}", "id", "{workspace}"),
            AnyWorkspace: true),
        new("Areas.Dashboard.Pages.Workspaces.IndexModel.OnPostCreateAsync", "/Dashboard/Workspaces?handler=Create",
            F("workspaceId", "{workspace}", "Form.Name", "{name}-second"), As: FormUser.InstanceAdmin, AnyWorkspace: true),
        new("Areas.Dashboard.Pages.Workspaces.IndexModel.OnPostGrantAsync", "/Dashboard/Workspaces?handler=Grant",
            F("workspaceId", "{workspace}", "email", "nobody-{workspace}@hostile.test"), As: FormUser.InstanceAdmin, AnyWorkspace: true),
        new("Areas.Dashboard.Pages.Workspaces.IndexModel.OnPostRevokeAsync", "/Dashboard/Workspaces?handler=Revoke",
            F("workspaceId", "{workspace}", "userId", Unknown), As: FormUser.InstanceAdmin, AnyWorkspace: true),
        new("Areas.Dashboard.Pages.Workspaces.IndexModel.OnPostQuotaAsync", "/Dashboard/Workspaces?handler=Quota",
            F("workspaceId", "{workspace}", "id", "{workspace}", "quota", "1000000"), As: FormUser.InstanceAdmin, AnyWorkspace: true),
        new("Areas.Dashboard.Pages.Keys.IndexModel.OnPostCreateAsync", "/Dashboard/Keys?handler=Create",
            F("workspaceId", "{workspace}", "Form.Name", "ci exporter", "Form.Scopes", "ingest"), Valid: 200, SavedMarker: "id=\"new-key\""),
        new("Areas.Dashboard.Pages.Keys.IndexModel.OnPostRevokeAsync", "/Dashboard/Keys?handler=Revoke", F("workspaceId", "{workspace}", "id", Unknown)),
        new("Pages.StatusModel.OnPost", "/status/404", F("code", "404"), Valid: 200, As: FormUser.Anonymous, NoToken: true),
        new("Pages.InviteModel.OnPostCreateAsync", "/invite/{invite}?handler=Create",
            F("Form.Password", "correct horse battery", "Form.ConfirmPassword", "correct horse battery"), As: FormUser.Anonymous),
        new("Pages.InviteModel.OnPostAcceptAsync", "/invite/{invite}?handler=Accept", F(), Valid: 403),
        new("Pages.SetupModel.OnPostAsync", "/setup",
            F("Form.Email", "owner@hostile.test", "Form.Password", "correct horse battery", "Form.Workspace", "default", "Form.Token", "x"),
            As: FormUser.Anonymous),
        new("Pages.Account.IndexModel.OnPostPasswordAsync", "/account?handler=Password",
            F("Form.CurrentPassword", "correct horse battery", "Form.NewPassword", "correct horse battery staple",
                "Form.ConfirmPassword", "correct horse battery staple")),
        new("Pages.Account.IndexModel.OnPostSignOutOthersAsync", "/account?handler=SignOutOthers", F()),
        new("Pages.Account.SignInModel.OnPostAsync", "/account/signin",
            F("ReturnUrl", "/Dashboard", "Form.Email", "nobody@hostile.test", "Form.Password", "correct horse battery", "Form.RememberMe", "true"),
            Valid: 200, As: FormUser.Anonymous),
        new("Pages.Account.SignOutModel.OnPostAsync", "/account/signout", F("returnUrl", "/account/signin"), Fresh: true),
    ];

    private static readonly string Long = new('x', 10_000);

    /// <summary>Values put in place of each field in turn, already urlencoded: some are valid for some fields, which is the point.</summary>
    private static readonly (string What, string Encoded)[] FieldValues =
    [
        ("empty", ""), ("x", "x"), ("negative", "-1"), ("zero", "0"), ("fraction", "1.5"), ("comma decimal", "1%2C5"), ("beyond int64", "99999999999999999999999"),
        ("beyond decimal", "79228162514264337593543950336"), ("exponent", "1e400"), ("NaN", "NaN"), ("min date", "0001-01-01T00%3A00"),
        ("max date", "9999-12-31T23%3A59"), ("impossible date", "2026-02-30T25%3A61"), ("unknown option", "zzz-unknown"), ("NUL", "a%00b"),
        ("invalid UTF-8", "%C3%28"), ("lone surrogate", "%ED%A0%80"), ("bad escape", "%ZZ"), ("newline", "a%0D%0Ab"), ("RTL override", "%E2%80%AE"),
        ("10k string", Long), ("script", Uri.EscapeDataString("<script>alert(1)</script>' OR 1=1 --")),
    ];

    /// <summary>
    /// The cases of one form, with its placeholders already filled and <paramref name="token"/> the session's antiforgery token.
    /// </summary>
    public static IEnumerable<FormCase> For(FormExample example, IReadOnlyDictionary<string, string> fields, string token, string otherWorkspace)
    {
        const string Form = "application/x-www-form-urlencoded";
        static string E(string s) => Uri.EscapeDataString(s);
        string Body(IEnumerable<(string Name, string Encoded)> pairs, bool withToken = true) =>
            string.Join('&', (withToken ? pairs.Append((TokenField, E(token))) : pairs).Select(p => E(p.Item1) + "=" + p.Item2));
        var valid = fields.Select(f => (Name: f.Key, Encoded: E(f.Value))).ToList();

        yield return new(example, "valid", Body(valid), Form, false);
        yield return new(example, "no antiforgery token", Body(valid, withToken: false), Form, !example.NoToken);
        yield return new(example, "bogus antiforgery token", Body(valid.Append((TokenField, "CfDJ8" + new string('A', 150))), withToken: false), Form, !example.NoToken);
        yield return new(example, "JSON instead of a form", "{\"" + TokenField + "\":\"" + token + "\"}", "application/json", !example.NoToken);
        if (example.Dashboard)
        {
            yield return new(example, "another workspace's form", Body(valid.Select(p => p.Name == "workspaceId" ? (p.Name, otherWorkspace) : p)), Form,
                !example.AnyWorkspace);
        }

        yield return new(example, "200 unknown fields", Body(valid.Concat(Enumerable.Range(0, 200).Select(i => ($"p{i}", $"v{i}")))), Form, false);
        yield return new(example with { Action = example.Action.Split('?')[0] + "?handler=zzz" }, "unknown handler", Body(valid), Form, false);
        if (example.FewCases)
        {
            yield break;
        }

        foreach (var (name, _) in valid)
        {
            foreach (var (what, encoded) in FieldValues)
            {
                yield return new(example, $"{name} = {what}", Body(valid.Select(p => p.Name == name ? (p.Name, encoded) : p)), Form, false);
            }

            yield return new(example, $"{name} removed", Body(valid.Where(p => p.Name != name)), Form, false);
            yield return new(example, $"{name} twice", Body(valid.Append((name, "zzz"))), Form, false);
        }

        if (valid.FirstOrDefault(p => p.Name != "workspaceId") is { Name: { } first })
        {
            yield return new(example, $"{first} = 1 MB", Body(valid.Select(p => p.Name == first ? (p.Name, new string('m', 1024 * 1024)) : p)), Form, false);
        }
    }

    /// <summary>The example's fields and action with its placeholders filled.</summary>
    public static (string Action, Dictionary<string, string> Fields) Fill(FormExample example, IReadOnlyDictionary<string, string> values)
    {
        string Sub(string s) => values.Aggregate(s, (text, v) => text.Replace("{" + v.Key + "}", v.Value, StringComparison.Ordinal));
        return (Sub(example.Action), example.Fields.ToDictionary(f => f.Key, f => Sub(f.Value)));
    }
}

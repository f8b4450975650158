using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>Whatever a client sends, the answer is a 4xx problem details, never a 5xx, and nothing is half-written.</summary>
[Collection(SharedApp.Name)]
public sealed class HostileInputTests(OpsmeterApp app)
{
    private const string Valid = """{"externalRequestId":"h","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}""";

    public static TheoryData<string, string> Bodies => new()
    {
        { "truncated", """{"provider":"openai","model":""" },
        { "not json", "hello" },
        { "empty", "" },
        { "null", "null" },
        { "array", "[1,2,3]" },
        { "string tokens", Valid.Replace("\"inputTokens\":1", "\"inputTokens\":\"abc\"", StringComparison.Ordinal) },
        { "bool tokens", Valid.Replace("\"inputTokens\":1", "\"inputTokens\":true", StringComparison.Ordinal) },
        { "fractional tokens", Valid.Replace("\"inputTokens\":1", "\"inputTokens\":1.5", StringComparison.Ordinal) },
        { "number provider", Valid.Replace("\"provider\":\"openai\"", "\"provider\":5", StringComparison.Ordinal) },
        { "beyond int64", Valid.Replace("\"inputTokens\":1", "\"inputTokens\":99999999999999999999999", StringComparison.Ordinal) },
        { "beyond decimal", Valid.Replace("\"status\"", "\"costUsd\":1e400,\"status\"", StringComparison.Ordinal) },
        { "negative cost", Valid.Replace("\"status\"", "\"costUsd\":-1,\"status\"", StringComparison.Ordinal) },
        { "metadata array", Valid.Replace("\"status\"", "\"metadata\":[1],\"status\"", StringComparison.Ordinal) },
        { "metadata huge number", Valid.Replace("\"status\"", "\"metadata\":{\"n\":1e999},\"status\"", StringComparison.Ordinal) },
        { "deep nesting", Valid.Replace("\"status\"", "\"metadata\":" + string.Concat(Enumerable.Repeat("{\"a\":", 500)) + "1" + new string('}', 500) + ",\"status\"", StringComparison.Ordinal) },
        { "null provider", Valid.Replace("\"provider\":\"openai\"", "\"provider\":null", StringComparison.Ordinal) },
        { "null tokens", Valid.Replace("\"inputTokens\":1", "\"inputTokens\":null", StringComparison.Ordinal) },
        { "unknown status", Valid.Replace("\"success\"", "\"maybe\"", StringComparison.Ordinal) },
        { "unknown data mode", Valid.Replace("\"status\"", "\"dataMode\":\"prod\",\"status\"", StringComparison.Ordinal) },
        { "NUL in model", Valid.Replace("gpt-4o", "gpt\\u0000", StringComparison.Ordinal) },
        { "lone surrogate", Valid.Replace("gpt-4o", "\\ud800x", StringComparison.Ordinal) },
        { "long string", Valid.Replace("gpt-4o", new string('m', 60_000), StringComparison.Ordinal) },
        { "bad timestamp", Valid.Replace("\"status\"", "\"occurredAt\":\"yesterday\",\"status\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Single_ingest_answers_4xx_problem_details(string name, string body)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertRefused(response, ws.Id, name);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_hostile_batch_item_is_rejected_alone(string name, string body)
    {
        var ws = await app.CreateWorkspaceAsync();
        var batch = $$"""{"events":[{{Valid.Replace("\"h\"", "\"ok\"", StringComparison.Ordinal)}},{{(body.Length == 0 ? "\"\"" : body)}}]}""";

        var response = await ws.Client.PostAsync("/v1/ingest/batch", new StringContent(batch, Encoding.UTF8, "application/json"));

        // Either the item is rejected on its own (207) or, when it breaks the JSON itself, the whole body is (400).
        Assert.True(response.StatusCode is HttpStatusCode.MultiStatus or HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
        var stored = await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(response.StatusCode == HttpStatusCode.MultiStatus ? 1 : 0, stored);
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        var ws = await app.CreateWorkspaceAsync();
        var bytes = Encoding.UTF8.GetBytes(Valid.Replace("gpt-4o", "gpt-@@", StringComparison.Ordinal));
        var at = Array.IndexOf(bytes, (byte)'@');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await ws.Client.PostAsync("/v1/ingest", content);

        await AssertRefused(response, ws.Id, "invalid utf-8");
    }

    [Theory]
    [InlineData("/v1/ingest")]
    [InlineData("/v1/ingest/batch")]
    public async Task A_10_MB_body_is_413(string path)
    {
        var ws = await app.CreateWorkspaceAsync();
        var body = Valid.Replace("gpt-4o", new string('x', 10 * 1024 * 1024), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // The server answers 413 from the Content-Length alone; with 100-continue the client waits for
        // that answer instead of pushing 10 MB into a connection the server has already closed.
        request.Headers.ExpectContinue = true;

        var response = await ws.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertRefused(response, ws.Id, "10 MB");
    }

    private async Task AssertRefused(HttpResponseMessage response, Guid workspaceId, string name)
    {
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == workspaceId)));
    }
}

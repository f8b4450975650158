using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>The events every phase sends: telemetry-shaped, ~400 bytes, each with its own externalRequestId.</summary>
internal static class Payloads
{
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5-20250929", "gemini-2.5-flash", "my-finetune"];
    private static readonly string[] Providers = ["openai", "openai", "anthropic", "google", "openai"];
    private static readonly string[] Endpoints = ["support.reply", "search.summarize", "chat.answer", "mail.draft"];

    public static string Event(string runId, long n)
    {
        var i = (int)(n % Models.Length);
        var status = n % 50 == 0 ? "error" : "success";
        var beta = n % 2 == 0 ? "true" : "false";
        return "{\"externalRequestId\":\"" + runId + "-" + n + "\",\"provider\":\"" + Providers[i] + "\",\"model\":\"" + Models[i] +
               "\",\"endpointTag\":\"" + Endpoints[n % Endpoints.Length] + "\",\"promptVersion\":\"v" + (n % 7) +
               "\",\"userId\":\"user-" + (n % 5000) + "\",\"tenantId\":\"tenant-" + (n % 200) +
               "\",\"inputTokens\":" + (1000 + n % 3000) + ",\"cachedInputTokens\":" + (n % 500) +
               ",\"outputTokens\":" + (100 + n % 900) + ",\"latencyMs\":" + (200 + n % 2000) +
               ",\"status\":\"" + status + "\",\"environment\":\"prod\",\"metadata\":{\"team\":\"t" + (n % 9) + "\",\"beta\":" + beta + "}}";
    }

    public static string Batch(string runId, long first, int size)
    {
        var builder = new StringBuilder("{\"events\":[", size * 420);
        for (var k = 0; k < size; k++)
        {
            if (k > 0)
            {
                builder.Append(',');
            }

            builder.Append(Event(runId, first + k));
        }

        return builder.Append("]}").ToString();
    }
}

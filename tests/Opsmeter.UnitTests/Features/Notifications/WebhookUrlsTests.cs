using Opsmeter.Web.Features.Notifications;

namespace Opsmeter.UnitTests.Features.Notifications;

public sealed class WebhookUrlsTests
{
    [Theory]
    [InlineData("https://hooks.slack.com/services/T0001/B0002/abcdefghXy7Q", "https://hooks.slack.com/…Xy7Q")]
    [InlineData("  https://hooks.slack.com/services/T0001/B0002/abcdefghXy7Q  ", "https://hooks.slack.com/…Xy7Q")]
    [InlineData("http://example.test:8080/hook?token=s3cr3t-t0ken-AbCd", "http://example.test/…AbCd")]
    [InlineData("https://user:pa55word@example.test/receive/long-secret-9Zz1", "https://example.test/…9Zz1")]
    [InlineData("https://example.test/short", "https://example.test/…")]
    [InlineData("https://example.test", "https://example.test/…")]
    [InlineData("https://user:pa55word@example.test", "https://example.test/…")]
    [InlineData("https://[::1]:9000/incoming/webhook-0001", "https://[::1]/…0001")]
    [InlineData("not a url but long enough", "…ough")]
    [InlineData("short", "…")]
    public void Shows_scheme_host_and_the_last_four_characters_only(string url, string masked) =>
        Assert.Equal(masked, WebhookUrls.Mask(url));

    [Fact]
    public void A_mask_never_holds_more_than_four_characters_of_what_follows_the_host()
    {
        var url = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopXy7Q";

        var masked = WebhookUrls.Mask(url);

        Assert.DoesNotContain("services", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("T0001", masked, StringComparison.Ordinal);
        Assert.EndsWith("/…Xy7Q", masked, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_that_echoes_a_channel_url_its_path_or_another_url_is_masked()
    {
        const string Channel = "https://hooks.example.test/services/T0001/B0002/secretsecretXy7Q";
        var error = $"POST {Channel} failed; receiver said: no route /services/T0001/B0002/secretsecretXy7Q; see https://other.test/debug/token-123456";

        var masked = WebhookUrls.MaskIn(error, [Channel])!;

        Assert.DoesNotContain("secretsecret", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("token-123456", masked, StringComparison.Ordinal);
        Assert.Contains("https://hooks.example.test/…Xy7Q", masked, StringComparison.Ordinal);
        Assert.Contains("https://other.test/…3456", masked, StringComparison.Ordinal);
        Assert.Equal("HTTP 500 Internal Server Error", WebhookUrls.MaskIn("HTTP 500 Internal Server Error", [Channel]));
        Assert.Null(WebhookUrls.MaskIn(null, [Channel]));
    }
}

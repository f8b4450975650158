using Opsmeter.Web.Features.Quota;

namespace Opsmeter.UnitTests.Features.Quota;

public sealed class SetWorkspaceQuotaTests
{
    [Theory]
    [InlineData("1000", 1000L)]
    [InlineData(" 1,000,000 ", 1_000_000L)]
    [InlineData("1_000", 1000L)]
    [InlineData("1", 1L)]
    [InlineData("1000000000000", 1_000_000_000_000L)]
    [InlineData("", null)]
    [InlineData("  ", null)]
    [InlineData("None", null)]
    [InlineData(null, null)]
    public void A_whole_number_or_none_is_a_quota(string? text, long? expected)
    {
        Assert.True(SetWorkspaceQuota.TryParse(text, out var quota));
        Assert.Equal(expected, quota);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData("1e6")]
    [InlineData("1000000000001")]
    [InlineData("99999999999999999999999")]
    [InlineData("unlimited")]
    public void Anything_else_is_refused(string text) => Assert.False(SetWorkspaceQuota.TryParse(text, out _));
}

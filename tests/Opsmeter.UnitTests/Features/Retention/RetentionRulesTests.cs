using Microsoft.Extensions.Time.Testing;
using Opsmeter.Web.Features.Retention;

namespace Opsmeter.UnitTests.Features.Retention;

public sealed class RetentionRulesTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Raw_events_expire_exactly_their_retention_after_now()
    {
        var clock = new FakeTimeProvider(Noon);
        Assert.Equal(new DateTimeOffset(2026, 10, 29, 12, 0, 0, TimeSpan.Zero), RetentionRules.RawCutoff(clock.GetUtcNow(), 30));
        Assert.Equal(new DateTimeOffset(2026, 10, 22, 12, 0, 0, TimeSpan.Zero), RetentionRules.KeyCutoff(clock.GetUtcNow(), 30));
        Assert.Equal(new DateTimeOffset(2025, 10, 24, 12, 0, 0, TimeSpan.Zero), RetentionRules.RollupCutoff(clock.GetUtcNow(), 400));
    }

    [Fact]
    public void A_day_is_dropped_whole_only_once_its_last_instant_has_expired()
    {
        // At noon with 30 days, the cutoff is Oct 29 12:00: Oct 28 (ending at Oct 29 00:00) goes, Oct 29 (partly kept) stays.
        Assert.Equal(new DateOnly(2026, 10, 29), RetentionRules.DropPartitionsBefore(Noon, 30));
        // At midnight the cutoff is itself a day boundary: the day that ends there goes too.
        Assert.Equal(new DateOnly(2026, 10, 29), RetentionRules.DropPartitionsBefore(new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero), 30));
    }

    [Fact]
    public void Rollups_must_be_kept_at_least_as_long_as_raw_events()
    {
        var validator = new RetentionFormValidator();
        Assert.True(validator.Validate(new RetentionForm { RawRetentionDays = 30, RollupRetentionDays = 400 }).IsValid);
        Assert.False(validator.Validate(new RetentionForm { RawRetentionDays = 90, RollupRetentionDays = 60 }).IsValid);
        Assert.False(validator.Validate(new RetentionForm { RawRetentionDays = 0, RollupRetentionDays = 400 }).IsValid);
        Assert.False(validator.Validate(new RetentionForm { RawRetentionDays = 30, RollupRetentionDays = 4000 }).IsValid);
    }
}

using FluentValidation;

namespace Opsmeter.Web.Features.Retention;

/// <summary>
/// What a workspace keeps: raw events for <c>RawRetentionDays</c> (default 30), hourly rollups as long as its raw events
/// (they stand in only for partial days), daily rollups for <c>RollupRetentionDays</c> (default 400), idempotency keys a
/// week longer than raw events (a client retrying an old event still gets "duplicate").
/// </summary>
internal static class RetentionRules
{
    public const int DefaultRawDays = 30;
    public const int DefaultRollupDays = 400;
    public const int MaxDays = 3650;
    public const int KeyGraceDays = 7;

    /// <summary>Raw events (and hourly rollups) that occurred before this instant are expired.</summary>
    public static DateTimeOffset RawCutoff(DateTimeOffset now, int rawDays) => now - TimeSpan.FromDays(rawDays);

    public static DateTimeOffset RollupCutoff(DateTimeOffset now, int rollupDays) => now - TimeSpan.FromDays(rollupDays);

    /// <summary>Idempotency keys received before this instant are removed.</summary>
    public static DateTimeOffset KeyCutoff(DateTimeOffset now, int rawDays) => now - TimeSpan.FromDays(rawDays + KeyGraceDays);

    /// <summary>
    /// Daily partitions before this day hold only events expired for every workspace (the longest retention decides):
    /// they are dropped whole. Day D holds [D, D+1), all expired when D+1 is at or before the cutoff.
    /// </summary>
    public static DateOnly DropPartitionsBefore(DateTimeOffset now, int longestRawDays) =>
        DateOnly.FromDateTime(RawCutoff(now, longestRawDays).UtcDateTime);

}

/// <summary>The retention settings of a workspace, as the Settings page edits them.</summary>
public sealed class RetentionForm
{
    public int RawRetentionDays { get; set; } = RetentionRules.DefaultRawDays;
    public int RollupRetentionDays { get; set; } = RetentionRules.DefaultRollupDays;
}

internal sealed class RetentionFormValidator : AbstractValidator<RetentionForm>
{
    public RetentionFormValidator()
    {
        RuleFor(x => x.RawRetentionDays).InclusiveBetween(1, RetentionRules.MaxDays);
        RuleFor(x => x.RollupRetentionDays).InclusiveBetween(1, RetentionRules.MaxDays)
            .GreaterThanOrEqualTo(x => x.RawRetentionDays).WithMessage("Daily rollups must be kept at least as long as raw events.");
    }
}

using FluentValidation;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Budgets;

public sealed record BudgetScope(string? Dimension, string? Value);

/// <summary>The body of <c>POST /v1/budgets</c> and <c>PUT /v1/budgets/{id}</c> (docs/api.md "Budgets"); omitted fields take their defaults.</summary>
public sealed record BudgetRequest(
    string? Name, BudgetScope? Scope, string? Period, string? TimeZone, decimal? LimitUsd, decimal[]? WarningThresholds,
    string? OnExceeded, int? MaxOutputTokens, string? FallbackModel, string[]? DataModes)
{
    public static readonly decimal[] DefaultThresholds = [0.5m, 0.8m];
}

/// <summary>A budget as the API answers it.</summary>
public sealed record BudgetResponse(
    Guid Id, string Name, BudgetScope Scope, string Period, string TimeZone, decimal LimitUsd, decimal[] WarningThresholds,
    string OnExceeded, int? MaxOutputTokens, string? FallbackModel, string[] DataModes, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static BudgetResponse From(Budget b) => new(b.Id, b.Name,
        new BudgetScope(b.ScopeDimension, b.ScopeValue), b.Period, b.TimeZone, Pricing.Money.Normalize(b.LimitUsd),
        [.. b.WarningThresholds.Select(Pricing.Money.Normalize)], b.OnExceeded,
        b.MaxOutputTokens, b.FallbackModel, b.DataModes, b.CreatedAt, b.UpdatedAt);
}

internal sealed class BudgetRequestValidator : AbstractValidator<BudgetRequest>
{
    public static readonly string[] ExceededActions = ["warn", "clamp", "fallback", "queue", "block"];

    public BudgetRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(128);
        RuleFor(x => x.Scope!.Dimension).Must(d => d is null || BudgetRules.Dimensions.Contains(d))
            .OverridePropertyName("scope.dimension")
            .WithMessage($"scope.dimension must be one of: {string.Join(", ", BudgetRules.Dimensions)}.")
            .When(x => x.Scope is not null);
        RuleFor(x => x.Scope!.Value)
            .NotEmpty().WithMessage("scope.value is required for a budget on one dimension value.")
            .MaximumLength(128)
            .OverridePropertyName("scope.value")
            .When(x => x.Scope is { Dimension: { } d } && d != BudgetRules.Workspace);
        RuleFor(x => x.Period).Must(p => p is null || BudgetRules.Periods.Contains(p))
            .WithMessage($"period must be one of: {string.Join(", ", BudgetRules.Periods)}.");
        RuleFor(x => x.TimeZone).Must(z => z is null || BudgetRules.FindZone(z) is not null)
            .WithMessage("timeZone must be an IANA time zone name, such as Europe/Berlin.");
        // The columns keep 6 decimals for the limit and 4 for thresholds: more would be rounded away on save.
        RuleFor(x => x.LimitUsd).NotNull().GreaterThan(0).LessThan(1_000_000_000m)
            .Must(l => l is null || decimal.Round(l.Value, 6) == l.Value).WithMessage("limitUsd takes up to 6 decimals.");
        RuleFor(x => x.WarningThresholds).Must(t => t!.Length <= 10 && t.Distinct().Count() == t.Length)
            .WithMessage("warningThresholds takes up to 10 distinct fractions of the limit.")
            .When(x => x.WarningThresholds is not null);
        RuleForEach(x => x.WarningThresholds).ExclusiveBetween(0m, 1m)
            .WithMessage("Each warning threshold is a fraction of the limit, above 0 and below 1 (0.8 = 80 %).")
            .Must(t => decimal.Round(t, 4) == t).WithMessage("A warning threshold takes up to 4 decimals (0.3333 = 33.33 %).");
        RuleFor(x => x.OnExceeded).Must(a => a is null || ExceededActions.Contains(a))
            .WithMessage($"onExceeded must be one of: {string.Join(", ", ExceededActions)}.");
        RuleFor(x => x.MaxOutputTokens).NotNull().WithMessage("maxOutputTokens is required when onExceeded is clamp.")
            .When(x => x.OnExceeded == "clamp");
        RuleFor(x => x.MaxOutputTokens).InclusiveBetween(1, 10_000_000);
        RuleFor(x => x.FallbackModel).NotEmpty().WithMessage("fallbackModel is required when onExceeded is fallback.")
            .When(x => x.OnExceeded == "fallback");
        RuleFor(x => x.FallbackModel).MaximumLength(128);
        RuleFor(x => x.DataModes).Must(m => m!.Length > 0 && m.All(DataModes.All.Contains))
            .WithMessage($"dataModes takes one or more of: {string.Join(", ", DataModes.All)}.")
            .When(x => x.DataModes is not null);
    }
}

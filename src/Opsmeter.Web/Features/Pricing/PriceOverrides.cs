using System.Globalization;
using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>The body of <c>POST /v1/pricing/overrides</c> (docs/api.md "Price book"): a catalog row's prices, from when, and why.</summary>
public sealed record PriceOverrideRequest(
    string? Provider, string? Model, decimal? InputPerMillionUsd, decimal? OutputPerMillionUsd, decimal? CachedInputPerMillionUsd,
    decimal? CacheWritePerMillionUsd, decimal? ReasoningPerMillionUsd, long? LongContextThresholdTokens,
    decimal? LongContextInputPerMillionUsd, decimal? LongContextOutputPerMillionUsd, DateTimeOffset? EffectiveFrom, string? Reason);

public sealed record RetirePriceRequest(string? Reason);

/// <summary>A workspace's own price row as the API answers it, retired or not.</summary>
public sealed record PriceOverrideResponse(
    Guid Id, string Provider, string Model, decimal InputPerMillionUsd, decimal OutputPerMillionUsd, decimal? CachedInputPerMillionUsd,
    decimal? CacheWritePerMillionUsd, decimal? ReasoningPerMillionUsd, long? LongContextThresholdTokens,
    decimal? LongContextInputPerMillionUsd, decimal? LongContextOutputPerMillionUsd, DateTimeOffset EffectiveFrom, string? Reason,
    string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RetiredAt, string? RetiredBy, string? RetireReason)
{
    internal static PriceOverrideResponse From(ModelPrice p) => new(
        p.Id, p.Provider, p.Model, Money.Normalize(p.InputPerMillionUsd), Money.Normalize(p.OutputPerMillionUsd),
        Money.Normalize(p.CachedInputPerMillionUsd), Money.Normalize(p.CacheWritePerMillionUsd), Money.Normalize(p.ReasoningPerMillionUsd),
        p.LongContextThresholdTokens, Money.Normalize(p.LongContextInputPerMillionUsd), Money.Normalize(p.LongContextOutputPerMillionUsd),
        p.EffectiveFrom, p.Reason, p.CreatedBy, p.CreatedAt, p.RetiredAt, p.RetiredBy, p.RetireReason);
}

internal sealed class PriceOverrideRequestValidator : AbstractValidator<PriceOverrideRequest>
{
    // The price columns are numeric(18,8).
    private const decimal MaxPrice = 1_000_000m;

    public PriceOverrideRequestValidator()
    {
        RuleFor(x => x.Provider).NotEmpty().MaximumLength(64);
        RuleFor(x => x.Model).NotEmpty().MaximumLength(128);
        RuleFor(x => x.InputPerMillionUsd).NotNull();
        RuleFor(x => x.OutputPerMillionUsd).NotNull();
        foreach (var (price, name) in new (Func<PriceOverrideRequest, decimal?>, string)[]
        {
            (x => x.InputPerMillionUsd, "inputPerMillionUsd"), (x => x.OutputPerMillionUsd, "outputPerMillionUsd"),
            (x => x.CachedInputPerMillionUsd, "cachedInputPerMillionUsd"), (x => x.CacheWritePerMillionUsd, "cacheWritePerMillionUsd"),
            (x => x.ReasoningPerMillionUsd, "reasoningPerMillionUsd"), (x => x.LongContextInputPerMillionUsd, "longContextInputPerMillionUsd"),
            (x => x.LongContextOutputPerMillionUsd, "longContextOutputPerMillionUsd"),
        })
        {
            RuleFor(x => price(x)).Must(p => p is null || (p >= 0 && p < MaxPrice && decimal.Round(p.Value, 8) == p.Value))
                .OverridePropertyName(name)
                .WithMessage($"{name} is USD per million tokens: 0 or more, below {MaxPrice:N0}, up to 8 decimals.");
        }

        RuleFor(x => x.LongContextThresholdTokens).GreaterThan(0);
        RuleFor(x => x.LongContextThresholdTokens).NotNull()
            .When(x => x.LongContextInputPerMillionUsd is not null || x.LongContextOutputPerMillionUsd is not null)
            .WithMessage("longContextThresholdTokens is required with long-context prices.");
        RuleFor(x => x.EffectiveFrom).NotNull()
            .Must(e => e is null || (e.Value.Year >= 2000 && e.Value.Year < 2100))
            .WithMessage("effectiveFrom is required: the instant the price starts, such as 2026-01-01T00:00:00Z.");
        RuleFor(x => x.Reason).NotEmpty().WithMessage("reason is required: why this price (a contract, a self-hosted model, …).")
            .MaximumLength(512);
    }
}

/// <summary>
/// A workspace's own prices (<c>/v1/pricing/overrides</c>): negotiated rates, self-hosted models at zero, models the
/// catalog lacks. A row is never changed or deleted: a mistake is retired with a reason, and every addition and
/// retirement leaves a <see cref="PriceAudit"/> entry with what was in force before and after (and the workspace's general
/// audit log an entry too, in the same transaction). The workspace's pricing
/// uses a change at once on this node, and on the others within <see cref="PriceCatalogRefresh.RefreshInterval"/>.
/// </summary>
internal static class PriceOverrides
{
    public const int MaxReasonLength = 512;

    public static async Task<Ok<List<PriceOverrideResponse>>> ListAsync(ClaimsPrincipal user, OpsmeterDbContext db, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var rows = await db.ModelPrices.AsNoTracking().Where(p => p.WorkspaceId == workspaceId)
            .OrderBy(p => p.Provider).ThenBy(p => p.Model).ThenByDescending(p => p.EffectiveFrom).ToListAsync(ct);
        return TypedResults.Ok(rows.ConvertAll(PriceOverrideResponse.From));
    }

    /// <summary>What became of an addition or retirement: the row, or why nothing changed.</summary>
    internal enum Outcome { Done, NotFound, Conflict }

    /// <summary>
    /// Adds the workspace's row (validated by <see cref="PriceOverrideRequestValidator"/>), or with a null
    /// <paramref name="workspaceId"/> a version of the global catalog (instance administrators only: the caller checks),
    /// and its audit entry; then prices with it and re-prices what it covers.
    /// </summary>
    internal static async Task<(Outcome Outcome, ModelPrice Price)> AddAsync(OpsmeterDbContext db, AuditLog audit, PriceCatalog catalog,
        PriceCatalogRefresh refresh, IPriceChangeHandler changes, TimeProvider clock, Guid? workspaceId, string actor, PriceOverrideRequest request,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var effectiveFrom = request.EffectiveFrom!.Value.ToUniversalTime();
        var provider = Providers.Normalize(request.Provider!.Trim());
        var model = request.Model!.Trim();
        var price = new ModelPrice
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, Provider = provider, Model = model, EffectiveFrom = effectiveFrom,
            InputPerMillionUsd = request.InputPerMillionUsd!.Value, OutputPerMillionUsd = request.OutputPerMillionUsd!.Value,
            CachedInputPerMillionUsd = request.CachedInputPerMillionUsd, CacheWritePerMillionUsd = request.CacheWritePerMillionUsd,
            ReasoningPerMillionUsd = request.ReasoningPerMillionUsd, LongContextThresholdTokens = request.LongContextThresholdTokens,
            LongContextInputPerMillionUsd = request.LongContextInputPerMillionUsd, LongContextOutputPerMillionUsd = request.LongContextOutputPerMillionUsd,
            Source = workspaceId is null ? request.Reason!.Trim() : "override", CreatedBy = actor, Reason = request.Reason!.Trim(), CreatedAt = now,
        };
        db.ModelPrices.Add(price);
        var entry = db.Add(new PriceAudit
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, PriceId = price.Id, Action = "added", Provider = provider, Model = model,
            Actor = actor, At = now, Before = Describe(catalog.Find(workspaceId ?? Guid.Empty, provider, model, effectiveFrom)), After = Describe(price),
            Reason = price.Reason,
        }).Entity;
        audit.Add(workspaceId, workspaceId is null ? AuditActions.GlobalPriceVersion : AuditActions.OverrideAdded, $"{provider}/{model}",
            entry.Before, $"{entry.After}; why: {entry.Reason}");
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return (Outcome.Conflict, price);
        }

        await refresh.ReloadAsync(ct);
        // The events this price covers that were stored unpriced are priced now, in the background.
        if (workspaceId is { } workspace)
        {
            changes.PriceAdded(workspace);
        }
        else
        {
            await changes.GlobalPricesAddedAsync(ct);
        }

        return (Outcome.Done, price);
    }

    /// <summary>Retires the workspace's row with a reason and an audit entry saying what prices the model from then on.</summary>
    internal static async Task<(Outcome Outcome, ModelPrice? Price)> RetireRowAsync(OpsmeterDbContext db, AuditLog audit, PriceCatalogRefresh refresh,
        TimeProvider clock, Guid workspaceId, Guid id, string actor, string reason, CancellationToken ct)
    {
        var price = await db.ModelPrices.SingleOrDefaultAsync(p => p.Id == id && p.WorkspaceId == workspaceId, ct);
        if (price is null || price.RetiredAt is not null)
        {
            return (price is null ? Outcome.NotFound : Outcome.Conflict, price);
        }

        var now = clock.GetUtcNow();
        (price.RetiredAt, price.RetiredBy, price.RetireReason) = (now, actor, reason.Trim());
        // What prices this model once the row is gone, from the table as it will be (the in-memory catalog still holds the row).
        var after = new PriceCatalog();
        after.Load(await db.ModelPrices.AsNoTracking().Where(p => p.Id != id && p.RetiredAt == null && (p.WorkspaceId == null || p.WorkspaceId == workspaceId))
            .ToListAsync(ct));
        var entry = db.Add(new PriceAudit
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, PriceId = price.Id, Action = "retired", Provider = price.Provider,
            Model = price.Model, Actor = actor, At = now, Before = Describe(price),
            After = Describe(after.Find(workspaceId, price.Provider, price.Model, price.EffectiveFrom)), Reason = price.RetireReason,
        }).Entity;
        audit.Add(workspaceId, AuditActions.OverrideRetired, $"{price.Provider}/{price.Model}", entry.Before, $"{entry.After}; why: {entry.Reason}");
        await db.SaveChangesAsync(ct);
        await refresh.ReloadAsync(ct);
        return (Outcome.Done, price);
    }

    public static async Task<Results<Created<PriceOverrideResponse>, ProblemHttpResult>> CreateAsync(PriceOverrideRequest request,
        ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit, PriceCatalog catalog, PriceCatalogRefresh refresh, IPriceChangeHandler changes, TimeProvider clock,
        CancellationToken ct)
    {
        var (outcome, price) = await AddAsync(db, audit, catalog, refresh, changes, clock, user.WorkspaceId(), Actor(user), request, ct);
        return outcome == Outcome.Conflict
            ? TypedResults.Problem(title: "A price for this model already starts then",
                detail: $"This workspace already has a {price.Provider}/{price.Model} price effective from {price.EffectiveFrom:O} (retired rows included): " +
                    "choose another effectiveFrom.", statusCode: StatusCodes.Status409Conflict)
            : TypedResults.Created($"/v1/pricing/overrides/{price.Id}", PriceOverrideResponse.From(price));
    }

    public static async Task<Results<Ok<PriceOverrideResponse>, NotFound, ValidationProblem, ProblemHttpResult>> RetireAsync(Guid id,
        RetirePriceRequest? body, ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit, PriceCatalogRefresh refresh, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body?.Reason) || body.Reason.Length > MaxReasonLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["reason"] = [$"reason is required (up to {MaxReasonLength} characters): why the price was wrong."],
            });
        }

        var (outcome, price) = await RetireRowAsync(db, audit, refresh, clock, user.WorkspaceId(), id, Actor(user), body.Reason, ct);
        return outcome switch
        {
            Outcome.NotFound => TypedResults.NotFound(),
            Outcome.Conflict => TypedResults.Problem(title: "Price already retired", detail: $"It was retired at {price!.RetiredAt:O}: {price.RetireReason}",
                statusCode: StatusCodes.Status409Conflict),
            _ => TypedResults.Ok(PriceOverrideResponse.From(price!)),
        };
    }

    private static string Actor(ClaimsPrincipal user) => "api-key:" + user.FindFirstValue(ApiKeyAuthenticationHandler.KeyPrefixClaim);

    /// <summary>A price row in a line a person reads in the audit: which row, its main prices, from when.</summary>
    internal static string Describe(ModelPrice? price) => price is null
        ? "no price"
        : string.Create(CultureInfo.InvariantCulture,
            $"{(price.WorkspaceId is null ? "catalog" : "override")} {price.Provider}/{price.Model}: input {Money.Normalize(price.InputPerMillionUsd)}, " +
            $"output {Money.Normalize(price.OutputPerMillionUsd)} USD per million tokens, from {price.EffectiveFrom:yyyy-MM-dd HH:mm}Z (row {price.Id})");
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Opsmeter.Web.Infrastructure.Database;

/// <summary>
/// Refuses text that PostgreSQL cannot store (a NUL character) before SaveChanges sends anything. PostgreSQL refuses it
/// too (22021), but inside EF Core's batched command that refusal left the pooled connection out of step with the
/// protocol, and the next request to get it failed with "unexpected backend message DataRow" (docs/security.md). The
/// refusal is the same 22021 the problem-details handler already answers with 400, so callers see no difference.
/// </summary>
internal sealed class UnstorableTextInterceptor : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        Check(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private static void Check(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified))
            {
                continue;
            }

            foreach (var property in entry.Properties)
            {
                var unstorable = property.CurrentValue switch
                {
                    string text => text.Contains('\0', StringComparison.Ordinal),
                    IEnumerable<string> texts => texts.Any(t => t?.Contains('\0', StringComparison.Ordinal) == true),
                    _ => false,
                };
                if (unstorable)
                {
                    throw new DbUpdateException(
                        $"{entry.Metadata.ClrType.Name}.{property.Metadata.Name} holds a NUL character, which PostgreSQL text cannot store.",
                        new PostgresException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "ERROR",
                            PostgresErrorCodes.CharacterNotInRepertoire));
                }
            }
        }
    }
}

using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Incidents;

internal sealed class EvaluationOptions : IValidatableObject
{
    public const string Section = "Opsmeter:Budgets";

    /// <summary>
    /// Seconds between two runs of the recurring budget evaluation (<see cref="EvaluateBudgetsJob"/>): 60 (every minute,
    /// the default) or a divisor of 60, so that runs fall on the same seconds of every minute.
    /// </summary>
    [Range(1, 60)]
    public int EvaluateEverySeconds { get; set; } = 60;

    /// <summary>The recurring job's cron expression (with seconds below a minute).</summary>
    public string Cron => EvaluateEverySeconds == 60 ? Hangfire.Cron.Minutely() : $"*/{EvaluateEverySeconds} * * * * *";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EvaluateEverySeconds is > 0 and <= 60 && 60 % EvaluateEverySeconds != 0)
        {
            yield return new ValidationResult("Opsmeter:Budgets:EvaluateEverySeconds must be 60 or divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30).",
                [nameof(EvaluateEverySeconds)]);
        }
    }
}

using FluentValidation;

namespace Opsmeter.Web.Infrastructure.Http;

/// <summary>
/// Validates the endpoint's <typeparamref name="T"/> argument with FluentValidation; failures are a ValidationProblem, never an exception.
/// Synchronous on purpose: Opsmeter's validators have no asynchronous rules (FluentValidation would throw if one
/// were added), and the asynchronous path costs a state machine per rule on every ingest request.
/// </summary>
internal sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var argument in context.Arguments)
        {
            if (argument is T value)
            {
                var result = validator.Validate(value);
                if (!result.IsValid)
                {
                    return ValueTask.FromResult<object?>(TypedResults.ValidationProblem(result.ToDictionary()));
                }

                break;
            }
        }

        return next(context);
    }
}

internal static class ValidationFilterExtensions
{
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) => builder
        .AddEndpointFilter<ValidationFilter<T>>()
        .ProducesValidationProblem();
}

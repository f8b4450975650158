using FluentValidation;

namespace Opsmeter.Web.Infrastructure.Http;

/// <summary>Validates the endpoint's <typeparamref name="T"/> argument with FluentValidation; failures are a ValidationProblem, never an exception.</summary>
internal sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.Arguments.OfType<T>().FirstOrDefault() is { } argument)
        {
            var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
            if (!result.IsValid)
            {
                return TypedResults.ValidationProblem(result.ToDictionary());
            }
        }

        return await next(context);
    }
}

internal static class ValidationFilterExtensions
{
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) => builder
        .AddEndpointFilter<ValidationFilter<T>>()
        .ProducesValidationProblem();
}

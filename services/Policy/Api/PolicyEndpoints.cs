using Treecast.Hosting.ApiAccess;
using Treecast.Policy.Policies;

namespace Treecast.Policy.Api;

/// <summary>
/// The policy HTTP API: inspect the policies in force (a read), check a file before deploying it and reload (both need
/// an API key: see <see cref="ApiAccessExtensions"/>).
/// </summary>
public static class PolicyEndpoints
{
    /// <summary>Largest policy file the validate endpoint reads; policy files are a few KiB.</summary>
    private const int MaxPolicyFileBytes = 1024 * 1024;

    public static WebApplication MapPolicyEndpoints(this WebApplication app)
    {
        var policies = app.MapGroup("/policies");

        policies.MapGet("/", (IPolicyStore store) => TypedResults.Ok(new PolicySetView(store.Current))).AllowReaders();

        // The body is a policy file, sent as is (for example: curl --data-binary @policies.yaml).
        policies.MapPost("/validate", async (HttpRequest request, PolicyLoader loader, CancellationToken cancellationToken) =>
        {
            var body = await RequestBody.ReadAsync(request, MaxPolicyFileBytes, cancellationToken);
            if (body is null)
            {
                return Results.Json(
                    new PolicyErrorsView("the policy file is larger than 1 MiB; split it into several files", []),
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            }

            try
            {
                var parsed = loader.Parse("request", body);
                return Results.Ok(new PolicySetView(parsed));
            }
            catch (PolicyValidationException ex)
            {
                return Results.BadRequest(new PolicyErrorsView("the policy file has errors; nothing was loaded", ex.Errors));
            }
        }).RequireOperator();

        policies.MapPost("/reload", (PolicyReloader reloader, IPolicyStore store) =>
        {
            var errors = reloader.Reload();
            return errors.Count == 0
                ? Results.Ok(new PolicySetView(store.Current))
                : Results.BadRequest(new PolicyErrorsView("the policy files have errors; the policies in force are unchanged", errors));
        }).RequireOperator();

        return app;
    }
}

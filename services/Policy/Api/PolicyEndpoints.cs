using Treecast.Policy.Policies;

namespace Treecast.Policy.Api;

/// <summary>The policy HTTP API: inspect the policies in force, check a file before deploying it, reload.</summary>
public static class PolicyEndpoints
{
    /// <summary>Largest policy file the validate endpoint reads; policy files are a few KiB.</summary>
    private const int MaxPolicyFileBytes = 1024 * 1024;

    public static WebApplication MapPolicyEndpoints(this WebApplication app)
    {
        var policies = app.MapGroup("/policies");

        policies.MapGet("/", (IPolicyStore store) => TypedResults.Ok(new PolicySetView(store.Current)));

        // The body is a policy file, sent as is (for example: curl --data-binary @policies.yaml).
        policies.MapPost("/validate", async (HttpRequest request, PolicyLoader loader, CancellationToken cancellationToken) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            if (buffer.Length > MaxPolicyFileBytes)
            {
                return Results.BadRequest(new PolicyErrorsView(
                    "the policy file is larger than 1 MiB; split it into several files",
                    []));
            }

            try
            {
                var parsed = loader.Parse("request", buffer.ToArray());
                return Results.Ok(new PolicySetView(parsed));
            }
            catch (PolicyValidationException ex)
            {
                return Results.BadRequest(new PolicyErrorsView("the policy file has errors; nothing was loaded", ex.Errors));
            }
        });

        policies.MapPost("/reload", (PolicyReloader reloader, IPolicyStore store) =>
        {
            var errors = reloader.Reload();
            return errors.Count == 0
                ? Results.Ok(new PolicySetView(store.Current))
                : Results.BadRequest(new PolicyErrorsView("the policy files have errors; the policies in force are unchanged", errors));
        });

        return app;
    }
}

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Treecast.Hosting.ApiAccess;

/// <summary>
/// ASP.NET Core authentication by API key: <c>Authorization: Bearer &lt;key&gt;</c> against <see cref="ApiAccessOptions.Keys"/>.
/// The signed-in name is the key's name. Keys are compared as SHA-256 digests in fixed time, so neither the comparison's
/// duration nor an early exit tells a caller how much of a guess was right.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ApiAccessOptions> access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    private const string Bearer = "Bearer ";

    // The answer is a JSON document read by people and tools, never embedded in HTML: 'x', not \u0027x\u0027.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IReadOnlyList<(string Name, byte[] Digest)> _keys = access.Value.Keys
        .Where(k => !string.IsNullOrWhiteSpace(k.Value))
        .Select(k => (k.Key, SHA256.HashData(Encoding.UTF8.GetBytes(k.Value.Trim()))))
        .ToList();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim()));
        string? name = null;
        foreach (var key in _keys)
        {
            // Every key is compared, whichever matches: the time taken does not depend on which.
            if (CryptographicOperations.FixedTimeEquals(given, key.Digest))
            {
                name = key.Name;
            }
        }

        if (name is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key given is not one of the service's Api:Keys"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>401 with a body that says what to send, not an empty answer.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var route = $"{Request.Method} {Request.Path}";
        var error = result.Failure is { } failure
            ? $"{route} refused: {failure.Message}."
            : _keys.Count == 0
                ? $"{route} needs an API key, and this service has none configured: set Api__Keys__<name>=<secret> on it, then send 'Authorization: Bearer <secret>'."
                : $"{route} needs an API key: send 'Authorization: Bearer <key>' with a key from the service's Api__Keys__<name> settings.";
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"treecast\"";
        Response.ContentType = "application/json";
        await Response.WriteAsync(JsonSerializer.Serialize(new { error }, Json));
    }
}

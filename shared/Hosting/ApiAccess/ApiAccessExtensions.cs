using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Treecast.Hosting.ApiAccess;

/// <summary>
/// Authentication and authorisation of a service's HTTP API (ASP.NET Core's, with <see cref="ApiKeyAuthenticationHandler"/>):
/// routes that change anything require an API key (<see cref="RequireOperator{TBuilder}"/>); read-only routes are open
/// unless <see cref="ApiAccessOptions.ProtectReads"/> (<see cref="AllowReaders{TBuilder}"/>); bodies are size-limited.
/// </summary>
public static class ApiAccessExtensions
{
    /// <summary>The authorisation policy of routes that change something: a valid API key.</summary>
    public const string OperatorPolicy = "treecast-operator";

    /// <summary>The authorisation policy of read-only routes: open, or a valid API key when reads are protected.</summary>
    public const string ReaderPolicy = "treecast-reader";

    /// <summary>Registers API access from the <c>Api</c> section; a service that serves HTTP routes calls it (a second call changes nothing).</summary>
    /// <param name="builder">The service's host.</param>
    /// <param name="servesCommands">True when the service has routes that change something, so that having no key is worth a warning.</param>
    public static IHostApplicationBuilder AddApiAccess(this IHostApplicationBuilder builder, bool servesCommands = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (servesCommands)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(new ApiCommandRoutes(Served: true)));
        }

        if (builder.Services.Any(d => d.ServiceType == typeof(ApiAccessCheck)))
        {
            return builder;
        }

        builder.Services.TryAddSingleton(new ApiCommandRoutes(Served: false));

        var options = builder.Configuration.GetSection(ApiAccessOptions.Section).Get<ApiAccessOptions>() ?? new ApiAccessOptions();
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddHostedService<ApiAccessCheck>();
        builder.Services
            .AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(OperatorPolicy, policy => policy.RequireAuthenticatedUser())
            .AddPolicy(ReaderPolicy, policy =>
            {
                if (options.ProtectReads)
                {
                    policy.RequireAuthenticatedUser();
                }
                else
                {
                    policy.RequireAssertion(_ => true);
                }
            });

        // Kestrel stops reading a body past this and answers 413; routes that read a body also check it themselves.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        return builder;
    }

    /// <summary>The route changes something: only a caller with an API key may call it.</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder => endpoints.RequireAuthorization(OperatorPolicy);

    /// <summary>The route only reads: open, or for callers with an API key when <see cref="ApiAccessOptions.ProtectReads"/>.</summary>
    public static TBuilder AllowReaders<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder => endpoints.RequireAuthorization(ReaderPolicy);
}

/// <summary>Whether the process serves routes that change something (see <see cref="ApiAccessExtensions.AddApiAccess"/>).</summary>
internal sealed record ApiCommandRoutes(bool Served);

using System.Security.Claims;
using System.Text.Encodings.Web;
using ClipService.Diagnostics;
using ClipService.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ClipService.Access;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c> against the
/// <see cref="ApiKeyStore"/>; the identity's name is the key's short hash (<see cref="ApiKeyStore.ClientId"/>).
/// A challenge answers 401 with <c>WWW-Authenticate: Bearer</c> and a ProblemDetails body. A refused key is logged once,
/// in the request's own log line (<see cref="RequestLog.RefuseKey"/>); the framework's authentication messages, which
/// would repeat it three times more, are not written.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    UrlEncoder encoder,
    ApiKeyStore keys,
    IProblemDetailsService problemDetails,
    ClipMetrics metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Enabled || PresentedKey(Request) is not { } key)
            return Task.FromResult(AuthenticateResult.NoResult());
        var client = ApiKeyStore.ClientId(key);
        if (!keys.IsValid(key))
        {
            RequestLog.RefuseKey(Context, client);
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, client)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        metrics.Rejected(RejectionReasons.Unauthorized);
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var presented = PresentedKey(Request) is not null;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = presented
                    ? "The API key is not valid."
                    : $"An API key is required: send 'Authorization: Bearer <key>' or '{HeaderName}: <key>'.",
            },
        });
    }

    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers[HeaderName].ToString() is { Length: > 0 } header)
            return header.Trim();
        var authorization = request.Headers[HeaderNames.Authorization].ToString();
        return authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && authorization.Length > BearerPrefix.Length
            ? authorization[BearerPrefix.Length..].Trim()
            : null;
    }
}

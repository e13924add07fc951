using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Treecast.Cli;

/// <summary>
/// One of Treecast's HTTP APIs as the CLI calls it: JSON in and out, an API key when given, and every failure turned into
/// a <see cref="CliException"/> whose message names the service, the address and the fix.
/// </summary>
public sealed class ServiceClient(string service, Uri baseAddress, string? apiKey, string settingHint) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public Task<JsonNode> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonNode> PostAsync(string path, object body, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent(body) }, cancellationToken);

    public void Dispose() => _http.Dispose();

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, Output.Json), System.Text.Encoding.UTF8, "application/json");

    private async Task<JsonNode> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            if (apiKey is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                var why = ex.InnerException is SocketException socket ? socket.SocketErrorCode.ToString() : ex.Message;
                throw new CliException(ExitCodes.Unavailable, $"cannot reach the {service} at {baseAddress} ({why}); start it, or point {settingHint} at it");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CliException(ExitCodes.Unavailable, $"the {service} at {baseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s");
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                JsonNode? body = null;
                try
                {
                    body = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    // Not JSON (a proxy's page, a wrong address): reported below by status.
                }

                if (response.IsSuccessStatusCode && body is not null)
                {
                    return body;
                }

                var error = body?["error"]?.GetValue<string>() ?? body?["detail"]?.GetValue<string>();
                var status = $"{(int)response.StatusCode} {response.StatusCode}";
                throw new CliException(ExitCodes.Unavailable, response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                        $"the {service} refused the request ({status}): {error ?? "it needs an API key"}; give --api-key or set TREECAST_API_KEY",
                    _ when error is not null => $"the {service} answered {status}: {error}",
                    _ => $"the {service} at {baseAddress} answered {status}{(response.IsSuccessStatusCode ? " with no JSON" : string.Empty)}; is {settingHint} the right address?",
                });
            }
        }
    }
}

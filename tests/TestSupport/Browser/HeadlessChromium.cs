using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Treecast.TestSupport.Browser;

/// <summary>
/// A real browser for tests of web pages: Debian's chromium, headless, driven over the DevTools protocol (one page, a
/// WebSocket, JSON commands): navigate, evaluate JavaScript in the page, wait for what it shows. Tests skip (with the
/// reason) where chromium is not installed; <c>.ci/run</c> installs it.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(Process process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    /// <summary>The reason no browser can run here, or null.</summary>
    public static string? Unavailable() =>
        File.Exists("/usr/bin/chromium") ? null : "chromium is not installed (apt-get install chromium; .ci/run does)";

    public static async Task<HeadlessChromium> StartAsync(int width = 1280, int height = 800)
    {
        var profile = Directory.CreateTempSubdirectory("treecast-chromium-").FullName;
        var start = new ProcessStartInfo("/usr/bin/chromium") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--remote-debugging-port=0", $"--user-data-dir={profile}", $"--window-size={width},{height}", "about:blank"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? browser = null;
        while (browser is null && await process.StandardError.ReadLineAsync(limit.Token) is { } line)
        {
            const string Marker = "DevTools listening on ";
            if (line.StartsWith(Marker, StringComparison.Ordinal))
            {
                browser = line[Marker.Length..].Trim();
            }
        }

        _ = process.StandardError.ReadToEndAsync();
        var port = new Uri(browser ?? throw new InvalidOperationException("chromium did not say where its DevTools listen")).Port;
        using var http = new HttpClient();
        var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list", limit.Token))!.AsArray();
        var page = targets.First(t => t!["type"]!.GetValue<string>() == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(page), limit.Token);
        return new HeadlessChromium(process, profile, socket);
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>Evaluates <paramref name="expression"/> in the page; its value as JSON (null when undefined).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } exception)
        {
            throw new InvalidOperationException($"the page threw: {exception.ToJsonString()}");
        }

        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>Waits, generously, until <paramref name="expression"/> is truthy in the page; fails with what the page shows.</summary>
    public async Task WaitForAsync(string expression, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await EvaluateAsync($"!!({expression})") is { } value && value.GetValue<bool>())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                var text = await EvaluateAsync("document.body ? document.body.innerText : ''");
                throw new TimeoutException($"the page never showed {expression} within {within}; it shows:\n{text}");
            }

            await Task.Delay(200);
        }
    }

    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(result["data"]!.GetValue<string>()));
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A profile file still held by an exiting child; the temp directory is the system's to clean.
        }
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject parameters)
    {
        var id = Interlocked.Increment(ref _nextId);
        var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, true, limit.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(buffer, limit.Token);
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            var answer = JsonNode.Parse(message.ToArray())!;
            if (answer["id"]?.GetValue<int>() != id)
            {
                continue; // An event, or the answer to an earlier command nobody waits for.
            }

            return answer["error"] is { } error
                ? throw new InvalidOperationException($"{method} failed: {error.ToJsonString()}")
                : answer["result"]!;
        }
    }
}

using System;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace LeNet.Web.Tests;

/// <summary>
/// The web sample in memory. Unless told otherwise it never reads or writes a weights file (WeightsPath is empty), so
/// every test starts from the network it trains itself.
/// </summary>
public class WebFactory : WebApplicationFactory<Program>
{
    private readonly bool _trainOnStart;
    private readonly string _weightsPath;

    /// <summary>
    /// A server that trains its first network on start (2 epochs) unless <paramref name="trainOnStart"/> is false, and
    /// reads and writes weights at <paramref name="weightsPath"/> (by default nowhere).
    /// </summary>
    public WebFactory(bool trainOnStart = true, string weightsPath = "")
    {
        _trainOnStart = trainOnStart;
        _weightsPath = weightsPath;
    }

    /// <inheritdoc/>
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("LeNetWeb:WeightsPath", _weightsPath);
        builder.UseSetting("LeNetWeb:TrainOnStart", _trainOnStart ? "true" : "false");
        builder.UseSetting("LeNetWeb:StartupEpochs", "2");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) until no training runs and a network answers; returns the status.</summary>
    public static async Task<JsonElement> WaitUntilIdleAndReady(HttpClient client, int seconds = 300)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            JsonElement status = await client.GetFromJsonAsync<JsonElement>("/api/status");
            bool running = status.GetProperty("training").ValueKind == JsonValueKind.Object
                && status.GetProperty("training").GetProperty("state").GetString() == "running";
            if (status.GetProperty("ready").GetBoolean() && !running)
            {
                return status;
            }

            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"The server was not ready and idle after {seconds} s: {status}");
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>A server whose first network has finished training, shared by the tests of a class.</summary>
public sealed class ReadyServer : Xunit.IAsyncLifetime
{
    /// <summary>The server.</summary>
    public WebFactory Factory { get; } = new();

    /// <inheritdoc/>
    public async Task InitializeAsync() => await WebFactory.WaitUntilIdleAndReady(Factory.CreateClient());

    /// <inheritdoc/>
    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeNet.Web;

/// <summary>The answer of <c>/api/predict</c>.</summary>
/// <param name="Class">The predicted digit.</param>
/// <param name="Probabilities">The ten class probabilities.</param>
public sealed record PredictResponse([property: JsonPropertyName("class")] int Class, float[] Probabilities);

/// <summary>One layer's output in <c>/api/activations</c>.</summary>
/// <param name="Name">The layer, e.g. <c>conv1</c>.</param>
/// <param name="Shape">Channels × height × width, or units.</param>
/// <param name="Values">The values, row-major.</param>
public sealed record LayerOutput(string Name, int[] Shape, float[] Values);

/// <summary>The answer of <c>/api/activations</c>: the prediction, every layer's output and the conv1 filters.</summary>
/// <param name="Class">The predicted digit.</param>
/// <param name="Probabilities">The ten class probabilities.</param>
/// <param name="Version">The version of the network that answered.</param>
/// <param name="Input">The 32×32 input the network saw.</param>
/// <param name="Layers">Each layer's output.</param>
/// <param name="Filters">The weights of conv1, shape [6, 1, 5, 5].</param>
public sealed record ActivationsResponse([property: JsonPropertyName("class")] int Class, float[] Probabilities, int Version, float[] Input, IReadOnlyList<LayerOutput> Layers, LayerOutput Filters);

/// <summary>The answer of <c>/api/status</c>, and each server-sent event of <c>/api/train/events</c>.</summary>
/// <param name="Ready">Whether a network answers predictions.</param>
/// <param name="Version">The answering network's version (0 before the first).</param>
/// <param name="Network">Where its weights come from.</param>
/// <param name="Startup">What the server did on start.</param>
/// <param name="Training">The running or last training run, or null.</param>
public sealed record StatusResponse(bool Ready, int Version, string? Network, string Startup, RunView? Training);

/// <summary>The body of <c>POST /api/train</c> (optional).</summary>
/// <param name="Epochs">Epochs to train, 1 to 100 (5 if absent).</param>
/// <param name="Fresh">Start from new random weights (true if absent) or continue from the current network.</param>
public sealed record TrainRequest(int? Epochs, bool? Fresh);

/// <summary>Builds the web sample: services, the page and the API.</summary>
public static class WebApp
{
    /// <summary>Where the server listens when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Seconds a client is told to wait (<c>Retry-After</c>) while no network is ready.</summary>
    public const int RetryAfterSeconds = 2;

    /// <summary>Creates the application from the command line; call <c>Run</c> or <c>StartAsync</c> on it.</summary>
    /// <param name="args">ASP.NET Core's arguments (<c>--urls</c>, <c>--LeNetWeb:StartupEpochs</c>…).</param>
    public static WebApplication Create(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]) && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // One line per request at Information would cost more than the prediction itself; warnings and errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.Configure<WebOptions>(builder.Configuration.GetSection(WebOptions.Section));
        builder.Services.Configure<JsonOptions>(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<NetworkHolder>();
        builder.Services.AddSingleton<Digits>();
        builder.Services.AddSingleton<GeneratedCode>();
        builder.Services.AddSingleton<TrainingService>();
        builder.Services.AddSingleton<StartupService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StartupService>());

        WebApplication app = builder.Build();
        app.UseExceptionHandler(); // problem details, never a stack trace
        app.UseStatusCodePages();
        // The page is embedded in the assembly (see LeNet.Web.csproj), so it is served the same from any folder.
        var page = new EmbeddedFileProvider(typeof(WebApp).Assembly, "LeNet.Web.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = page });
        MapApi(app);
        return app;
    }

    private static void MapApi(WebApplication app)
    {
        app.MapPost("/api/predict", async (HttpContext context, NetworkHolder holder) =>
        {
            if (holder.Current is not NetworkSnapshot snapshot)
            {
                return NotReady(context);
            }

            PixelInput.Result input = await PixelInput.ReadAsync(context.Request, context.RequestAborted);
            if (input.Input is null)
            {
                return BadInput(input.Problem!);
            }

            var probabilities = new float[LeNet5.OutputLength];
            snapshot.Network.Predict(input.Input, probabilities);
            return Results.Json(new PredictResponse(ArgMax(probabilities), probabilities));
        });

        app.MapPost("/api/activations", async (HttpContext context, NetworkHolder holder) =>
        {
            if (holder.Current is not NetworkSnapshot snapshot)
            {
                return NotReady(context);
            }

            PixelInput.Result input = await PixelInput.ReadAsync(context.Request, context.RequestAborted);
            if (input.Input is null)
            {
                return BadInput(input.Problem!);
            }

            float[][] outputs = snapshot.Network.Trace(input.Input);
            var layers = LeNet5.TracedLayers.Select((layer, i) => new LayerOutput(layer.Name, layer.Shape, outputs[i])).ToArray();
            float[] probabilities = outputs[^1];
            var filters = new LayerOutput("conv1.weight", [6, 1, 5, 5], snapshot.Network.Parameters[..150].ToArray());
            return Results.Json(new ActivationsResponse(ArgMax(probabilities), probabilities, snapshot.Version, input.Input, layers, filters));
        });

        app.MapGet("/api/status", (NetworkHolder holder, TrainingService training, StartupService startup) => Status(holder, training, startup, 0));

        app.MapGet("/api/network", (GeneratedCode code) => Results.Json(new
        {
            summary = LeNet5.Summary,
            inputLength = LeNet5.InputLength,
            outputLength = LeNet5.OutputLength,
            parameterCount = LeNet5.ParameterCount,
            layers = code.Layers,
            tensors = LeNet5.Tensors.Select(tensor => new { name = tensor.Name, offset = tensor.Offset, shape = tensor.Shape }),
        }));

        app.MapGet("/api/code", (GeneratedCode code) => Results.Text(code.Source, "text/plain; charset=utf-8"));

        app.MapGet("/api/code/{layer}", (string layer, GeneratedCode code) => code.MethodsOf(layer) is { } methods
            ? Results.Json(new { layer, methods })
            : Results.Problem(statusCode: 404, title: "No such layer", detail: $"There is no layer '{layer}'; the layers are {string.Join(", ", code.Layers.Select(row => row.Name).Where(name => name is not ("input" or "total")))}."));

        app.MapGet("/api/digits/{index}", (string index, Digits digits) =>
        {
            if (!int.TryParse(index, out int i) || i < 0 || i >= digits.Test.Count)
            {
                return Results.Problem(statusCode: 404, title: "No such digit", detail: $"Test digit '{index}' does not exist; the test set has digits 0 to {digits.Test.Count - 1}.");
            }

            return Results.Json(new { index = i, label = digits.Test.Label(i), pixels = digits.TestPixels28(i) });
        });

        app.MapGet("/api/weights.safetensors", (HttpContext context, NetworkHolder holder) =>
        {
            if (holder.Current is not NetworkSnapshot snapshot)
            {
                return NotReady(context);
            }

            using var stream = new MemoryStream();
            snapshot.Network.Save(stream);
            return Results.File(stream.ToArray(), "application/octet-stream", $"lenet5-v{snapshot.Version}.safetensors");
        });

        app.MapGet("/api/weights.onnx", (HttpContext context, NetworkHolder holder) =>
        {
            if (holder.Current is not NetworkSnapshot snapshot)
            {
                return NotReady(context);
            }

            using var stream = new MemoryStream();
            snapshot.Network.SaveOnnx(stream);
            return Results.File(stream.ToArray(), "application/octet-stream", $"lenet5-v{snapshot.Version}.onnx");
        });

        app.MapPost("/api/train", async (HttpContext context, TrainingService training) =>
        {
            TrainRequest request = new(null, null);
            if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                try
                {
                    request = await context.Request.ReadFromJsonAsync<TrainRequest>(context.RequestAborted) ?? request;
                }
                catch (System.Text.Json.JsonException e)
                {
                    return BadInput($"The body is not valid JSON for {{\"epochs\": n, \"fresh\": true|false}}: {e.Message}");
                }
            }

            int epochs = request.Epochs ?? 5;
            if (epochs < 1 || epochs > TrainingService.MaxEpochs)
            {
                return BadInput($"\"epochs\" is {epochs}, but it must be from 1 to {TrainingService.MaxEpochs}.");
            }

            return training.TryStart(epochs, request.Fresh ?? true, "live", out TrainingRun run)
                ? Results.Accepted("/api/train/events", run.View())
                : Results.Problem(statusCode: 409, title: "Already training", detail: $"Training run {run.Id} is still running; cancel it first (POST /api/train/cancel).");
        });

        app.MapPost("/api/train/cancel", (TrainingService training) => training.TryCancel(out TrainingRun? run)
            ? Results.Accepted("/api/train/events", run.View())
            : Results.Problem(statusCode: 409, title: "Not training", detail: "No training run is running."));

        app.MapGet("/api/train/events", (HttpContext context, NetworkHolder holder, TrainingService training, StartupService startup, IHostApplicationLifetime lifetime) =>
            TypedResults.ServerSentEvents(Events(holder, training, startup, context.RequestAborted, lifetime.ApplicationStopping)));
    }

    /// <summary>
    /// The training progress as it happens: a first event with the whole state, then one whenever something changed,
    /// checked every 100 ms, each with the batches recorded since the previous event.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<StatusResponse>> Events(
        NetworkHolder holder, TrainingService training, StartupService startup, CancellationToken aborted, [EnumeratorCancellation] CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        CancellationToken token = linked.Token;
        int runId = -1;
        int pointsSent = 0;
        int version = -1;
        RunState? state = null;
        string startupMessage = "";
        long lastSent = Environment.TickCount64;
        while (!token.IsCancellationRequested)
        {
            TrainingRun? run = training.Run;
            if (run is not null && run.Id != runId)
            {
                runId = run.Id;
                pointsSent = 0;
            }

            int currentVersion = holder.Current?.Version ?? 0;
            bool changed = (run?.PointCount ?? 0) != pointsSent || run?.State != state || currentVersion != version || startup.Message != startupMessage;
            if (changed || Environment.TickCount64 - lastSent > 10_000)
            {
                StatusResponse status = Status(holder, training, startup, pointsSent);
                pointsSent = status.Training is { } view ? view.PointsFrom + view.Points.Count : 0;
                state = status.Training?.State;
                version = status.Version;
                startupMessage = status.Startup;
                lastSent = Environment.TickCount64;
                yield return new SseItem<StatusResponse>(status, "status");
            }

            try
            {
                await Task.Delay(100, token);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static StatusResponse Status(NetworkHolder holder, TrainingService training, StartupService startup, int pointsFrom)
    {
        NetworkSnapshot? snapshot = holder.Current;
        return new StatusResponse(snapshot is not null, snapshot?.Version ?? 0, snapshot?.Source, startup.Message, training.Run?.View(pointsFrom));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best])
            {
                best = k;
            }
        }

        return best;
    }

    private static IResult BadInput(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The input cannot be used", detail: detail);

    private static IResult NotReady(HttpContext context)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "No network is ready yet",
            detail: $"The server is getting its first network ready; try again in {RetryAfterSeconds} s (GET /api/status tells how far it is).");
    }
}

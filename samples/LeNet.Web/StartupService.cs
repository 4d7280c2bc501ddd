using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using LeNet.Gen.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeNet.Web;

/// <summary>
/// Gets the first network ready in the background once the server listens: loads the saved weights if there are any,
/// otherwise trains a first network for <see cref="WebOptions.StartupEpochs"/> epochs (a few seconds).
/// </summary>
public sealed class StartupService : BackgroundService
{
    private readonly NetworkHolder _holder;
    private readonly TrainingService _training;
    private readonly Digits _digits;
    private readonly WebOptions _options;
    private readonly ILogger<StartupService> _logger;

    /// <summary>Creates the service.</summary>
    public StartupService(NetworkHolder holder, TrainingService training, Digits digits, IOptions<WebOptions> options, ILogger<StartupService> logger)
    {
        _holder = holder;
        _training = training;
        _digits = digits;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>What the server did on start, for the page: e.g. <c>loaded out/lenet5-web.safetensors</c>.</summary>
    public string Message { get; private set; } = "starting";

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let the host finish starting: the server answers (503) while this works
        string path = _options.WeightsPath;
        string notLoaded = "no saved weights";
        if (!string.IsNullOrEmpty(path) && File.Exists(path))
        {
            try
            {
                var network = new LeNet5(seed: 0);
                network.Load(path);
                double accuracy = Evaluation.Of(network, _digits.Test).Accuracy;
                _holder.Publish(network.Parameters, $"loaded {path}, test accuracy {accuracy * 100:F2}%");
                Message = $"loaded the weights saved in {path}";
                _logger.LogInformation("Loaded {Path}: test accuracy {Accuracy:P2}", path, accuracy);
                return;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                _logger.LogWarning("Could not load {Path}: {Message}", path, e.Message);
                notLoaded = $"could not load {path} ({e.Message})";
            }
        }

        if (_options.TrainOnStart && _options.StartupEpochs >= 1)
        {
            Message = notLoaded == "no saved weights"
                ? $"training a first network ({_options.StartupEpochs} epochs)"
                : $"{notLoaded}; training a first network ({_options.StartupEpochs} epochs)";
            _training.TryStart(Math.Min(_options.StartupEpochs, TrainingService.MaxEpochs), fresh: true, kind: "startup", out _);
        }
        else
        {
            Message = $"{notLoaded}, and training on start is off: press Train";
        }
    }
}

using System;

namespace LeNet.Web;

/// <summary>Settings of the web sample, from the configuration section <c>LeNetWeb</c> (e.g. <c>--LeNetWeb:StartupEpochs 5</c>).</summary>
public sealed class WebOptions
{
    /// <summary>The configuration section these settings are read from.</summary>
    public const string Section = "LeNetWeb";

    /// <summary>
    /// Where the server keeps its weights: read on start if the file exists, written after each completed training run.
    /// Relative to the current folder. Empty: never read nor write weights.
    /// </summary>
    public string WeightsPath { get; set; } = "out/lenet5-web.safetensors";

    /// <summary>Whether the server trains a first network on start when it has no saved weights.</summary>
    public bool TrainOnStart { get; set; } = true;

    /// <summary>Epochs of that first training run (one epoch is 8,000 digits, about a second).</summary>
    public int StartupEpochs { get; set; } = 3;

    /// <summary>Threads a training step uses; by default one fewer than the processors, so that predictions keep a core.</summary>
    public int TrainingThreads { get; set; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>How often, at most, a training run publishes its weights to the predictions, in milliseconds.</summary>
    public int PublishIntervalMilliseconds { get; set; } = 200;
}

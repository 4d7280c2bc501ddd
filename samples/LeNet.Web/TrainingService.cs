using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using LeNet.Gen;
using LeNet.Gen.Data;
using LeNet.Gen.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeNet.Web;

/// <summary>The states of a training run.</summary>
public enum RunState
{
    /// <summary>Training.</summary>
    Running,

    /// <summary>All epochs done.</summary>
    Completed,

    /// <summary>Stopped on request; the last completed step's weights were published.</summary>
    Cancelled,

    /// <summary>Stopped by an error (e.g. a NaN loss); see the message.</summary>
    Failed,
}

/// <summary>One batch of a run: its global step (from 1), the epoch, the batch's mean loss and its accuracy before the step.</summary>
/// <param name="Step">1-based step over the whole run.</param>
/// <param name="Loss">Mean cross-entropy of the batch, before the step.</param>
/// <param name="Accuracy">Fraction of the batch the network classified correctly, before the step.</param>
public readonly record struct BatchPoint(int Step, float Loss, float Accuracy);

/// <summary>What a run looks like at one moment; <see cref="Points"/> holds the batches from <see cref="PointsFrom"/> on.</summary>
/// <param name="Id">The run's number, from 1.</param>
/// <param name="Kind"><c>startup</c> (the server's first network) or <c>live</c> (asked for through the API).</param>
/// <param name="State">Running, completed, cancelled or failed.</param>
/// <param name="Epochs">Epochs asked for.</param>
/// <param name="Epoch">The current (or last) epoch, from 1.</param>
/// <param name="Batch">Batches done in that epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Progress">Fraction of the run done, 0 to 1.</param>
/// <param name="ImagesPerSecond">Training throughput so far (training steps only).</param>
/// <param name="TestAccuracies">Accuracy on the 2,000 test digits after each finished epoch.</param>
/// <param name="PointsFrom">Index of the first entry of <see cref="Points"/> in the run's whole list.</param>
/// <param name="Points">Per-batch loss and accuracy.</param>
/// <param name="Message">Why it failed, or null.</param>
public sealed record RunView(
    int Id,
    string Kind,
    RunState State,
    int Epochs,
    int Epoch,
    int Batch,
    int Batches,
    double Progress,
    double ImagesPerSecond,
    IReadOnlyList<double> TestAccuracies,
    int PointsFrom,
    IReadOnlyList<BatchPoint> Points,
    string? Message);

/// <summary>A training run's live record, written by the training thread and read by the API.</summary>
public sealed class TrainingRun
{
    private readonly object _gate = new();
    private readonly List<BatchPoint> _points = [];
    private readonly List<double> _testAccuracies = [];
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RunState _state = RunState.Running;
    private int _epoch = 1;
    private int _batch;
    private int _batches = 1;
    private double _imagesPerSecond;
    private string? _message;

    internal TrainingRun(int id, string kind, int epochs, CancellationTokenSource cancellation)
    {
        Id = id;
        Kind = kind;
        Epochs = epochs;
        Cancellation = cancellation;
    }

    /// <summary>The run's number, from 1.</summary>
    public int Id { get; }

    /// <summary><c>startup</c> or <c>live</c>.</summary>
    public string Kind { get; }

    /// <summary>Epochs asked for.</summary>
    public int Epochs { get; }

    /// <summary>Completes when the run ends, however it ends.</summary>
    public Task Finished => _finished.Task;

    /// <summary>The current state.</summary>
    public RunState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>How many batches have been recorded.</summary>
    public int PointCount
    {
        get
        {
            lock (_gate)
            {
                return _points.Count;
            }
        }
    }

    internal CancellationTokenSource Cancellation { get; }

    /// <summary>A consistent copy of the run's state, with the batches from <paramref name="pointsFrom"/> on.</summary>
    /// <param name="pointsFrom">Index of the first batch wanted (0 for all).</param>
    public RunView View(int pointsFrom = 0)
    {
        lock (_gate)
        {
            pointsFrom = Math.Clamp(pointsFrom, 0, _points.Count);
            double progress = _state == RunState.Completed ? 1 : Math.Min(1, ((_epoch - 1) + ((double)_batch / _batches)) / Epochs);
            return new RunView(
                Id, Kind, _state, Epochs, _epoch, _batch, _batches, progress, _imagesPerSecond, _testAccuracies.ToArray(),
                pointsFrom, _points.GetRange(pointsFrom, _points.Count - pointsFrom), _message);
        }
    }

    internal void Batch(int epoch, int batch, int batches, BatchPoint point, double imagesPerSecond)
    {
        lock (_gate)
        {
            _epoch = epoch;
            _batch = batch;
            _batches = batches;
            _points.Add(point);
            _imagesPerSecond = imagesPerSecond;
        }
    }

    internal void EpochDone(double testAccuracy)
    {
        lock (_gate)
        {
            _testAccuracies.Add(testAccuracy);
        }
    }

    internal void End(RunState state, string? message)
    {
        lock (_gate)
        {
            _state = state;
            _message = message;
        }

        _finished.TrySetResult();
    }
}

/// <summary>
/// Trains LeNet-5 on the bundled digits, one run at a time, on a thread of its own. The network being trained is
/// private to the run; every <see cref="WebOptions.PublishIntervalMilliseconds"/> and after every epoch a copy of its
/// weights is published to the <see cref="NetworkHolder"/>, so predictions always use complete weights.
/// </summary>
public sealed class TrainingService : IDisposable
{
    /// <summary>The most epochs one run may ask for.</summary>
    public const int MaxEpochs = 100;

    private const int BatchSize = 32;
    private const float PeakLearningRate = 0.05f;

    private readonly object _gate = new();
    private readonly NetworkHolder _holder;
    private readonly Digits _digits;
    private readonly WebOptions _options;
    private readonly ILogger<TrainingService> _logger;
    private TrainingRun? _run;
    private int _runs;

    /// <summary>Creates the service; nothing runs until <see cref="TryStart"/>.</summary>
    public TrainingService(NetworkHolder holder, Digits digits, IOptions<WebOptions> options, ILogger<TrainingService> logger)
    {
        _holder = holder;
        _digits = digits;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The running run, or the last one, or null before any.</summary>
    public TrainingRun? Run
    {
        get
        {
            lock (_gate)
            {
                return _run;
            }
        }
    }

    /// <summary>
    /// Starts a run unless one is running. <paramref name="fresh"/> starts from new random weights (seeded by the run
    /// number); otherwise training continues from the published network, or from random weights if there is none.
    /// </summary>
    /// <param name="epochs">1 to <see cref="MaxEpochs"/>.</param>
    /// <param name="fresh">Start from new random weights.</param>
    /// <param name="kind"><c>startup</c> or <c>live</c>.</param>
    /// <param name="run">The new run, or the one already running.</param>
    /// <returns>True when a new run started.</returns>
    public bool TryStart(int epochs, bool fresh, string kind, out TrainingRun run)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epochs, MaxEpochs);
        lock (_gate)
        {
            if (_run is { State: RunState.Running })
            {
                run = _run;
                return false;
            }

            int id = ++_runs;
            var network = new LeNet5(seed: id);
            NetworkSnapshot? current = _holder.Current;
            if (!fresh && current is not null)
            {
                current.Network.Parameters.CopyTo(network.Parameters);
            }

            run = new TrainingRun(id, kind, epochs, new CancellationTokenSource());
            _run = run;
            TrainingRun started = run;
            var thread = new Thread(() => Execute(started, network)) { IsBackground = true, Name = $"LeNet.Web training run {id}" };
            thread.Start();
            return true;
        }
    }

    /// <summary>Asks the running run to stop after its current batch.</summary>
    /// <param name="run">The run asked to stop, if any.</param>
    /// <returns>False when no run is running.</returns>
    public bool TryCancel([NotNullWhen(true)] out TrainingRun? run)
    {
        lock (_gate)
        {
            run = _run;
            if (run is not { State: RunState.Running })
            {
                return false;
            }

            run.Cancellation.Cancel();
            return true;
        }
    }

    /// <summary>Cancels a running run (at shutdown).</summary>
    public void Dispose()
    {
        TryCancel(out _);
    }

    private void Execute(TrainingRun run, LeNet5 network)
    {
        CancellationToken cancellationToken = run.Cancellation.Token;
        string label = run.Kind == "startup" ? "first network" : "live training";
        try
        {
            ImageDataset train = _digits.Train;
            ImageDataset test = _digits.Test;
            network.TrainingThreads = Math.Max(1, _options.TrainingThreads);
            var optimizer = new MomentumSgd(PeakLearningRate, momentum: 0.9f);
            int length = LeNet5.InputLength;
            int batches = (train.Count + BatchSize - 1) / BatchSize;
            long totalSteps = (long)run.Epochs * batches;
            var images = new float[BatchSize * length];
            var labels = new int[BatchSize];
            var shifts = new Random(run.Id);
            var training = new Stopwatch();
            var sincePublished = Stopwatch.StartNew();
            long imagesDone = 0;
            int step = 0;
            for (int epoch = 1; epoch <= run.Epochs; epoch++)
            {
                int[] order = train.Shuffle(run.Id, epoch);
                for (int b = 0; b < batches; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    training.Start();
                    int start = b * BatchSize;
                    int count = Math.Min(BatchSize, train.Count - start);
                    int correct = 0;
                    for (int i = 0; i < count; i++)
                    {
                        int index = order[start + i];
                        Span<float> image = images.AsSpan(i * length, length);
                        train.CopyShifted(index, shifts.Next(-2, 3), shifts.Next(-2, 3), image); // ±2 px, as the console sample
                        labels[i] = train.Label(index);
                        if (network.Predict(image) == labels[i])
                        {
                            correct++;
                        }
                    }

                    // Cosine schedule from the peak down to 1% of it, as the library's Trainer does.
                    optimizer.LearningRate = PeakLearningRate * (0.01f + (0.99f * 0.5f * (1f + MathF.Cos(MathF.PI * step / totalSteps))));
                    float loss = network.Train(images.AsSpan(0, count * length), labels.AsSpan(0, count), optimizer);
                    training.Stop();
                    step++;
                    imagesDone += count;
                    run.Batch(epoch, b + 1, batches, new BatchPoint(step, loss, (float)correct / count), imagesDone / training.Elapsed.TotalSeconds);
                    if (sincePublished.ElapsedMilliseconds >= _options.PublishIntervalMilliseconds)
                    {
                        _holder.Publish(network.Parameters, $"{label}: epoch {epoch} of {run.Epochs}, batch {b + 1} of {batches}");
                        sincePublished.Restart();
                    }
                }

                double accuracy = Evaluation.Of(network, test).Accuracy;
                run.EpochDone(accuracy);
                _holder.Publish(network.Parameters, $"{label}: {epoch} epoch{(epoch == 1 ? "" : "s")} of {run.Epochs}, test accuracy {accuracy * 100:F2}%");
                sincePublished.Restart();
            }

            Save(network);
            run.End(RunState.Completed, null);
            _logger.LogInformation("Training run {Id} completed: {Epochs} epochs", run.Id, run.Epochs);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The parameters hold the last completed step: complete weights, worth publishing.
            _holder.Publish(network.Parameters, $"{label}: cancelled in epoch {run.View().Epoch} of {run.Epochs}");
            run.End(RunState.Cancelled, "cancelled");
        }
        catch (Exception e)
        {
            // A NaN loss leaves the parameters unchanged (ArithmeticException), a full disk fails the save: report, keep serving.
            _logger.LogError(e, "Training run {Id} failed", run.Id);
            run.End(RunState.Failed, e.Message);
        }
    }

    private void Save(LeNet5 network)
    {
        if (string.IsNullOrEmpty(_options.WeightsPath))
        {
            return;
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(_options.WeightsPath));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        network.Save(_options.WeightsPath);
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using LeNet.Gen;
using LeNet.Gen.Training;

namespace LeNet.Mnist;

/// <summary>One run of the sample: load the data (and weights), train, evaluate, save, draw.</summary>
internal static class TrainingRun
{
    /// <summary>Exit code for data, weights or files that cannot be used.</summary>
    public const int Failure = 1;

    /// <summary>Exit code after Ctrl+C, as shells report a process stopped by SIGINT.</summary>
    public const int Cancelled = 130;

    /// <summary>Runs the sample with <paramref name="options"/>; returns the exit code. Ctrl+C stops training between batches.</summary>
    public static int Execute(SampleOptions options)
    {
        using var cancellation = new CancellationTokenSource();
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            // The first Ctrl+C asks training to stop after the current batch; a second one ends the process at once.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        }

        var report = new ConsoleReport();
        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            return Run(options, report, cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.Error.WriteLine($"cancelled during epoch {report.EpochsDone + 1} of {options.Epochs}; no weights or pictures were written");
            return Cancelled;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // Missing or malformed data, weights that do not fit LeNet-5, unwritable output: the library's messages say what and where.
            Console.Error.WriteLine("error: " + ConsoleReport.OneLine(e.Message));
            return Failure;
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    private static int Run(SampleOptions options, ConsoleReport report, CancellationToken cancellationToken)
    {
        DataSource data = DataSource.Load(options.DataDirectory);
        var network = SampleNetwork.Create(options.Network, options.Seed);
        report.Introduce(network.Summary, data);

        if (options.LoadPath is not null)
        {
            LoadWeights(network, options.LoadPath);
            report.Loaded(options.LoadPath, Evaluation.Of(network.Network, data.Test));
        }

        var written = new List<string>();
        IReadOnlyList<EpochResult> history = [];
        if (options.Epochs > 0)
        {
            CheckIsNotFolder(options.SavePath, "--save"); // before training, not after it
            history = Train(network, data, options, report, cancellationToken);
            CreateParentFolder(options.SavePath);
            network.Save(options.SavePath);
            written.Add(options.SavePath);
        }

        Evaluation final = Evaluation.Of(network.Network, data.Test);
        report.Confusion(final);
        written.AddRange(Plots.WriteAll(options.OutputDirectory, history, network));
        report.Written(written);
        report.FinalAccuracy(final.Accuracy);
        return 0;
    }

    private static IReadOnlyList<EpochResult> Train(SampleNetwork network, DataSource data, SampleOptions options, ConsoleReport report, CancellationToken cancellationToken)
    {
        var training = new TrainingOptions
        {
            Epochs = options.Epochs,
            BatchSize = options.BatchSize,
            Seed = options.Seed,
            LearningRate = options.LearningRate,
            Optimizer = CreateOptimizer(options.Optimizer, options.WeightDecay),
            Schedule = LearningRateSchedule.Cosine,
            MaxShift = options.MaxShift,
            HorizontalFlip = options.HorizontalFlip,
            Threads = options.Threads,
        };
        report.TrainingStarts(options.Optimizer, options.WeightDecay, training);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<EpochResult> history = report.Train(
            options.Epochs,
            (progress, epochDone) => Trainer.Fit(network.Network, data.Train, data.Test, training, progress, epochDone, cancellationToken));
        report.TrainingDone(clock.Elapsed);
        return history;
    }

    private static void LoadWeights(SampleNetwork network, string path)
    {
        CheckIsNotFolder(path, "--load");
        network.Load(path); // a bad file throws InvalidDataException naming the file and the problem
    }

    private static Func<float, Optimizer> CreateOptimizer(OptimizerKind kind, float weightDecay) => kind switch
    {
        OptimizerKind.Sgd => rate => new Sgd(rate, weightDecay),
        OptimizerKind.Adam => rate => new Adam(rate, weightDecay: weightDecay),
        _ => rate => new MomentumSgd(rate, momentum: 0.9f, weightDecay: weightDecay),
    };

    private static void CheckIsNotFolder(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new IOException($"{option} '{path}' is a folder, not a weights file.");
        }
    }

    private static void CreateParentFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }
}

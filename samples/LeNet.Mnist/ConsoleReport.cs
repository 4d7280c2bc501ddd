using System;
using System.Collections.Generic;
using System.Globalization;
using LeNet.Gen.Training;
using Spectre.Console;

namespace LeNet.Mnist;

/// <summary>
/// Everything the sample prints on the standard output. In a terminal, training shows a live progress bar; when the
/// output is redirected (a log, CI) there is no live display and no colour, only one line per epoch.
/// </summary>
internal sealed class ConsoleReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly IAnsiConsole _console = AnsiConsole.Console;
    private readonly bool _live = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Creates the report; a redirected output gets long lines instead of being wrapped at 80 columns.</summary>
    public ConsoleReport()
    {
        if (Console.IsOutputRedirected)
        {
            _console.Profile.Width = 200;
        }
    }

    /// <summary>Epochs completed so far in this run.</summary>
    public int EpochsDone { get; private set; }

    /// <summary>Shows the network's layer table and the data.</summary>
    public void Introduce(string summary, DataSource data)
    {
        _console.WriteLine(summary.TrimEnd());
        _console.WriteLine();
        _console.MarkupLine(Format(
            $"data: [bold]{Markup.Escape(data.Name)}[/], {data.Train.Count:N0} training and {data.Test.Count:N0} test images of {data.Train.Size}×{data.Train.Size}"));
    }

    /// <summary>Reports how the weights read from <paramref name="path"/> do on the test set.</summary>
    public void Loaded(string path, Evaluation evaluation) =>
        _console.MarkupLine(Format(
            $"loaded {Markup.Escape(path)}: test accuracy {evaluation.Accuracy * 100:F2}%, mean loss {evaluation.MeanLoss:F4}"));

    /// <summary>Describes the training run about to start and prints the header of the epoch table.</summary>
    public void TrainingStarts(OptimizerKind optimizerKind, float weightDecay, TrainingOptions training)
    {
        string optimizer = optimizerKind.ToString().ToLowerInvariant();
        _console.MarkupLine(Format(
            $"training: {training.Epochs} epoch{(training.Epochs == 1 ? "" : "s")}, batch {training.BatchSize}, {optimizer} lr {training.LearningRate} ({training.Schedule.ToString().ToLowerInvariant()}){(weightDecay > 0f ? $", weight decay {weightDecay}" : "")}, shifts ±{training.MaxShift} px{(training.HorizontalFlip ? ", mirrored at random" : "")}, seed {training.Seed}, threads {training.Threads}"));
        _console.WriteLine();
        _console.MarkupLine("[bold]epoch     loss    train     test     img/s     time[/]");
    }

    /// <summary>
    /// Runs <paramref name="fit"/> with a progress reporter and an epoch callback that print as training goes; returns what it returns.
    /// </summary>
    public IReadOnlyList<EpochResult> Train(int epochs, Func<IProgress<TrainingProgress>?, Action<EpochResult>, IReadOnlyList<EpochResult>> fit)
    {
        void EpochDone(EpochResult result)
        {
            EpochsDone = result.Epoch;
            _console.MarkupLine(Format(
                $"{result.Epoch,5}  {result.Loss,7:F4}  {result.TrainAccuracy * 100,6:F2}%  [bold]{result.TestAccuracy * 100,6:F2}%[/]  {result.ImagesPerSecond,8:N0}  {result.Elapsed.TotalSeconds,6:F1}s"));
        }

        if (!_live)
        {
            return fit(null, EpochDone);
        }

        IReadOnlyList<EpochResult> history = [];
        _console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .Start(context => history = fit(new BatchProgress(context, epochs), EpochDone));
        return history;
    }

    /// <summary>Reports the wall time of the training.</summary>
    public void TrainingDone(TimeSpan elapsed)
    {
        _console.WriteLine();
        _console.MarkupLine(Format($"trained in {elapsed.TotalSeconds:F1} s (including the evaluation after each epoch)"));
    }

    /// <summary>Prints the test set's confusion matrix, the diagonal highlighted.</summary>
    public void Confusion(Evaluation evaluation)
    {
        var table = new Table()
            .Border(TableBorder.Simple)
            .Title("confusion matrix, test set")
            .AddColumn(new TableColumn("true\\pred").RightAligned());
        for (int predicted = 0; predicted < evaluation.Classes; predicted++)
        {
            table.AddColumn(new TableColumn(predicted.ToString(Invariant)) { Width = 4, Padding = new Padding(0, 0, 0, 0) }.RightAligned());
        }

        table.AddColumn(new TableColumn("recall") { Padding = new Padding(2, 0, 0, 0) }.RightAligned());
        for (int actual = 0; actual < evaluation.Classes; actual++)
        {
            var cells = new List<string> { actual.ToString(Invariant) };
            int total = 0;
            for (int predicted = 0; predicted < evaluation.Classes; predicted++)
            {
                int count = evaluation[actual, predicted];
                total += count;
                string text = count.ToString(Invariant);
                cells.Add(predicted == actual ? $"[green]{text}[/]" : count == 0 ? $"[grey]{text}[/]" : $"[red]{text}[/]");
            }

            double recall = total == 0 ? 0 : (double)evaluation[actual, actual] / total;
            cells.Add(Format($"{recall * 100:F1}%"));
            table.AddRow(cells.ToArray());
        }

        _console.WriteLine();
        _console.Write(table);
    }

    /// <summary>Lists the files written.</summary>
    public void Written(IReadOnlyList<string> paths)
    {
        if (paths.Count > 0)
        {
            _console.MarkupLine("wrote " + Markup.Escape(string.Join(", ", paths)));
        }
    }

    /// <summary>Warns on the standard error that a picture could not be drawn; the run goes on.</summary>
    public static void Warn(string message) => Console.Error.WriteLine("warning: " + OneLine(message));

    /// <summary>
    /// Prints the result as the very last line of the output, exactly <c>test accuracy: NN.NN%</c>, so scripts can read it
    /// with <c>tail -n 1</c>.
    /// </summary>
    public void FinalAccuracy(double accuracy) =>
        _console.WriteLine(Format($"test accuracy: {accuracy * 100:F2}%"));

    /// <summary>Squeezes a message onto one line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Format(FormattableString text) => text.ToString(Invariant);

    /// <summary>Moves the live progress bar: one bar per epoch, the finished ones hidden.</summary>
    private sealed class BatchProgress(ProgressContext context, int epochs) : IProgress<TrainingProgress>
    {
        private ProgressTask? _task;
        private int _epoch;

        public void Report(TrainingProgress value)
        {
            if (_task is null || value.Epoch != _epoch)
            {
                _task?.StopTask();
                _epoch = value.Epoch;
                _task = context.AddTask(Describe(value), maxValue: value.Batches);
            }

            _task.Value = value.Batch;
            _task.Description = value.Batch == value.Batches
                ? Format($"epoch {value.Epoch}/{epochs}  evaluating…")
                : Describe(value);
        }

        private string Describe(TrainingProgress value) =>
            Format($"epoch {value.Epoch}/{epochs}  loss {value.Loss:F4}");
    }
}

using System;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;

namespace LeNet.Mnist;

/// <summary>The command line: its options, their checks, and turning a parse into <see cref="SampleOptions"/>.</summary>
internal sealed class SampleCommand
{
    /// <summary>Exit code for a command line that does not parse or has a bad value.</summary>
    public const int UsageError = 2;

    private static readonly string[] OptimizerNames = ["sgd", "momentum", "adam"];

    private readonly Option<string?> _data = new("--data")
    {
        Description = "Folder with the four MNIST-style IDX files (train-images-idx3-ubyte[.gz] and the like), e.g. Fashion-MNIST. Without it, the digits embedded in the sample are used.",
        HelpName = "DIR",
    };

    private readonly Option<int> _epochs = new("--epochs")
    {
        Description = "Passes over the training set; 0 only evaluates (the --load weights, or fresh ones).",
        HelpName = "N",
        DefaultValueFactory = _ => new SampleOptions().Epochs,
    };

    private readonly Option<int> _batch = new("--batch")
    {
        Description = "Images per training step.",
        HelpName = "N",
        DefaultValueFactory = _ => new SampleOptions().BatchSize,
    };

    private readonly Option<float?> _learningRate = new("--lr")
    {
        Description = string.Create(
            CultureInfo.InvariantCulture,
            $"Peak learning rate, annealed to 1% of it over the run by a cosine schedule [default: {SampleOptions.DefaultLearningRate(OptimizerKind.Momentum)} for momentum, {SampleOptions.DefaultLearningRate(OptimizerKind.Sgd)} for sgd, {SampleOptions.DefaultLearningRate(OptimizerKind.Adam)} for adam]"),
        HelpName = "X",
    };

    private readonly Option<string> _optimizer = new("--optimizer")
    {
        Description = "sgd (plain), momentum (SGD with momentum 0.9) or adam.",
        HelpName = string.Join('|', OptimizerNames),
        DefaultValueFactory = _ => "momentum",
    };

    private readonly Option<int> _seed = new("--seed")
    {
        Description = "Seed of the initial weights, the shuffling and the augmentation; the same seed gives the same weights.",
        HelpName = "N",
        DefaultValueFactory = _ => new SampleOptions().Seed,
    };

    private readonly Option<int> _threads = new("--threads")
    {
        Description = "Threads a training step may use; the result does not depend on it.",
        HelpName = "N",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    private readonly Option<string> _save = new("--save")
    {
        Description = "File the trained weights are written to (safetensors).",
        HelpName = "FILE",
        DefaultValueFactory = _ => new SampleOptions().SavePath,
    };

    private readonly Option<string?> _load = new("--load")
    {
        Description = "Weights to start from (safetensors, as --save writes them): they are evaluated, then trained further for --epochs.",
        HelpName = "FILE",
    };

    private readonly Option<string> _out = new("--out")
    {
        Description = "Folder for the pictures: curves.png (loss and accuracy per epoch) and filters.png (the learned conv1 filters).",
        HelpName = "DIR",
        DefaultValueFactory = _ => new SampleOptions().OutputDirectory,
    };

    private SampleCommand(Func<SampleOptions, int> run)
    {
        AtLeast(_epochs, 0);
        AtLeast(_batch, 1);
        AtLeast(_threads, 1);
        NotEmpty(_data);
        NotEmpty(_save);
        NotEmpty(_load);
        NotEmpty(_out);
        _learningRate.Validators.Add(result =>
        {
            float? value = result.GetValueOrDefault<float?>();
            if (value is float rate && !(float.IsFinite(rate) && rate > 0f))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--lr must be a positive number, but it is {rate}."));
            }
        });
        _optimizer.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (!OptimizerNames.Contains(value))
            {
                result.AddError($"--optimizer must be sgd, momentum or adam, but it is '{value}'.");
            }
        });
        _optimizer.CompletionSources.Add(OptimizerNames);

        Root = new RootCommand("Trains LeNet-5, declared with LeNet.Gen attributes, on MNIST-style images and reports its test accuracy.")
        {
            _data, _epochs, _batch, _learningRate, _optimizer, _seed, _threads, _save, _load, _out,
        };
        Root.SetAction(parseResult => run(Bind(parseResult)));
    }

    /// <summary>The root command, with every option.</summary>
    public RootCommand Root { get; }

    /// <summary>
    /// Parses <paramref name="args"/> and runs <paramref name="run"/> with the options, or shows the help. A bad command
    /// line gets a one-line message on the standard error and <see cref="UsageError"/>.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="run">The run; returns the exit code.</param>
    /// <returns>The process's exit code.</returns>
    public static int Invoke(string[] args, Func<SampleOptions, int> run)
    {
        var command = new SampleCommand(run);
        ParseResult result = command.Root.Parse(args);
        if (result.Action is ParseErrorAction)
        {
            // System.CommandLine would print every error and then the whole help; one line is kinder to scripts and logs.
            string message = string.Join(' ', result.Errors[0].Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
            Console.Error.WriteLine($"error: {message} (see --help)");
            return UsageError;
        }

        return result.Invoke();
    }

    private SampleOptions Bind(ParseResult result) => new()
    {
        DataDirectory = result.GetValue(_data),
        Epochs = result.GetValue(_epochs),
        BatchSize = result.GetValue(_batch),
        RequestedLearningRate = result.GetValue(_learningRate),
        Optimizer = result.GetValue(_optimizer) switch
        {
            "sgd" => OptimizerKind.Sgd,
            "adam" => OptimizerKind.Adam,
            _ => OptimizerKind.Momentum,
        },
        Seed = result.GetValue(_seed),
        Threads = result.GetValue(_threads),
        SavePath = result.GetRequiredValue(_save),
        LoadPath = result.GetValue(_load),
        OutputDirectory = result.GetRequiredValue(_out),
    };

    private static void AtLeast(Option<int> option, int minimum) => option.Validators.Add(result =>
    {
        int value = result.GetValueOrDefault<int>();
        if (value < minimum)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at least {minimum}, but it is {value}."));
        }
    });

    private static void NotEmpty(Option option) => option.Validators.Add(result =>
    {
        if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[^1].Value))
        {
            result.AddError($"{option.Name} needs a path, but it is empty.");
        }
    });
}

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

    private static readonly string[] NetworkNames = ["lenet5", "lenet-bn"];

    private readonly Option<string> _network = new("--network")
    {
        Description = "The network: lenet5 (LeNet-5) or lenet-bn (three convolutions with batch norm, a dense layer with batch norm and dropout; 94,330 parameters).",
        HelpName = "NAME",
        DefaultValueFactory = _ => "lenet5",
    };

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

    private readonly Option<float> _weightDecay = new("--weight-decay")
    {
        Description = "L2 penalty added to each gradient as weight decay × parameter (PyTorch's weight_decay); 0 turns it off.",
        HelpName = "X",
        DefaultValueFactory = _ => new SampleOptions().WeightDecay,
    };

    private readonly Option<int?> _shift = new("--shift")
    {
        Description = string.Create(
            CultureInfo.InvariantCulture,
            $"Largest random shift of a training image, in pixels, in each direction (augmentation); 0 turns it off [default: {SampleOptions.DefaultMaxShift(embeddedDigits: true)} for the embedded digits, {SampleOptions.DefaultMaxShift(embeddedDigits: false)} with --data]"),
        HelpName = "N",
    };

    private readonly Option<bool> _flip = new("--flip")
    {
        Description = "Mirror each training image left to right with probability 1/2 (augmentation for clothes such as Fashion-MNIST; not for digits).",
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
        DefaultValueFactory = _ => new SampleOptions().Threads,
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

    private readonly RootCommand _root;

    private SampleCommand(Func<SampleOptions, int> run)
    {
        _epochs.CustomParser = IntegerAtLeast(0);
        _batch.CustomParser = IntegerAtLeast(1);
        _threads.CustomParser = IntegerAtLeast(1);
        _shift.CustomParser = result => IntegerAtLeast(0)(result);
        _seed.CustomParser = IntegerAtLeast(int.MinValue);
        _learningRate.CustomParser = PositiveNumber;
        _weightDecay.CustomParser = NonNegativeNumber;
        NotEmpty(_data);
        NotEmpty(_save);
        NotEmpty(_load);
        NotEmpty(_out);
        _optimizer.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (!OptimizerNames.Contains(value))
            {
                result.AddError($"--optimizer must be sgd, momentum or adam, but it is '{value}'.");
            }
        });
        _optimizer.CompletionSources.Add(OptimizerNames);
        _network.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (!NetworkNames.Contains(value))
            {
                result.AddError($"--network must be lenet5 or lenet-bn, but it is '{value}'.");
            }
        });
        _network.CompletionSources.Add(NetworkNames);

        _root = new RootCommand("Trains LeNet-5, declared with LeNet.Gen attributes, on MNIST-style images and reports its test accuracy.")
        {
            _data, _network, _epochs, _batch, _learningRate, _optimizer, _weightDecay, _shift, _flip, _seed, _threads, _save, _load, _out,
        };
        _root.SetAction(parseResult => run(Bind(parseResult)));
    }

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
        ParseResult result = command._root.Parse(args);
        if (result.Action is ParseErrorAction)
        {
            // System.CommandLine would print every error and then the whole help; one line is kinder to scripts and logs.
            Console.Error.WriteLine($"error: {ConsoleReport.OneLine(result.Errors[0].Message)} (see --help)");
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
        WeightDecay = result.GetValue(_weightDecay),
        RequestedMaxShift = result.GetValue(_shift),
        HorizontalFlip = result.GetValue(_flip),
        Network = result.GetValue(_network) == "lenet-bn" ? NetworkKind.LeNetBN : NetworkKind.LeNet5,
        Seed = result.GetValue(_seed),
        Threads = result.GetValue(_threads),
        SavePath = result.GetRequiredValue(_save),
        LoadPath = result.GetValue(_load),
        OutputDirectory = result.GetRequiredValue(_out),
    };

    // Custom parsers rather than validators: a validator that reads the value of a token that is not a number throws
    // instead of reporting the error.
    private static Func<ArgumentResult, int> IntegerAtLeast(int minimum) => result =>
    {
        string text = result.Tokens[^1].Value;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            result.AddError($"{Name(result)} takes a whole number, but it is '{text}'.");
        }
        else if (value < minimum)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{Name(result)} must be at least {minimum}, but it is {value}."));
        }

        return value;
    };

    private static float? PositiveNumber(ArgumentResult result)
    {
        string text = result.Tokens[^1].Value;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            result.AddError($"{Name(result)} takes a number, but it is '{text}'.");
        }
        else if (!(float.IsFinite(value) && value > 0f))
        {
            result.AddError($"{Name(result)} must be a positive number, but it is '{text}'.");
        }

        return value;
    }

    private static float NonNegativeNumber(ArgumentResult result)
    {
        string text = result.Tokens[^1].Value;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            result.AddError($"{Name(result)} takes a number, but it is '{text}'.");
        }
        else if (!(float.IsFinite(value) && value >= 0f))
        {
            result.AddError($"{Name(result)} must be a number of at least 0, but it is '{text}'.");
        }

        return value;
    }

    private static string Name(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;

    private static void NotEmpty(Option option) => option.Validators.Add(result =>
    {
        if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[^1].Value))
        {
            result.AddError($"{option.Name} needs a path, but it is empty.");
        }
    });
}

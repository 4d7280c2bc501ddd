using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using LeNet.Gen.Tests.Generated;
using LeNet.Gen.Testing;
using Xunit;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>Conv stride 1: the target of a stride mismatch.</summary>
[Network(1, 8, 8)]
[Conv(2, 3, Activation = Activation.ReLU)]
[Dense(3, Activation = Activation.Softmax)]
public partial class StrideOne { }

/// <summary>The same convolution with stride 2 (floor rounding: 8 − 3 is odd).</summary>
[Network(1, 8, 8, Rounding = ShapeRounding.Floor)]
[Conv(2, 3, Stride = 2, Activation = Activation.ReLU)]
[Dense(3, Activation = Activation.Softmax)]
public partial class StrideTwo { }

/// <summary><see cref="CeilingMaxFirst"/> with floor rounding: the same tensors but for the dense layer.</summary>
[Network(2, 9, 9, Rounding = ShapeRounding.Floor)]
[Pool(PoolKind.Max, 2)]
[Conv(3, 3, Padding = 1, Activation = Activation.ReLU)]
[Dense(3, Activation = Activation.Softmax)]
public partial class FloorMaxFirst { }

/// <summary>Max pooling straight on the input.</summary>
[Network(1, 8, 8)]
[Pool(PoolKind.Max, 2)]
[Dense(3, Activation = Activation.Softmax)]
public partial class MaxPooled { }

/// <summary><see cref="MaxPooled"/> with average pooling.</summary>
[Network(1, 8, 8)]
[Pool(PoolKind.Average, 2)]
[Dense(3, Activation = Activation.Softmax)]
public partial class AveragePooled { }

/// <summary>Average pooling under Ceiling rounding straight on a 7×7 input: the last windows hang over the edge.</summary>
[Network(1, 7, 7, Rounding = ShapeRounding.Ceiling)]
[Pool(PoolKind.Average, 2)]
[Dense(3, Activation = Activation.Softmax)]
public partial class CeilingPooled { }

/// <summary>A generated network with its ONNX members, reached without an interface (they are the public contract).</summary>
public sealed record OnnxCase(string Name, Func<int, INetwork> Create, IReadOnlyList<LayerInfo> Layers)
{
    public override string ToString() => Name;

    /// <summary>Every architecture in TestNetworks.cs, the network without softmax included.</summary>
    public static IReadOnlyList<OnnxCase> All { get; } = new[]
    {
        new OnnxCase(nameof(LeNet5), s => new LeNet5(s), LeNet5.Layers),
        new OnnxCase(nameof(LeNet5MaxTanh), s => new LeNet5MaxTanh(s), LeNet5MaxTanh.Layers),
        new OnnxCase(nameof(PaddedStrided), s => new PaddedStrided(s), PaddedStrided.Layers),
        new OnnxCase(nameof(Rgb32), s => new Rgb32(s), Rgb32.Layers),
        new OnnxCase(nameof(DenseOnly), s => new DenseOnly(s), DenseOnly.Layers),
        new OnnxCase(nameof(CeilingAverage), s => new CeilingAverage(s), CeilingAverage.Layers),
        new OnnxCase(nameof(CeilingMaxFirst), s => new CeilingMaxFirst(s), CeilingMaxFirst.Layers),
        new OnnxCase(nameof(Regressor), s => new Regressor(s), Regressor.Layers),
        new OnnxCase(nameof(StrideTwo), s => new StrideTwo(s), StrideTwo.Layers),
        new OnnxCase(nameof(CeilingPooled), s => new CeilingPooled(s), CeilingPooled.Layers),
        new OnnxCase(nameof(GlobalPooled), s => new GlobalPooled(s), GlobalPooled.Layers),
        new OnnxCase(nameof(GlobalPooledFirst), s => new GlobalPooledFirst(s), GlobalPooledFirst.Layers),
        new OnnxCase(nameof(DropoutNet), s => new DropoutNet(s), DropoutNet.Layers),
        new OnnxCase(nameof(DropoutFirst), s => new DropoutFirst(s), DropoutFirst.Layers),
        new OnnxCase(nameof(BatchNormNet), s => Trained(new BatchNormNet(s), s), BatchNormNet.Layers),
        new OnnxCase(nameof(BatchNormDense), s => Trained(new BatchNormDense(s), s), BatchNormDense.Layers),
        new OnnxCase(nameof(BatchNormPadded), s => Trained(new BatchNormPadded(s), s), BatchNormPadded.Layers),
    };

    /// <summary>
    /// Three training steps on random batches of 4, so that a batch norm's running statistics are no longer the
    /// initial mean 0 and variance 1 (a swapped or missing statistic would then go unnoticed) and its γ and β move.
    /// </summary>
    public static INetwork Trained(ITrainableNetwork network, int seed)
    {
        const int batch = 4;
        var random = new Random(1000 + seed);
        var inputs = new float[batch * network.InputLength];
        var labels = new int[batch];
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = (float)((random.NextDouble() * 4) - 1);
            }

            for (int n = 0; n < batch; n++)
            {
                labels[n] = random.Next(network.OutputLength);
            }

            network.Train(inputs, labels, 0.1f);
        }

        return network;
    }

    public static IEnumerable<object[]> Data()
    {
        foreach (OnnxCase network in All)
        {
            yield return new object[] { network };
        }
    }

    public static OnnxCase Named(string name) => All is { } all ? FindIn(all, name) : throw new InvalidOperationException();

    private static OnnxCase FindIn(IReadOnlyList<OnnxCase> all, string name)
    {
        foreach (OnnxCase network in all)
        {
            if (network.Name == name)
            {
                return network;
            }
        }

        throw new ArgumentException(name);
    }
}

/// <summary>SaveOnnx and LoadOnnx of any generated network, called on its own members.</summary>
internal static class OnnxMembers
{
    public static void Save(INetwork network, Stream stream)
    {
        switch (network)
        {
            case LeNet5 n: n.SaveOnnx(stream); break;
            case LeNet5MaxTanh n: n.SaveOnnx(stream); break;
            case PaddedStrided n: n.SaveOnnx(stream); break;
            case Rgb32 n: n.SaveOnnx(stream); break;
            case DenseOnly n: n.SaveOnnx(stream); break;
            case CeilingAverage n: n.SaveOnnx(stream); break;
            case CeilingMaxFirst n: n.SaveOnnx(stream); break;
            case Regressor n: n.SaveOnnx(stream); break;
            case StrideOne n: n.SaveOnnx(stream); break;
            case StrideTwo n: n.SaveOnnx(stream); break;
            case FloorMaxFirst n: n.SaveOnnx(stream); break;
            case MaxPooled n: n.SaveOnnx(stream); break;
            case AveragePooled n: n.SaveOnnx(stream); break;
            case CeilingPooled n: n.SaveOnnx(stream); break;
            case GlobalPooled n: n.SaveOnnx(stream); break;
            case GlobalPooledFirst n: n.SaveOnnx(stream); break;
            case DropoutNet n: n.SaveOnnx(stream); break;
            case DropoutFirst n: n.SaveOnnx(stream); break;
            case BatchNormNet n: n.SaveOnnx(stream); break;
            case BatchNormDense n: n.SaveOnnx(stream); break;
            case BatchNormPadded n: n.SaveOnnx(stream); break;
            default: throw new ArgumentException(network.GetType().Name);
        }
    }

    public static void Load(INetwork network, Stream stream)
    {
        switch (network)
        {
            case LeNet5 n: n.LoadOnnx(stream); break;
            case LeNet5MaxTanh n: n.LoadOnnx(stream); break;
            case PaddedStrided n: n.LoadOnnx(stream); break;
            case Rgb32 n: n.LoadOnnx(stream); break;
            case DenseOnly n: n.LoadOnnx(stream); break;
            case CeilingAverage n: n.LoadOnnx(stream); break;
            case CeilingMaxFirst n: n.LoadOnnx(stream); break;
            case Regressor n: n.LoadOnnx(stream); break;
            case StrideOne n: n.LoadOnnx(stream); break;
            case StrideTwo n: n.LoadOnnx(stream); break;
            case FloorMaxFirst n: n.LoadOnnx(stream); break;
            case MaxPooled n: n.LoadOnnx(stream); break;
            case AveragePooled n: n.LoadOnnx(stream); break;
            case CeilingPooled n: n.LoadOnnx(stream); break;
            case GlobalPooled n: n.LoadOnnx(stream); break;
            case GlobalPooledFirst n: n.LoadOnnx(stream); break;
            case DropoutNet n: n.LoadOnnx(stream); break;
            case DropoutFirst n: n.LoadOnnx(stream); break;
            case BatchNormNet n: n.LoadOnnx(stream); break;
            case BatchNormDense n: n.LoadOnnx(stream); break;
            case BatchNormPadded n: n.LoadOnnx(stream); break;
            default: throw new ArgumentException(network.GetType().Name);
        }
    }

    /// <summary>The running statistics (and batch counts) of a network with batch norm; empty for the others.</summary>
    public static Span<float> State(INetwork network) => network switch
    {
        BatchNormNet n => n.State,
        BatchNormDense n => n.State,
        BatchNormPadded n => n.State,
        _ => Span<float>.Empty,
    };

    public static byte[] SaveToBytes(INetwork network)
    {
        using var stream = new MemoryStream();
        Save(network, stream);
        return stream.ToArray();
    }
}

/// <summary>
/// The one place that finds Debian's Python with python3-torch and python3-onnx. When they are missing the test
/// fails (it never passes silently) and says what to install.
/// </summary>
internal static class PythonTools
{
    public const string Python = "/usr/bin/python3";
    /// <summary>Runs onnx_torch.py with the arguments and returns its standard output; fails the test on any error.</summary>
    public static string Run(Action<string> log, params string[] arguments)
    {
        ExternalTools.Require(Tool.PyTorch, Tool.Onnx);
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Onnx", "onnx_torch.py"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = stderrTask.Result;
        Assert.True(process.WaitForExit(300_000), "python did not finish");
        log(stdout);
        Assert.True(
            process.ExitCode == 0,
            $"python failed ({process.ExitCode})\n{stdout}{stderr}");
        return stdout;
    }
}

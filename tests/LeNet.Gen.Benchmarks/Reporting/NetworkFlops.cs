using System;
using System.Collections.Generic;
using System.Reflection;

namespace LeNet.Gen.Benchmarks.Reporting;

/// <summary>What one image costs a benchmark: a forward pass, or a training step.</summary>
public enum Pass
{
    /// <summary>Prediction: the forward pass.</summary>
    Forward = 0,

    /// <summary>One training step's share for one image: forward pass, weight gradients and input gradients.</summary>
    TrainingStep = 1,
}

/// <summary>
/// Floating-point operations per image of a generated network, from its own layer shapes (the static <c>Layers</c> the
/// generator writes), with the peer harness's definition (<c>../shared/peers/nets.py</c>, <c>flops</c>): a
/// multiply-add counts as 2, and only convolutions and dense layers count (pooling, biases, batch norm, dropout,
/// activations and the softmax do not).
/// </summary>
/// <param name="Forward">FLOPs of the forward pass of one image.</param>
/// <param name="TrainingStep">
/// FLOPs of one image's share of a training step: the forward pass, the weight gradients (as many again) and the input
/// gradients (as many again, except for the first weighted layer, whose input gradient is not needed): 3 × forward − the
/// first weighted layer's forward.
/// </param>
public sealed record NetworkFlops(long Forward, long TrainingStep)
{
    /// <summary>FLOPs per image of <paramref name="pass"/>.</summary>
    public long Of(Pass pass) => pass == Pass.Forward ? Forward : TrainingStep;

    /// <summary>Counts the FLOPs of a list of layers.</summary>
    /// <exception cref="ArgumentException">The list has no convolution or dense layer.</exception>
    public static NetworkFlops Of(IReadOnlyList<LayerInfo> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        long forward = 0;
        long firstWeighted = -1;
        foreach (LayerInfo layer in layers)
        {
            long flops = LayerForward(layer);
            forward += flops;
            if (firstWeighted < 0 && layer.Kind is LayerKind.Convolution or LayerKind.Dense)
            {
                firstWeighted = flops;
            }
        }

        if (firstWeighted < 0)
        {
            throw new ArgumentException("The network has no convolution or dense layer.", nameof(layers));
        }

        return new NetworkFlops(forward, (3 * forward) - firstWeighted);
    }

    /// <summary>Counts the FLOPs of a generated network class, from its static <c>Layers</c> property.</summary>
    /// <exception cref="ArgumentException"><paramref name="network"/> has no public static <c>Layers</c> of <see cref="LayerInfo"/>.</exception>
    public static NetworkFlops Of(Type network)
    {
        ArgumentNullException.ThrowIfNull(network);
        PropertyInfo? property = network.GetProperty("Layers", BindingFlags.Public | BindingFlags.Static);
        if (property?.GetValue(null) is not IReadOnlyList<LayerInfo> layers)
        {
            throw new ArgumentException($"{network.Name} is not a generated network: it has no public static Layers.", nameof(network));
        }

        return Of(layers);
    }

    /// <summary>
    /// FLOPs of one layer's forward pass on one image: 2 × outputs × inputs per output for a convolution (output
    /// channels × height × width × input channels × kernel²) and for a dense layer (units × input length); 0 otherwise.
    /// </summary>
    public static long LayerForward(LayerInfo layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        IReadOnlyList<int> input = layer.InputShape;
        IReadOnlyList<int> output = layer.OutputShape;
        switch (layer.Kind)
        {
            case LayerKind.Convolution:
                return 2L * output[0] * output[1] * output[2] * input[0] * layer.Kernel * layer.Kernel;
            case LayerKind.Dense:
                long inputLength = 1;
                foreach (int dimension in input)
                {
                    inputLength *= dimension;
                }

                return 2L * inputLength * output[0];
            default:
                return 0;
        }
    }
}

/// <summary>
/// Says what one operation of a benchmark is, so that the results table can give GFLOP/s and the share of the FMA peak:
/// a <see cref="Reporting.Pass"/> of <see cref="Network"/> (the generated class whose layers define the work; the
/// straightforward and ONNX Runtime rows compute the same network) on <see cref="Threads"/> threads. Benchmarks whose
/// work is something else (e.g. the batch-norm arithmetic alone) have none, and show "—".
/// </summary>
/// <param name="network">The generated network class.</param>
/// <param name="pass">Forward pass or training step.</param>
/// <param name="threads">The threads the benchmark runs on (the peak is multiplied by it).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NetworkWorkAttribute(Type network, Pass pass, int threads) : Attribute
{
    /// <summary>The generated network class.</summary>
    public Type Network { get; } = network;

    /// <summary>Forward pass or training step.</summary>
    public Pass Pass { get; } = pass;

    /// <summary>The threads the benchmark runs on.</summary>
    public int Threads { get; } = threads;
}

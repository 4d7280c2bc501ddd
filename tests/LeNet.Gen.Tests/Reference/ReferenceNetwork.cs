using System;
using System.Collections.Generic;
using System.Linq;

namespace LeNet.Gen.Tests.Reference;

// An independent reference for the networks LeNet.Gen generates. It is written from the mathematical definitions only,
// in double precision, with plain loops and no shared code with the generator or the runtime library, so that tests
// can compare generated float32 code against it. Speed is not a goal; obviousness is.

/// <summary>The function applied after a convolution or dense layer.</summary>
public enum RefActivation
{
    /// <summary>Identity.</summary>
    None,

    /// <summary>max(0, x); its derivative at exactly 0 is taken as 0.</summary>
    ReLU,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,

    /// <summary>Softmax over all outputs of the layer; allowed on the last layer only.</summary>
    Softmax,
}

/// <summary>The reduction a pooling layer applies to each window.</summary>
public enum RefPool
{
    /// <summary>Largest value of the window; backward sends the gradient to the first maximum in row-major order.</summary>
    Max,

    /// <summary>Sum of the in-bounds values divided by their number.</summary>
    Average,
}

/// <summary>How the output size of a convolution or pooling layer is rounded.</summary>
public enum RefRounding
{
    /// <summary>Every window must fit exactly: (in + 2P − K) must be a multiple of S.</summary>
    Exact,

    /// <summary>Trailing input that does not fill a window is dropped.</summary>
    Floor,

    /// <summary>PyTorch <c>ceil_mode=True</c>: a partial trailing window is kept unless it starts in the right padding.</summary>
    Ceiling,
}

/// <summary>One layer of a sequential network.</summary>
public abstract record RefLayer;

/// <summary>A 2-D convolution with <paramref name="Filters"/> square <paramref name="Kernel"/>×<paramref name="Kernel"/> filters.</summary>
public sealed record RefConv(int Filters, int Kernel, int Stride = 1, int Padding = 0, RefActivation Activation = RefActivation.None) : RefLayer;

/// <summary>A per-channel pooling layer with a square window and no padding.</summary>
public sealed record RefPoolLayer(RefPool Kind, int Size, int Stride) : RefLayer;

/// <summary>Global average pooling: each channel's mean over its height and width, (C, H, W) → (C, 1, 1).</summary>
public sealed record RefGlobalAveragePool : RefLayer;

/// <summary>
/// Inverted dropout: the identity in prediction; in training (when <see cref="ReferenceNetwork.DropoutKeeps"/> is set)
/// a kept value is scaled by 1 / (1 − P) and a dropped one is 0.
/// </summary>
public sealed record RefDropout(double P) : RefLayer;

/// <summary>
/// Batch normalisation of the layer before it, per channel (spatial input) or per unit (flat input), with learnable γ
/// and β; the activation written on the layer before is applied after it. Training uses the batch's mean and biased
/// variance; prediction uses the running statistics in <see cref="ReferenceNetwork.State"/>.
/// </summary>
public sealed record RefBatchNorm(double Epsilon = 1e-5, double Momentum = 0.1) : RefLayer;

/// <summary>A fully connected layer over the flattened (C, H, W) input.</summary>
public sealed record RefDense(int Units, RefActivation Activation = RefActivation.None) : RefLayer;

/// <summary>
/// A plain double-precision implementation of a small sequential convolutional network: shapes, parameter layout,
/// forward pass, cross-entropy loss, analytic gradient by backpropagation and a finite-difference gradient.
/// </summary>
public sealed class ReferenceNetwork
{
    private readonly LayerInfo[] _layers;
    private readonly (string Name, int Offset, int[] Shape)[] _tensors;
    private readonly (int C, int H, int W)[] _outputShapes;
    private readonly List<LayerInfo> _norms = new();

    /// <summary>Builds a network and infers every layer's shape and parameter offsets.</summary>
    /// <param name="channels">Input channels C.</param>
    /// <param name="height">Input height H.</param>
    /// <param name="width">Input width W.</param>
    /// <param name="layers">The layers, applied in order.</param>
    /// <param name="rounding">How convolution and pooling output sizes are rounded.</param>
    /// <exception cref="ArgumentException">The description is not a valid network.</exception>
    public ReferenceNetwork(int channels, int height, int width, IReadOnlyList<RefLayer> layers, RefRounding rounding = RefRounding.Exact)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        }

        if (!Enum.IsDefined(rounding))
        {
            throw new ArgumentOutOfRangeException(nameof(rounding));
        }

        Rounding = rounding;
        _layers = new LayerInfo[layers.Count];
        _outputShapes = new (int C, int H, int W)[layers.Count];
        var tensors = new List<(string Name, int Offset, int[] Shape)>();
        int c = channels, h = height, w = width;
        bool flattened = false;
        int convCount = 0, denseCount = 0, normCount = 0, offset = 0;

        for (int l = 0; l < layers.Count; l++)
        {
            RefLayer layer = layers[l] ?? throw new ArgumentException($"Layer {l} is null.", nameof(layers));
            bool last = l == layers.Count - 1;
            var info = new LayerInfo { Layer = layer, InC = c, InH = h, InW = w, Flat = flattened };
            switch (layer)
            {
                case RefConv conv:
                    if (flattened)
                    {
                        throw new ArgumentException($"Layer {l}: a convolution cannot follow a dense layer.", nameof(layers));
                    }

                    Require(conv.Filters >= 1 && conv.Kernel >= 1 && conv.Stride >= 1 && conv.Padding >= 0, l, "filters, kernel and stride must be at least 1 and padding at least 0");
                    CheckActivation(conv.Activation, last, l);
                    info.Activation = conv.Activation;
                    info.OutC = conv.Filters;
                    info.OutH = AxisSize(h, conv.Kernel, conv.Stride, conv.Padding, rounding, l, "height");
                    info.OutW = AxisSize(w, conv.Kernel, conv.Stride, conv.Padding, rounding, l, "width");
                    convCount++;
                    info.WeightOffset = offset;
                    int[] convWeightShape = [conv.Filters, c, conv.Kernel, conv.Kernel];
                    tensors.Add(($"conv{convCount}.weight", offset, convWeightShape));
                    offset = checked(offset + (conv.Filters * c * conv.Kernel * conv.Kernel));
                    info.BiasOffset = offset;
                    tensors.Add(($"conv{convCount}.bias", offset, [conv.Filters]));
                    offset = checked(offset + conv.Filters);
                    break;

                case RefPoolLayer pool:
                    if (flattened)
                    {
                        throw new ArgumentException($"Layer {l}: a pooling layer cannot follow a dense layer.", nameof(layers));
                    }

                    Require(pool.Size >= 1 && pool.Stride >= 1, l, "pool size and stride must be at least 1");
                    Require(Enum.IsDefined(pool.Kind), l, "unknown pool kind");
                    info.Activation = RefActivation.None;
                    info.OutC = c;
                    info.OutH = AxisSize(h, pool.Size, pool.Stride, 0, rounding, l, "height");
                    info.OutW = AxisSize(w, pool.Size, pool.Stride, 0, rounding, l, "width");
                    break;

                case RefGlobalAveragePool:
                    if (flattened)
                    {
                        throw new ArgumentException($"Layer {l}: global average pooling cannot follow a dense layer.", nameof(layers));
                    }

                    info.Activation = RefActivation.None;
                    info.OutC = c;
                    info.OutH = 1;
                    info.OutW = 1;
                    break;

                case RefDropout dropout:
                    Require(dropout.P >= 0 && dropout.P < 1, l, "p must be in [0, 1)");
                    info.Activation = RefActivation.None;
                    info.OutC = c;
                    info.OutH = h;
                    info.OutW = w;
                    info.Index = l;
                    break;

                case RefBatchNorm norm:
                    Require(l > 0 && layers[l - 1] is not RefBatchNorm, l, "a batch norm needs a layer before it that is not a batch norm");
                    Require(norm.Epsilon > 0 && norm.Momentum >= 0 && norm.Momentum <= 1, l, "epsilon must be positive and momentum in [0, 1]");

                    // layer → batch norm → activation: the activation written on the layer before moves here.
                    info.Activation = _layers[l - 1].Activation;
                    _layers[l - 1].Activation = RefActivation.None;
                    info.OutC = c;
                    info.OutH = h;
                    info.OutW = w;
                    normCount++;
                    int normalised = flattened ? c * h * w : c;
                    info.WeightOffset = offset;
                    tensors.Add(($"bn{normCount}.weight", offset, [normalised]));
                    offset = checked(offset + normalised);
                    info.BiasOffset = offset;
                    tensors.Add(($"bn{normCount}.bias", offset, [normalised]));
                    offset = checked(offset + normalised);
                    info.Index = l;
                    _norms.Add(info);
                    break;

                case RefDense dense:
                    Require(dense.Units >= 1, l, "units must be at least 1");
                    CheckActivation(dense.Activation, last, l);
                    info.Activation = dense.Activation;
                    info.OutC = dense.Units;
                    info.OutH = 1;
                    info.OutW = 1;
                    denseCount++;
                    int inLength = c * h * w;
                    info.WeightOffset = offset;
                    tensors.Add(($"fc{denseCount}.weight", offset, [dense.Units, inLength]));
                    offset = checked(offset + (dense.Units * inLength));
                    info.BiasOffset = offset;
                    tensors.Add(($"fc{denseCount}.bias", offset, [dense.Units]));
                    offset = checked(offset + dense.Units);
                    flattened = true;
                    break;

                default:
                    throw new ArgumentException($"Layer {l}: unknown layer type {layer.GetType().Name}.", nameof(layers));
            }

            _layers[l] = info;
            _outputShapes[l] = (info.OutC, info.OutH, info.OutW);
            c = info.OutC;
            h = info.OutH;
            w = info.OutW;
        }

        InputShape = (channels, height, width);
        InputLength = channels * height * width;
        OutputLength = c * h * w;
        ParameterCount = offset;

        // Running statistics follow the parameters: running_mean, running_var, num_batches_tracked of each batch norm.
        int state = 0;
        foreach (LayerInfo norm in _norms)
        {
            int units = Channels(norm);
            int number = _norms.IndexOf(norm) + 1;
            norm.StateOffset = state;
            tensors.Add(($"bn{number}.running_mean", offset + state, [units]));
            tensors.Add(($"bn{number}.running_var", offset + state + units, [units]));
            tensors.Add(($"bn{number}.num_batches_tracked", offset + state + (2 * units), []));
            state += (2 * units) + 1;
        }

        State = new double[state];
        foreach (LayerInfo norm in _norms)
        {
            Array.Fill(State, 1.0, norm.StateOffset + Channels(norm), Channels(norm));
        }

        _tensors = tensors.ToArray();
    }

    /// <summary>
    /// The running statistics of the batch norms (running_mean, running_var, num_batches_tracked of each, as the state
    /// tensors of <see cref="Tensors"/> lay them out after the parameters): initially mean 0, variance 1, count 0.
    /// Prediction reads them; <see cref="UpdateRunningStatistics"/> moves them as one training step does.
    /// </summary>
    public double[] State { get; private set; }

    /// <summary>True when some layer is a batch norm: the loss of an example then depends on its whole batch.</summary>
    public bool HasBatchNorm => _norms.Count > 0;

    /// <summary>The layers, as described.</summary>
    public IReadOnlyList<RefLayer> Layers => Array.ConvertAll(_layers, l => l.Layer);

    /// <summary>The input shape (C, H, W).</summary>
    public (int C, int H, int W) InputShape { get; }

    /// <summary>
    /// The dropout masks of training: whether (example in the batch, layer position, value index) is kept. When null,
    /// dropout is the identity everywhere. Used by <see cref="MeanLoss"/>, <see cref="Gradient"/> and
    /// <see cref="FiniteDifferenceGradient"/>; <see cref="Forward"/>, <see cref="Loss"/> and <see cref="Backward"/> are
    /// prediction and never drop.
    /// </summary>
    public Func<int, int, int, bool>? DropoutKeeps { get; set; }

    /// <summary>The rounding mode of convolution and pooling output sizes.</summary>
    public RefRounding Rounding { get; }

    /// <summary>Number of input values, C·H·W.</summary>
    public int InputLength { get; }

    /// <summary>Number of outputs of the last layer.</summary>
    public int OutputLength { get; }

    /// <summary>Length of the flat parameter vector.</summary>
    public int ParameterCount { get; }

    /// <summary>True when the last layer applies Softmax, so that the cross-entropy loss is defined.</summary>
    public bool EndsWithSoftmax => _layers[^1].Activation == RefActivation.Softmax;

    /// <summary>
    /// The named tensors of the parameter vector in PyTorch <c>state_dict</c> order: <c>conv1.weight</c> [F, C, K, K],
    /// <c>conv1.bias</c> [F], …, <c>fc1.weight</c> [U, In], <c>fc1.bias</c> [U], … (numbered within each kind from 1).
    /// </summary>
    public IReadOnlyList<(string Name, int Offset, int[] Shape)> Tensors => _tensors;

    /// <summary>Each layer's output shape; a dense layer's is (Units, 1, 1).</summary>
    public IReadOnlyList<(int C, int H, int W)> OutputShapes => _outputShapes;

    /// <summary>
    /// The output size along one axis: span = in + 2P − K (must be ≥ 0). Exact and Floor: span / S + 1 (Exact requires
    /// span to be a multiple of S). Ceiling: ceil(span / S) + 1, minus one when the last window would start at or beyond
    /// in + P (the PyTorch <c>ceil_mode</c> rule).
    /// </summary>
    /// <exception cref="ArgumentException">The window does not fit, or an Exact size is not whole.</exception>
    public static int OutputSize(int input, int kernel, int stride, int padding, RefRounding rounding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(input, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        int span = input + (2 * padding) - kernel;
        if (span < 0)
        {
            throw new ArgumentException($"A window of {kernel} does not fit an input of {input} with padding {padding}.");
        }

        switch (rounding)
        {
            case RefRounding.Exact:
                if (span % stride != 0)
                {
                    throw new ArgumentException($"Input {input}, kernel {kernel}, stride {stride}, padding {padding} does not give a whole output size.");
                }

                return (span / stride) + 1;
            case RefRounding.Floor:
                return (span / stride) + 1;
            case RefRounding.Ceiling:
                int output = ((span + stride - 1) / stride) + 1;
                if ((output - 1) * stride >= input + padding)
                {
                    output--;
                }

                return output;
            default:
                throw new ArgumentOutOfRangeException(nameof(rounding));
        }
    }

    /// <summary>Runs the network on one input and returns the last layer's outputs (probabilities if it ends with Softmax).</summary>
    public double[] Forward(ReadOnlySpan<double> parameters, ReadOnlySpan<double> input)
    {
        CheckParameters(parameters);
        CheckInput(input);
        Trace trace = RunForward(parameters, input);
        return trace.Outputs[^1];
    }

    /// <summary>Runs the network on one input and returns every layer's output (after its activation), in layer order.</summary>
    public double[][] ForwardLayers(ReadOnlySpan<double> parameters, ReadOnlySpan<double> input)
    {
        CheckParameters(parameters);
        CheckInput(input);
        Trace trace = RunForward(parameters, input);
        var result = new double[_layers.Length][];
        for (int l = 0; l < _layers.Length; l++)
        {
            result[l] = trace.Outputs[l + 1];
        }

        return result;
    }

    /// <summary>Cross-entropy −log p[label] of one example; the network must end with Softmax.</summary>
    public double Loss(ReadOnlySpan<double> parameters, ReadOnlySpan<double> input, int label)
    {
        CheckLossDefined();
        CheckParameters(parameters);
        CheckInput(input);
        CheckLabel(label);
        Trace trace = RunForward(parameters, input);
        return CrossEntropyFromLogits(trace.PreActivations[^1], label);
    }

    /// <summary>Mean cross-entropy over a batch; <paramref name="inputs"/> holds labels.Length inputs one after another.</summary>
    public double MeanLoss(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, ReadOnlySpan<int> labels)
    {
        CheckLossDefined();
        CheckParameters(parameters);
        CheckBatch(inputs, labels);
        if (HasBatchNorm)
        {
            Trace[] traces = RunForwardBatch(parameters, inputs, labels.Length);
            double total = 0;
            for (int n = 0; n < labels.Length; n++)
            {
                total += CrossEntropyFromLogits(traces[n].PreActivations[^1], labels[n]);
            }

            return total / labels.Length;
        }

        double sum = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            Trace trace = RunForward(parameters, inputs.Slice(n * InputLength, InputLength), n);
            sum += CrossEntropyFromLogits(trace.PreActivations[^1], labels[n]);
        }

        return sum / labels.Length;
    }

    /// <summary>The gradient of <see cref="MeanLoss"/> with respect to every parameter, by backpropagation.</summary>
    public double[] Gradient(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, ReadOnlySpan<int> labels)
    {
        CheckLossDefined();
        CheckParameters(parameters);
        CheckBatch(inputs, labels);
        var gradient = new double[ParameterCount];
        int batch = labels.Length;
        if (HasBatchNorm)
        {
            return GradientBatch(parameters, inputs, labels);
        }

        for (int n = 0; n < batch; n++)
        {
            Trace trace = RunForward(parameters, inputs.Slice(n * InputLength, InputLength), n);

            // For L = −log p[label] with p = softmax(z): ∂L/∂z_k = p_k − [k = label]. The batch mean scales it by 1/N.
            double[] probabilities = trace.Outputs[^1];
            var dLogits = new double[OutputLength];
            for (int k = 0; k < OutputLength; k++)
            {
                dLogits[k] = (probabilities[k] - (k == labels[n] ? 1.0 : 0.0)) / batch;
            }

            BackwardFromPreActivation(parameters, trace, dLogits, gradient);
        }

        return gradient;
    }

    /// <summary>
    /// The vector-Jacobian product of one forward pass: given ∂E/∂output for some scalar E of the outputs returned by
    /// <see cref="Forward"/>, returns ∂E/∂parameters and ∂E/∂input.
    /// </summary>
    public (double[] ParameterGradient, double[] InputGradient) Backward(ReadOnlySpan<double> parameters, ReadOnlySpan<double> input, ReadOnlySpan<double> outputGradient)
    {
        CheckParameters(parameters);
        CheckInput(input);
        if (outputGradient.Length != OutputLength)
        {
            throw new ArgumentException($"Expected {OutputLength} output gradients, got {outputGradient.Length}.", nameof(outputGradient));
        }

        Trace trace = RunForward(parameters, input);
        int last = _layers.Length - 1;
        double[] dPre = ActivationBackward(_layers[last].Activation, trace.PreActivations[last], trace.Outputs[last + 1], outputGradient.ToArray());
        var gradient = new double[ParameterCount];
        double[] inputGradient = BackwardFromPreActivation(parameters, trace, dPre, gradient);
        return (gradient, inputGradient);
    }

    /// <summary>Central differences (L(θ + h·e_i) − L(θ − h·e_i)) / 2h of <see cref="MeanLoss"/> for every parameter i.</summary>
    public double[] FiniteDifferenceGradient(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, ReadOnlySpan<int> labels, double h = 1e-6)
    {
        CheckLossDefined();
        CheckParameters(parameters);
        CheckBatch(inputs, labels);
        if (!(h > 0) || double.IsInfinity(h))
        {
            throw new ArgumentOutOfRangeException(nameof(h), "The step must be positive and finite.");
        }

        double[] theta = parameters.ToArray();
        var gradient = new double[ParameterCount];
        for (int i = 0; i < theta.Length; i++)
        {
            double original = theta[i];
            theta[i] = original + h;
            double plus = MeanLoss(theta, inputs, labels);
            theta[i] = original - h;
            double minus = MeanLoss(theta, inputs, labels);
            theta[i] = original;
            gradient[i] = (plus - minus) / (2 * h);
        }

        return gradient;
    }

    /// <summary>
    /// Parameters drawn uniformly from ±1/√fan_in of their layer (fan_in = C·K·K for a convolution, the input length for
    /// a dense layer), weights and biases alike, in parameter order.
    /// </summary>
    public double[] InitialParameters(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var parameters = new double[ParameterCount];
        foreach (LayerInfo info in _layers)
        {
            int fanIn;
            int weightCount;
            switch (info.Layer)
            {
                case RefConv conv:
                    fanIn = info.InC * conv.Kernel * conv.Kernel;
                    weightCount = conv.Filters * fanIn;
                    break;
                case RefDense dense:
                    fanIn = info.InC * info.InH * info.InW;
                    weightCount = dense.Units * fanIn;
                    break;
                default:
                    continue;
            }

            double bound = 1.0 / Math.Sqrt(fanIn);
            int count = weightCount + info.OutC;
            for (int i = 0; i < count; i++)
            {
                parameters[info.WeightOffset + i] = ((2 * random.NextDouble()) - 1) * bound;
            }
        }

        return parameters;
    }

    // ---------------------------------------------------------------- forward

    private Trace RunForward(ReadOnlySpan<double> parameters, ReadOnlySpan<double> input, int example = -1)
    {
        var trace = new Trace
        {
            Outputs = new double[_layers.Length + 1][],
            PreActivations = new double[_layers.Length][],
            Example = example,
        };
        trace.Outputs[0] = input.ToArray();
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerInfo info = _layers[l];
            double[] x = trace.Outputs[l];
            double[] z = info.Layer switch
            {
                RefConv conv => ConvForward(info, conv, parameters, x),
                RefPoolLayer pool => PoolForward(info, pool, x),
                RefGlobalAveragePool => GlobalAverageForward(info, x),
                RefDropout dropout => DropoutApply(info, dropout, x, example),
                RefBatchNorm norm => NormPredict(info, norm, parameters, x),
                RefDense => DenseForward(info, parameters, x),
                _ => throw new InvalidOperationException("Unknown layer."),
            };
            trace.PreActivations[l] = z;
            trace.Outputs[l + 1] = Activate(info.Activation, z);
        }

        return trace;
    }

    private static double[] ConvForward(LayerInfo info, RefConv conv, ReadOnlySpan<double> parameters, double[] x)
    {
        int k = conv.Kernel, s = conv.Stride, p = conv.Padding;
        var z = new double[info.OutC * info.OutH * info.OutW];
        for (int f = 0; f < info.OutC; f++)
        {
            for (int oy = 0; oy < info.OutH; oy++)
            {
                for (int ox = 0; ox < info.OutW; ox++)
                {
                    double sum = parameters[info.BiasOffset + f];
                    for (int c = 0; c < info.InC; c++)
                    {
                        for (int i = 0; i < k; i++)
                        {
                            for (int j = 0; j < k; j++)
                            {
                                // Padded coordinates (oy·S + i, ox·S + j) are input coordinates shifted by P.
                                int y = (oy * s) + i - p;
                                int xx = (ox * s) + j - p;
                                if (y < 0 || y >= info.InH || xx < 0 || xx >= info.InW)
                                {
                                    continue; // a zero of the padding (or, in Ceiling mode, beyond it)
                                }

                                double weight = parameters[info.WeightOffset + (((((f * info.InC) + c) * k) + i) * k) + j];
                                sum += weight * x[(((c * info.InH) + y) * info.InW) + xx];
                            }
                        }
                    }

                    z[(((f * info.OutH) + oy) * info.OutW) + ox] = sum;
                }
            }
        }

        return z;
    }

    private static double[] PoolForward(LayerInfo info, RefPoolLayer pool, double[] x)
    {
        var z = new double[info.OutC * info.OutH * info.OutW];
        for (int c = 0; c < info.OutC; c++)
        {
            for (int oy = 0; oy < info.OutH; oy++)
            {
                for (int ox = 0; ox < info.OutW; ox++)
                {
                    (int y0, int y1, int x0, int x1) = Window(info, pool, oy, ox);
                    double value;
                    if (pool.Kind == RefPool.Max)
                    {
                        value = double.NegativeInfinity;
                        for (int y = y0; y < y1; y++)
                        {
                            for (int xx = x0; xx < x1; xx++)
                            {
                                value = Math.Max(value, x[(((c * info.InH) + y) * info.InW) + xx]);
                            }
                        }
                    }
                    else
                    {
                        double sum = 0;
                        for (int y = y0; y < y1; y++)
                        {
                            for (int xx = x0; xx < x1; xx++)
                            {
                                sum += x[(((c * info.InH) + y) * info.InW) + xx];
                            }
                        }

                        value = sum / ((y1 - y0) * (x1 - x0));
                    }

                    z[(((c * info.OutH) + oy) * info.OutW) + ox] = value;
                }
            }
        }

        return z;
    }

    // Training (an example index and masks): z[i] = x[i] / (1 − p) where kept, 0 elsewhere; the same factors scale the
    // gradient on the way back. Prediction: the identity.
    private double[] DropoutApply(LayerInfo info, RefDropout dropout, double[] x, int example)
    {
        var z = (double[])x.Clone();
        if (example < 0 || DropoutKeeps is not { } keeps)
        {
            return z;
        }

        for (int i = 0; i < z.Length; i++)
        {
            z[i] = keeps(example, info.Index, i) ? x[i] / (1 - dropout.P) : 0.0;
        }

        return z;
    }

    private static int Channels(LayerInfo info) => info.InC * info.InH * info.InW / Plane(info);

    private static int Plane(LayerInfo info) => info.InH * info.InW == 1 || info.Flat ? 1 : info.InH * info.InW;

    // Prediction: z[c, i] = γ[c] (x[c, i] − running_mean[c]) / √(running_var[c] + ε) + β[c]
    private double[] NormPredict(LayerInfo info, RefBatchNorm norm, ReadOnlySpan<double> parameters, double[] x)
    {
        int channels = Channels(info), plane = Plane(info);
        var z = new double[x.Length];
        for (int c = 0; c < channels; c++)
        {
            double mean = State[info.StateOffset + c], variance = State[info.StateOffset + channels + c];
            for (int i = 0; i < plane; i++)
            {
                int j = (c * plane) + i;
                z[j] = (parameters[info.WeightOffset + c] * (x[j] - mean) / Math.Sqrt(variance + norm.Epsilon)) + parameters[info.BiasOffset + c];
            }
        }

        return z;
    }

    // The batch's mean and biased variance of channel c of a batch norm's inputs xs (one array per example).
    private static (double Mean, double Variance) BatchMoments(LayerInfo info, double[][] xs, int c)
    {
        int plane = Plane(info);
        double sum = 0, count = (double)xs.Length * plane;
        foreach (double[] x in xs)
        {
            for (int i = 0; i < plane; i++)
            {
                sum += x[(c * plane) + i];
            }
        }

        double mean = sum / count, squares = 0;
        foreach (double[] x in xs)
        {
            for (int i = 0; i < plane; i++)
            {
                double d = x[(c * plane) + i] - mean;
                squares += d * d;
            }
        }

        return (mean, squares / count);
    }

    // Training forward of a whole batch, layer by layer: a batch norm normalises with the batch's moments.
    private Trace[] RunForwardBatch(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch)
    {
        var traces = new Trace[batch];
        for (int n = 0; n < batch; n++)
        {
            traces[n] = new Trace { Outputs = new double[_layers.Length + 1][], PreActivations = new double[_layers.Length][], Example = n };
            traces[n].Outputs[0] = inputs.Slice(n * InputLength, InputLength).ToArray();
        }

        for (int l = 0; l < _layers.Length; l++)
        {
            LayerInfo info = _layers[l];
            if (info.Layer is RefBatchNorm norm)
            {
                int channels = Channels(info), plane = Plane(info);
                double[][] xs = traces.Select(t => t.Outputs[l]).ToArray();
                var zs = xs.Select(x => new double[x.Length]).ToArray();
                for (int c = 0; c < channels; c++)
                {
                    (double mean, double variance) = BatchMoments(info, xs, c);
                    double scale = 1 / Math.Sqrt(variance + norm.Epsilon);
                    for (int n = 0; n < batch; n++)
                    {
                        for (int i = 0; i < plane; i++)
                        {
                            int j = (c * plane) + i;
                            zs[n][j] = (parameters[info.WeightOffset + c] * (xs[n][j] - mean) * scale) + parameters[info.BiasOffset + c];
                        }
                    }
                }

                for (int n = 0; n < batch; n++)
                {
                    traces[n].PreActivations[l] = zs[n];
                    traces[n].Outputs[l + 1] = Activate(info.Activation, zs[n]);
                }

                continue;
            }

            for (int n = 0; n < batch; n++)
            {
                double[] x = traces[n].Outputs[l];
                double[] z = info.Layer switch
                {
                    RefConv conv => ConvForward(info, conv, parameters, x),
                    RefPoolLayer pool => PoolForward(info, pool, x),
                    RefGlobalAveragePool => GlobalAverageForward(info, x),
                    RefDropout dropout => DropoutApply(info, dropout, x, n),
                    RefDense => DenseForward(info, parameters, x),
                    _ => throw new InvalidOperationException("Unknown layer."),
                };
                traces[n].PreActivations[l] = z;
                traces[n].Outputs[l + 1] = Activate(info.Activation, z);
            }
        }

        return traces;
    }

    /// <summary>
    /// Moves <see cref="State"/> as one training step on this batch does (PyTorch's rule): running = (1 − momentum) ·
    /// running + momentum · batch, with the unbiased batch variance, and the batch count up by one.
    /// </summary>
    public void UpdateRunningStatistics(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, int batch)
    {
        CheckParameters(parameters);
        Trace[] traces = RunForwardBatch(parameters, inputs, batch);
        foreach (LayerInfo info in _norms)
        {
            var norm = (RefBatchNorm)info.Layer;
            int channels = Channels(info);
            double count = (double)batch * Plane(info);
            double[][] xs = traces.Select(t => t.Outputs[info.Index]).ToArray();
            for (int c = 0; c < channels; c++)
            {
                (double mean, double variance) = BatchMoments(info, xs, c);
                State[info.StateOffset + c] = ((1 - norm.Momentum) * State[info.StateOffset + c]) + (norm.Momentum * mean);
                State[info.StateOffset + channels + c] = ((1 - norm.Momentum) * State[info.StateOffset + channels + c]) + (norm.Momentum * variance * count / (count - 1));
            }

            State[info.StateOffset + (2 * channels)] += 1;
        }
    }

    // The batch gradient, layer by layer from the last: a batch norm's input gradient couples the examples through the
    // batch moments, dx = γ/σ (dz − mean(dz) − x̂ · mean(dz · x̂)), with dγ = Σ dz · x̂ and dβ = Σ dz.
    private double[] GradientBatch(ReadOnlySpan<double> parameters, ReadOnlySpan<double> inputs, ReadOnlySpan<int> labels)
    {
        int batch = labels.Length;
        Trace[] traces = RunForwardBatch(parameters, inputs, batch);
        var gradient = new double[ParameterCount];
        var dPre = new double[batch][];
        for (int n = 0; n < batch; n++)
        {
            double[] probabilities = traces[n].Outputs[^1];
            dPre[n] = new double[OutputLength];
            for (int k = 0; k < OutputLength; k++)
            {
                dPre[n][k] = (probabilities[k] - (k == labels[n] ? 1.0 : 0.0)) / batch;
            }
        }

        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            LayerInfo info = _layers[l];
            var dInput = new double[batch][];
            if (info.Layer is RefBatchNorm norm)
            {
                int channels = Channels(info), plane = Plane(info);
                double[][] xs = traces.Select(t => t.Outputs[l]).ToArray();
                for (int n = 0; n < batch; n++)
                {
                    dInput[n] = new double[xs[n].Length];
                }

                double count = (double)batch * plane;
                for (int c = 0; c < channels; c++)
                {
                    (double mean, double variance) = BatchMoments(info, xs, c);
                    double inv = 1 / Math.Sqrt(variance + norm.Epsilon);
                    double sumDz = 0, sumDzXhat = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        for (int i = 0; i < plane; i++)
                        {
                            int j = (c * plane) + i;
                            sumDz += dPre[n][j];
                            sumDzXhat += dPre[n][j] * (xs[n][j] - mean) * inv;
                        }
                    }

                    gradient[info.WeightOffset + c] += sumDzXhat;
                    gradient[info.BiasOffset + c] += sumDz;
                    double gamma = parameters[info.WeightOffset + c];
                    for (int n = 0; n < batch; n++)
                    {
                        for (int i = 0; i < plane; i++)
                        {
                            int j = (c * plane) + i;
                            double xhat = (xs[n][j] - mean) * inv;
                            dInput[n][j] = gamma * inv * (dPre[n][j] - (sumDz / count) - (xhat * sumDzXhat / count));
                        }
                    }
                }
            }
            else
            {
                for (int n = 0; n < batch; n++)
                {
                    double[] x = traces[n].Outputs[l];
                    dInput[n] = info.Layer switch
                    {
                        RefConv conv => ConvBackward(info, conv, parameters, x, dPre[n], gradient),
                        RefPoolLayer pool => PoolBackward(info, pool, x, dPre[n]),
                        RefGlobalAveragePool => GlobalAverageBackward(info, dPre[n]),
                        RefDropout dropout => DropoutApply(info, dropout, dPre[n], n),
                        RefDense => DenseBackward(info, parameters, x, dPre[n], gradient),
                        _ => throw new InvalidOperationException("Unknown layer."),
                    };
                }
            }

            if (l == 0)
            {
                break;
            }

            for (int n = 0; n < batch; n++)
            {
                dPre[n] = ActivationBackward(_layers[l - 1].Activation, traces[n].PreActivations[l - 1], traces[n].Outputs[l], dInput[n]);
            }
        }

        return gradient;
    }

    // z[c] = (1 / HW) Σ_{y,x} x[c, y, x]
    private static double[] GlobalAverageForward(LayerInfo info, double[] x)
    {
        int plane = info.InH * info.InW;
        var z = new double[info.InC];
        for (int c = 0; c < info.InC; c++)
        {
            double sum = 0;
            for (int i = 0; i < plane; i++)
            {
                sum += x[(c * plane) + i];
            }

            z[c] = sum / plane;
        }

        return z;
    }

    private static double[] DenseForward(LayerInfo info, ReadOnlySpan<double> parameters, double[] x)
    {
        int inLength = x.Length;
        var z = new double[info.OutC];
        for (int u = 0; u < info.OutC; u++)
        {
            double sum = parameters[info.BiasOffset + u];
            for (int i = 0; i < inLength; i++)
            {
                sum += parameters[info.WeightOffset + (u * inLength) + i] * x[i];
            }

            z[u] = sum;
        }

        return z;
    }

    private static double[] Activate(RefActivation activation, double[] z)
    {
        var a = new double[z.Length];
        switch (activation)
        {
            case RefActivation.None:
                Array.Copy(z, a, z.Length);
                break;
            case RefActivation.ReLU:
                for (int i = 0; i < z.Length; i++)
                {
                    a[i] = z[i] > 0 ? z[i] : 0.0;
                }

                break;
            case RefActivation.Tanh:
                for (int i = 0; i < z.Length; i++)
                {
                    a[i] = Math.Tanh(z[i]);
                }

                break;
            case RefActivation.Sigmoid:
                for (int i = 0; i < z.Length; i++)
                {
                    a[i] = 1.0 / (1.0 + Math.Exp(-z[i]));
                }

                break;
            case RefActivation.Softmax:
                double max = double.NegativeInfinity;
                foreach (double v in z)
                {
                    max = Math.Max(max, v);
                }

                double total = 0;
                for (int i = 0; i < z.Length; i++)
                {
                    a[i] = Math.Exp(z[i] - max);
                    total += a[i];
                }

                for (int i = 0; i < z.Length; i++)
                {
                    a[i] /= total;
                }

                break;
            default:
                throw new InvalidOperationException("Unknown activation.");
        }

        return a;
    }

    // −log softmax(z)[label] = log Σ_k e^{z_k} − z_label, computed with the maximum subtracted.
    private static double CrossEntropyFromLogits(double[] z, int label)
    {
        double max = double.NegativeInfinity;
        foreach (double v in z)
        {
            max = Math.Max(max, v);
        }

        double total = 0;
        foreach (double v in z)
        {
            total += Math.Exp(v - max);
        }

        return max + Math.Log(total) - z[label];
    }

    // ---------------------------------------------------------------- backward

    // Given ∂E/∂(pre-activation) of the last layer, walks the layers backwards, adds ∂E/∂θ into gradient and returns ∂E/∂input.
    private double[] BackwardFromPreActivation(ReadOnlySpan<double> parameters, Trace trace, double[] dLastPre, double[] gradient)
    {
        double[] dPre = dLastPre;
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            LayerInfo info = _layers[l];
            double[] x = trace.Outputs[l];
            double[] dInput = info.Layer switch
            {
                RefConv conv => ConvBackward(info, conv, parameters, x, dPre, gradient),
                RefPoolLayer pool => PoolBackward(info, pool, x, dPre),
                RefGlobalAveragePool => GlobalAverageBackward(info, dPre),
                RefDropout dropout => DropoutApply(info, dropout, dPre, trace.Example),
                RefDense => DenseBackward(info, parameters, x, dPre, gradient),
                _ => throw new InvalidOperationException("Unknown layer."),
            };
            if (l == 0)
            {
                return dInput;
            }

            // dInput is ∂E/∂(output of layer l−1); turn it into ∂E/∂(pre-activation of layer l−1).
            dPre = ActivationBackward(_layers[l - 1].Activation, trace.PreActivations[l - 1], trace.Outputs[l], dInput);
        }

        throw new InvalidOperationException("Unreachable: a network has at least one layer.");
    }

    private static double[] ActivationBackward(RefActivation activation, double[] z, double[] a, double[] dA)
    {
        var dZ = new double[z.Length];
        switch (activation)
        {
            case RefActivation.None:
                Array.Copy(dA, dZ, dA.Length);
                break;
            case RefActivation.ReLU:
                for (int i = 0; i < z.Length; i++)
                {
                    dZ[i] = z[i] > 0 ? dA[i] : 0.0;
                }

                break;
            case RefActivation.Tanh:
                for (int i = 0; i < z.Length; i++)
                {
                    dZ[i] = dA[i] * (1 - (a[i] * a[i]));
                }

                break;
            case RefActivation.Sigmoid:
                for (int i = 0; i < z.Length; i++)
                {
                    dZ[i] = dA[i] * a[i] * (1 - a[i]);
                }

                break;
            case RefActivation.Softmax:
                // ∂a_i/∂z_k = a_i([i = k] − a_k), so dZ_k = a_k (dA_k − Σ_i a_i dA_i).
                double dot = 0;
                for (int i = 0; i < z.Length; i++)
                {
                    dot += a[i] * dA[i];
                }

                for (int k = 0; k < z.Length; k++)
                {
                    dZ[k] = a[k] * (dA[k] - dot);
                }

                break;
            default:
                throw new InvalidOperationException("Unknown activation.");
        }

        return dZ;
    }

    private static double[] ConvBackward(LayerInfo info, RefConv conv, ReadOnlySpan<double> parameters, double[] x, double[] dZ, double[] gradient)
    {
        int k = conv.Kernel, s = conv.Stride, p = conv.Padding;
        var dX = new double[x.Length];
        for (int f = 0; f < info.OutC; f++)
        {
            for (int oy = 0; oy < info.OutH; oy++)
            {
                for (int ox = 0; ox < info.OutW; ox++)
                {
                    double d = dZ[(((f * info.OutH) + oy) * info.OutW) + ox];
                    gradient[info.BiasOffset + f] += d;
                    for (int c = 0; c < info.InC; c++)
                    {
                        for (int i = 0; i < k; i++)
                        {
                            for (int j = 0; j < k; j++)
                            {
                                int y = (oy * s) + i - p;
                                int xx = (ox * s) + j - p;
                                if (y < 0 || y >= info.InH || xx < 0 || xx >= info.InW)
                                {
                                    continue; // padding: its value is 0 and its gradient is dropped (cropped)
                                }

                                int w = info.WeightOffset + (((((f * info.InC) + c) * k) + i) * k) + j;
                                int xi = (((c * info.InH) + y) * info.InW) + xx;
                                gradient[w] += d * x[xi];
                                dX[xi] += parameters[w] * d;
                            }
                        }
                    }
                }
            }
        }

        return dX;
    }

    private static double[] PoolBackward(LayerInfo info, RefPoolLayer pool, double[] x, double[] dZ)
    {
        var dX = new double[x.Length];
        for (int c = 0; c < info.OutC; c++)
        {
            for (int oy = 0; oy < info.OutH; oy++)
            {
                for (int ox = 0; ox < info.OutW; ox++)
                {
                    double d = dZ[(((c * info.OutH) + oy) * info.OutW) + ox];
                    (int y0, int y1, int x0, int x1) = Window(info, pool, oy, ox);
                    if (pool.Kind == RefPool.Max)
                    {
                        // The first maximal element in row-major window order: only a strictly larger value replaces it.
                        int best = -1;
                        for (int y = y0; y < y1; y++)
                        {
                            for (int xx = x0; xx < x1; xx++)
                            {
                                int xi = (((c * info.InH) + y) * info.InW) + xx;
                                if (best < 0 || x[xi] > x[best])
                                {
                                    best = xi;
                                }
                            }
                        }

                        dX[best] += d;
                    }
                    else
                    {
                        double share = d / ((y1 - y0) * (x1 - x0));
                        for (int y = y0; y < y1; y++)
                        {
                            for (int xx = x0; xx < x1; xx++)
                            {
                                dX[(((c * info.InH) + y) * info.InW) + xx] += share;
                            }
                        }
                    }
                }
            }
        }

        return dX;
    }

    // ∂z[c]/∂x[c, y, x] = 1 / HW
    private static double[] GlobalAverageBackward(LayerInfo info, double[] dZ)
    {
        int plane = info.InH * info.InW;
        var dX = new double[info.InC * plane];
        for (int c = 0; c < info.InC; c++)
        {
            for (int i = 0; i < plane; i++)
            {
                dX[(c * plane) + i] = dZ[c] / plane;
            }
        }

        return dX;
    }

    private static double[] DenseBackward(LayerInfo info, ReadOnlySpan<double> parameters, double[] x, double[] dZ, double[] gradient)
    {
        int inLength = x.Length;
        var dX = new double[inLength];
        for (int u = 0; u < info.OutC; u++)
        {
            double d = dZ[u];
            gradient[info.BiasOffset + u] += d;
            for (int i = 0; i < inLength; i++)
            {
                int w = info.WeightOffset + (u * inLength) + i;
                gradient[w] += d * x[i];
                dX[i] += parameters[w] * d;
            }
        }

        return dX;
    }

    // ---------------------------------------------------------------- helpers

    // Window rows [y0, y1) and columns [x0, x1) of a pooling output, clipped to the input.
    private static (int Y0, int Y1, int X0, int X1) Window(LayerInfo info, RefPoolLayer pool, int oy, int ox)
    {
        int y0 = oy * pool.Stride, x0 = ox * pool.Stride;
        return (y0, Math.Min(y0 + pool.Size, info.InH), x0, Math.Min(x0 + pool.Size, info.InW));
    }

    private static int AxisSize(int input, int kernel, int stride, int padding, RefRounding rounding, int layer, string axis)
    {
        try
        {
            return OutputSize(input, kernel, stride, padding, rounding);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Layer {layer} ({axis}): {e.Message}", "layers", e);
        }
    }

    private static void CheckActivation(RefActivation activation, bool last, int layer)
    {
        Require(Enum.IsDefined(activation), layer, "unknown activation");
        Require(activation != RefActivation.Softmax || last, layer, "Softmax is allowed on the last layer only");
    }

    private static void Require(bool condition, int layer, string message)
    {
        if (!condition)
        {
            throw new ArgumentException($"Layer {layer}: {message}.", "layers");
        }
    }

    private void CheckLossDefined()
    {
        if (!EndsWithSoftmax)
        {
            throw new InvalidOperationException("The cross-entropy loss needs a network whose last layer applies Softmax.");
        }
    }

    private void CheckParameters(ReadOnlySpan<double> parameters)
    {
        if (parameters.Length != ParameterCount)
        {
            throw new ArgumentException($"Expected {ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        }
    }

    private void CheckInput(ReadOnlySpan<double> input)
    {
        if (input.Length != InputLength)
        {
            throw new ArgumentException($"Expected {InputLength} input values, got {input.Length}.", nameof(input));
        }
    }

    private void CheckLabel(int label)
    {
        if (label < 0 || label >= OutputLength)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, $"A label must lie in [0, {OutputLength}).");
        }
    }

    private void CheckBatch(ReadOnlySpan<double> inputs, ReadOnlySpan<int> labels)
    {
        if (labels.Length == 0)
        {
            throw new ArgumentException("A batch needs at least one example.", nameof(labels));
        }

        if (inputs.Length != labels.Length * InputLength)
        {
            throw new ArgumentException($"Expected {labels.Length} × {InputLength} input values, got {inputs.Length}.", nameof(inputs));
        }

        foreach (int label in labels)
        {
            CheckLabel(label);
        }
    }

    private sealed class LayerInfo
    {
        public required RefLayer Layer { get; init; }

        public required int InC { get; init; }

        public required int InH { get; init; }

        public required int InW { get; init; }

        public int OutC { get; set; }

        public int OutH { get; set; }

        public int OutW { get; set; }

        public RefActivation Activation { get; set; }

        public int WeightOffset { get; set; }

        public int BiasOffset { get; set; }

        public int Index { get; set; }

        public int StateOffset { get; set; }

        // True when the input is a flat vector (after a dense layer): a batch norm then normalises per unit.
        public bool Flat { get; set; }
    }

    // The values of one forward pass: Outputs[0] is the input, Outputs[l + 1] layer l's output after its activation,
    // PreActivations[l] layer l's output before it.
    private sealed class Trace
    {
        public required double[][] Outputs { get; init; }

        public required double[][] PreActivations { get; init; }

        // The example's place in its batch in training, −1 in prediction (dropout is then the identity).
        public int Example { get; init; }
    }
}

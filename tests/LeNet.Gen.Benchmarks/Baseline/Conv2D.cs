using System;

namespace LeNet.Gen.Benchmarks.Baseline;

/// <summary>
/// A 2-D convolution with stride 1 and no padding, square kernels, an optional ReLU, and sizes known only at run time:
/// the layer a competent programmer writes by hand. Weights are laid out as PyTorch's <c>Conv2d</c>
/// ([out, in, k, k]); activations are [channels, height, width], row-major.
/// </summary>
public sealed class Conv2D
{
    private readonly float[] _delta;
    private float[] _input = [];

    /// <summary>Creates the layer with weights and biases uniform in ±1/√fan_in (PyTorch's default scheme).</summary>
    public Conv2D(int inChannels, int inHeight, int inWidth, int outChannels, int kernel, bool relu, bool computeInputGradient, Random random)
    {
        InChannels = inChannels;
        InHeight = inHeight;
        InWidth = inWidth;
        OutChannels = outChannels;
        Kernel = kernel;
        OutHeight = inHeight - kernel + 1;
        OutWidth = inWidth - kernel + 1;
        ReLU = relu;
        ComputeInputGradient = computeInputGradient;
        Weights = new float[outChannels * inChannels * kernel * kernel];
        Bias = new float[outChannels];
        float bound = 1f / MathF.Sqrt(inChannels * kernel * kernel);
        Initialisation.FillUniform(Weights, bound, random);
        Initialisation.FillUniform(Bias, bound, random);
        WeightGradients = new float[Weights.Length];
        BiasGradients = new float[Bias.Length];
        Output = new float[outChannels * OutHeight * OutWidth];
        _delta = new float[Output.Length];
        InputGradient = computeInputGradient ? new float[inChannels * inHeight * inWidth] : [];
    }

    /// <summary>A replica that shares <paramref name="shared"/>'s weights but has its own activations and gradients (one per thread).</summary>
    public Conv2D(Conv2D shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        InChannels = shared.InChannels;
        InHeight = shared.InHeight;
        InWidth = shared.InWidth;
        OutChannels = shared.OutChannels;
        Kernel = shared.Kernel;
        OutHeight = shared.OutHeight;
        OutWidth = shared.OutWidth;
        ReLU = shared.ReLU;
        ComputeInputGradient = shared.ComputeInputGradient;
        Weights = shared.Weights;
        Bias = shared.Bias;
        WeightGradients = new float[Weights.Length];
        BiasGradients = new float[Bias.Length];
        Output = new float[shared.Output.Length];
        _delta = new float[Output.Length];
        InputGradient = new float[shared.InputGradient.Length];
    }

    public int InChannels { get; }

    public int InHeight { get; }

    public int InWidth { get; }

    public int OutChannels { get; }

    public int Kernel { get; }

    public int OutHeight { get; }

    public int OutWidth { get; }

    public bool ReLU { get; }

    public bool ComputeInputGradient { get; }

    /// <summary>[out, in, k, k].</summary>
    public float[] Weights { get; }

    public float[] Bias { get; }

    public float[] WeightGradients { get; }

    public float[] BiasGradients { get; }

    /// <summary>[out, outHeight, outWidth], after the activation.</summary>
    public float[] Output { get; }

    /// <summary>Gradient of the loss with respect to the input, written by <see cref="Backward"/> (empty if not computed).</summary>
    public float[] InputGradient { get; }

    /// <summary>out[f, y, x] = act(bias[f] + Σ c,i,j w[f, c, i, j] · in[c, y + i, x + j]).</summary>
    public void Forward(float[] input)
    {
        _input = input;
        float[] weights = Weights, bias = Bias, output = Output;
        int k = Kernel, inChannels = InChannels, inHeight = InHeight, inWidth = InWidth;
        int outHeight = OutHeight, outWidth = OutWidth;
        bool relu = ReLU;
        for (int f = 0; f < OutChannels; f++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    float sum = bias[f];
                    for (int c = 0; c < inChannels; c++)
                    {
                        int w = ((f * inChannels) + c) * k * k;
                        int inRow = (((c * inHeight) + y) * inWidth) + x;
                        for (int i = 0; i < k; i++)
                        {
                            for (int j = 0; j < k; j++)
                            {
                                sum += weights[w + j] * input[inRow + j];
                            }

                            w += k;
                            inRow += inWidth;
                        }
                    }

                    output[(((f * outHeight) + y) * outWidth) + x] = relu && sum < 0f ? 0f : sum;
                }
            }
        }
    }

    /// <summary>
    /// Adds this example's weight and bias gradients to <see cref="WeightGradients"/> and <see cref="BiasGradients"/>
    /// and, if asked for, writes the input gradient, from the gradient of the loss with respect to <see cref="Output"/>.
    /// </summary>
    public void Backward(float[] outputGradient)
    {
        float[] delta = _delta, output = Output, input = _input;
        float[] weights = Weights, weightGradients = WeightGradients, biasGradients = BiasGradients, inputGradient = InputGradient;
        int k = Kernel, inChannels = InChannels, inHeight = InHeight, inWidth = InWidth;
        int outHeight = OutHeight, outWidth = OutWidth;
        bool computeInputGradient = ComputeInputGradient;

        // Through the activation: the ReLU passes the gradient where its output is positive.
        for (int o = 0; o < delta.Length; o++)
        {
            delta[o] = ReLU && output[o] <= 0f ? 0f : outputGradient[o];
        }

        if (computeInputGradient)
        {
            Array.Clear(inputGradient);
        }

        for (int f = 0; f < OutChannels; f++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    float d = delta[(((f * outHeight) + y) * outWidth) + x];
                    biasGradients[f] += d;
                    for (int c = 0; c < inChannels; c++)
                    {
                        int w = ((f * inChannels) + c) * k * k;
                        int inRow = (((c * inHeight) + y) * inWidth) + x;
                        for (int i = 0; i < k; i++)
                        {
                            for (int j = 0; j < k; j++)
                            {
                                weightGradients[w + j] += d * input[inRow + j];
                            }

                            if (computeInputGradient)
                            {
                                for (int j = 0; j < k; j++)
                                {
                                    inputGradient[inRow + j] += weights[w + j] * d;
                                }
                            }

                            w += k;
                            inRow += inWidth;
                        }
                    }
                }
            }
        }
    }
}

using System;

namespace LeNet.Gen.Benchmarks.Baseline;

/// <summary>A fully connected layer with an optional ReLU, sizes known only at run time. Weights are [out, in] as PyTorch's <c>Linear</c>.</summary>
public sealed class Dense
{
    private readonly float[] _delta;
    private float[] _input = [];

    /// <summary>Creates the layer with weights and biases uniform in ±1/√in (PyTorch's default scheme).</summary>
    public Dense(int inputs, int outputs, bool relu, bool computeInputGradient, Random random)
    {
        Inputs = inputs;
        Outputs = outputs;
        ReLU = relu;
        ComputeInputGradient = computeInputGradient;
        Weights = new float[outputs * inputs];
        Bias = new float[outputs];
        float bound = 1f / MathF.Sqrt(inputs);
        Initialisation.FillUniform(Weights, bound, random);
        Initialisation.FillUniform(Bias, bound, random);
        WeightGradients = new float[Weights.Length];
        BiasGradients = new float[outputs];
        Output = new float[outputs];
        _delta = new float[outputs];
        InputGradient = computeInputGradient ? new float[inputs] : [];
    }

    /// <summary>A replica that shares <paramref name="shared"/>'s weights but has its own activations and gradients (one per thread).</summary>
    public Dense(Dense shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        Inputs = shared.Inputs;
        Outputs = shared.Outputs;
        ReLU = shared.ReLU;
        ComputeInputGradient = shared.ComputeInputGradient;
        Weights = shared.Weights;
        Bias = shared.Bias;
        WeightGradients = new float[Weights.Length];
        BiasGradients = new float[Outputs];
        Output = new float[Outputs];
        _delta = new float[Outputs];
        InputGradient = new float[shared.InputGradient.Length];
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public bool ReLU { get; }

    public bool ComputeInputGradient { get; }

    /// <summary>[out, in].</summary>
    public float[] Weights { get; }

    public float[] Bias { get; }

    public float[] WeightGradients { get; }

    public float[] BiasGradients { get; }

    /// <summary>After the activation (the raw logits when there is none).</summary>
    public float[] Output { get; }

    /// <summary>Gradient of the loss with respect to the input, written by <see cref="Backward"/> (empty if not computed).</summary>
    public float[] InputGradient { get; }

    /// <summary>out[o] = act(bias[o] + Σ i w[o, i] · in[i]).</summary>
    public void Forward(float[] input)
    {
        _input = input;
        float[] weights = Weights, bias = Bias, output = Output;
        int inputs = Inputs;
        bool relu = ReLU;
        for (int o = 0; o < Outputs; o++)
        {
            float sum = bias[o];
            int row = o * inputs;
            for (int i = 0; i < inputs; i++)
            {
                sum += weights[row + i] * input[i];
            }

            output[o] = relu && sum < 0f ? 0f : sum;
        }
    }

    /// <summary>
    /// Adds this example's weight and bias gradients and, if asked for, writes the input gradient, from the gradient of
    /// the loss with respect to <see cref="Output"/>.
    /// </summary>
    public void Backward(float[] outputGradient)
    {
        float[] delta = _delta, output = Output, input = _input;
        float[] weights = Weights, weightGradients = WeightGradients, biasGradients = BiasGradients, inputGradient = InputGradient;
        int inputs = Inputs;
        bool computeInputGradient = ComputeInputGradient;
        for (int o = 0; o < Outputs; o++)
        {
            delta[o] = ReLU && output[o] <= 0f ? 0f : outputGradient[o];
        }

        if (computeInputGradient)
        {
            Array.Clear(inputGradient);
        }

        for (int o = 0; o < Outputs; o++)
        {
            float d = delta[o];
            biasGradients[o] += d;
            int row = o * inputs;
            for (int i = 0; i < inputs; i++)
            {
                weightGradients[row + i] += d * input[i];
            }

            if (computeInputGradient)
            {
                for (int i = 0; i < inputs; i++)
                {
                    inputGradient[i] += weights[row + i] * d;
                }
            }
        }
    }
}

using System;
using System.Linq;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The arithmetic of batch norm alone, written plainly: what one training step of <see cref="LeNetBN"/> must compute
/// for its batch-norm layers (read from its <c>Layers</c>: 32 channels of 28×28, 48 of 14×14, 64 of 5×5, 32 units) over
/// a batch, and nothing else. It
/// gives the "normalisation's own cost" against which the network with batch norm is compared to the one without.
/// </summary>
/// <remarks>
/// Per layer and step: the batch mean and variance per channel (two passes, in double, as the library reduces them),
/// the normalisation with γ and β followed by ReLU; backward, ReLU's mask, Σ dy and Σ dy·x̂ per channel (in double),
/// and the input gradient γ/σ · (dy − Σdy/M − x̂ · Σdy·x̂/M). Activations are stored [example][channel][plane], as
/// the library's per-example workspaces hold them.
/// </remarks>
public sealed class BatchNormArithmetic
{
    // Channels and values per channel of each batch-norm layer, from the network's own layer table.
    private static readonly (int Channels, int Plane)[] Layers = LeNetBN.Layers
        .Where(layer => layer.Kind == LayerKind.BatchNorm)
        .Select(layer => (layer.OutputShape[0], layer.OutputShape.Skip(1).Aggregate(1, (product, size) => product * size)))
        .ToArray();

    private static readonly int MostChannels = Layers.Max(layer => layer.Channels);

    private readonly int _batch;
    private readonly float[][] _input;
    private readonly float[][] _output;
    private readonly float[][] _outputGradient;
    private readonly float[][] _inputGradient;
    private readonly float[][] _gamma;
    private readonly float[][] _beta;
    private readonly double[] _mean = new double[MostChannels];
    private readonly double[] _invstd = new double[MostChannels];
    private readonly double[] _sumGradient = new double[MostChannels];
    private readonly double[] _sumProduct = new double[MostChannels];

    /// <summary>Buffers for a batch of <paramref name="batch"/> examples, filled with values from <paramref name="seed"/>.</summary>
    public BatchNormArithmetic(int batch, int seed)
    {
        _batch = batch;
        var random = new Random(seed);
        _input = new float[Layers.Length][];
        _output = new float[Layers.Length][];
        _outputGradient = new float[Layers.Length][];
        _inputGradient = new float[Layers.Length][];
        _gamma = new float[Layers.Length][];
        _beta = new float[Layers.Length][];
        for (int l = 0; l < Layers.Length; l++)
        {
            int length = batch * Layers[l].Channels * Layers[l].Plane;
            _input[l] = Fill(random, length);
            _output[l] = new float[length];
            _outputGradient[l] = Fill(random, length);
            _inputGradient[l] = new float[length];
            _gamma[l] = Fill(random, Layers[l].Channels);
            _beta[l] = Fill(random, Layers[l].Channels);
        }
    }

    /// <summary>One training step's batch-norm work, forward then backward, for every layer; returns a checksum.</summary>
    public float Step()
    {
        float checksum = 0f;
        for (int l = 0; l < Layers.Length; l++)
        {
            Forward(l);
        }

        for (int l = Layers.Length - 1; l >= 0; l--)
        {
            Backward(l);
            checksum += _inputGradient[l][0];
        }

        return checksum;
    }

    private void Forward(int l)
    {
        var (channels, plane) = Layers[l];
        float[] x = _input[l], y = _output[l];
        double values = (double)_batch * plane;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < _batch; n++)
            {
                int start = ((n * channels) + c) * plane;
                for (int i = 0; i < plane; i++)
                {
                    sum += x[start + i];
                }
            }

            double mean = sum / values, squares = 0;
            for (int n = 0; n < _batch; n++)
            {
                int start = ((n * channels) + c) * plane;
                for (int i = 0; i < plane; i++)
                {
                    double d = x[start + i] - mean;
                    squares += d * d;
                }
            }

            _mean[c] = mean;
            _invstd[c] = 1.0 / Math.Sqrt((squares / values) + 1e-5);
        }

        for (int n = 0; n < _batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = ((n * channels) + c) * plane;
                float mean = (float)_mean[c], scale = _gamma[l][c] * (float)_invstd[c], shift = _beta[l][c];
                for (int i = 0; i < plane; i++)
                {
                    y[start + i] = MathF.Max(((x[start + i] - mean) * scale) + shift, 0f);
                }
            }
        }
    }

    private void Backward(int l)
    {
        var (channels, plane) = Layers[l];
        float[] x = _input[l], y = _output[l], dy = _outputGradient[l], dx = _inputGradient[l];
        double values = (double)_batch * plane;
        for (int i = 0; i < dy.Length; i++)
        {
            if (y[i] <= 0f)
            {
                dy[i] = 0f;
            }
        }

        for (int c = 0; c < channels; c++)
        {
            double sumGradient = 0, sumProduct = 0, mean = _mean[c], invstd = _invstd[c];
            for (int n = 0; n < _batch; n++)
            {
                int start = ((n * channels) + c) * plane;
                for (int i = 0; i < plane; i++)
                {
                    sumGradient += dy[start + i];
                    sumProduct += dy[start + i] * ((x[start + i] - mean) * invstd);
                }
            }

            _sumGradient[c] = sumGradient / values;
            _sumProduct[c] = sumProduct / values;
        }

        for (int n = 0; n < _batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = ((n * channels) + c) * plane;
                float mean = (float)_mean[c], invstd = (float)_invstd[c], scale = _gamma[l][c] * invstd;
                float meanGradient = (float)_sumGradient[c], meanProduct = (float)_sumProduct[c];
                for (int i = 0; i < plane; i++)
                {
                    float normalized = (x[start + i] - mean) * invstd;
                    dx[start + i] = scale * (dy[start + i] - meanGradient - (normalized * meanProduct));
                }
            }
        }
    }

    private static float[] Fill(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}

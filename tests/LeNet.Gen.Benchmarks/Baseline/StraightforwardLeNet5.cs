using System;
using System.Threading.Tasks;

namespace LeNet.Gen.Benchmarks.Baseline;

/// <summary>
/// LeNet-5 written by hand the straightforward way, as the yardstick for the generated code: general layer classes
/// (<see cref="Conv2D"/>, <see cref="AvgPool2D"/>, <see cref="Dense"/>) with run-time sizes and plain scalar loops over
/// preallocated <c>float[]</c> buffers. Same architecture, parameter layout (PyTorch <c>state_dict</c> order) and
/// initialisation scheme (uniform ±1/√fan_in, from <see cref="Random"/>) as the generated <c>LeNet5</c>:
/// 1×32×32 → conv 6@5×5 ReLU → avg pool 2/2 → conv 16@5×5 ReLU → avg pool 2/2 → 400 → 120 ReLU → 84 ReLU → 10 softmax.
/// </summary>
/// <remarks>
/// An instance is not thread-safe: use <see cref="CreateReplica"/> to get one per thread (replicas share the weights).
/// </remarks>
public sealed class StraightforwardLeNet5
{
    public const int InputLength = 1 * 32 * 32;
    public const int OutputLength = 10;
    public const int ParameterCount = 61_706;

    private readonly float[] _input = new float[InputLength];
    private readonly Conv2D _conv1;
    private readonly AvgPool2D _pool1;
    private readonly Conv2D _conv2;
    private readonly AvgPool2D _pool2;
    private readonly Dense _fc1;
    private readonly Dense _fc2;
    private readonly Dense _fc3;
    private readonly float[] _probabilities = new float[OutputLength];
    private readonly float[] _logitsGradient = new float[OutputLength];

    // Parameters and their gradients in PyTorch state_dict order: conv1.weight, conv1.bias, conv2.weight, ..., fc3.bias.
    private readonly float[][] _parameters;
    private readonly float[][] _gradients;

    // Replicas for multi-threaded training (worker t ≥ 1 is _workers[t − 1]; worker 0 is this instance).
    private StraightforwardLeNet5[] _workers = [];
    private float[] _workerLosses = [];

    /// <summary>Creates the network with weights and biases uniform in ±1/√fan_in, drawn from <see cref="Random"/> seeded with <paramref name="seed"/>.</summary>
    public StraightforwardLeNet5(int seed)
    {
        var random = new Random(seed);
        _conv1 = new Conv2D(1, 32, 32, 6, 5, relu: true, computeInputGradient: false, random);
        _pool1 = new AvgPool2D(6, 28, 28, window: 2, stride: 2);
        _conv2 = new Conv2D(6, 14, 14, 16, 5, relu: true, computeInputGradient: true, random);
        _pool2 = new AvgPool2D(16, 10, 10, window: 2, stride: 2);
        _fc1 = new Dense(16 * 5 * 5, 120, relu: true, computeInputGradient: true, random);
        _fc2 = new Dense(120, 84, relu: true, computeInputGradient: true, random);
        _fc3 = new Dense(84, OutputLength, relu: false, computeInputGradient: true, random);
        (_parameters, _gradients) = Collect();
    }

    private StraightforwardLeNet5(StraightforwardLeNet5 shared)
    {
        _conv1 = new Conv2D(shared._conv1);
        _pool1 = new AvgPool2D(shared._pool1);
        _conv2 = new Conv2D(shared._conv2);
        _pool2 = new AvgPool2D(shared._pool2);
        _fc1 = new Dense(shared._fc1);
        _fc2 = new Dense(shared._fc2);
        _fc3 = new Dense(shared._fc3);
        (_parameters, _gradients) = Collect();
    }

    /// <summary>A network that shares this one's weights but has its own buffers, for use on another thread.</summary>
    public StraightforwardLeNet5 CreateReplica() => new(this);

    /// <summary>Copies all weights and biases from a flat span in PyTorch state_dict order (the generated network's <c>Parameters</c> layout).</summary>
    public void CopyParametersFrom(ReadOnlySpan<float> parameters)
    {
        if (parameters.Length != ParameterCount)
        {
            throw new ArgumentException($"Expected {ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        }

        int offset = 0;
        foreach (float[] tensor in _parameters)
        {
            parameters.Slice(offset, tensor.Length).CopyTo(tensor);
            offset += tensor.Length;
        }
    }

    /// <summary>Copies all weights and biases to a flat span in PyTorch state_dict order.</summary>
    public void CopyParametersTo(Span<float> parameters)
    {
        if (parameters.Length != ParameterCount)
        {
            throw new ArgumentException($"Expected room for {ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        }

        int offset = 0;
        foreach (float[] tensor in _parameters)
        {
            tensor.CopyTo(parameters.Slice(offset, tensor.Length));
            offset += tensor.Length;
        }
    }

    /// <summary>The predicted class of one 1×32×32 image (the first of the largest probabilities).</summary>
    public int Predict(ReadOnlySpan<float> image)
    {
        Forward(image);
        int best = 0;
        for (int k = 1; k < OutputLength; k++)
        {
            if (_probabilities[k] > _probabilities[best])
            {
                best = k;
            }
        }

        return best;
    }

    /// <summary>The class probabilities of one 1×32×32 image.</summary>
    public void Predict(ReadOnlySpan<float> image, Span<float> probabilities)
    {
        if (probabilities.Length != OutputLength)
        {
            throw new ArgumentException($"Expected room for {OutputLength} probabilities.", nameof(probabilities));
        }

        Forward(image);
        _probabilities.CopyTo(probabilities);
    }

    /// <summary>One SGD step on one example's cross-entropy; returns the loss before the step.</summary>
    public float Train(ReadOnlySpan<float> image, int label, float learningRate)
    {
        CheckLabel(label);
        ClearGradients();
        float loss = Accumulate(image, label, 1f);
        Step(learningRate);
        return loss;
    }

    /// <summary>One SGD step on the batch-mean cross-entropy, on the calling thread; returns the mean loss before the step.</summary>
    public float Train(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, float learningRate)
    {
        CheckBatch(images.Length, labels);
        ClearGradients();
        float scale = 1f / labels.Length;
        float total = 0f;
        for (int n = 0; n < labels.Length; n++)
        {
            total += Accumulate(images.Slice(n * InputLength, InputLength), labels[n], scale);
        }

        Step(learningRate);
        return total * scale;
    }

    /// <summary>
    /// One SGD step on the batch-mean cross-entropy, the batch cut into <paramref name="threads"/> contiguous parts whose
    /// gradients are computed in parallel (by this instance and replicas) and then added up in order.
    /// </summary>
    public float Train(ReadOnlyMemory<float> images, ReadOnlyMemory<int> labels, float learningRate, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (threads == 1)
        {
            return Train(images.Span, labels.Span, learningRate);
        }

        CheckBatch(images.Length, labels.Span);
        EnsureWorkers(threads - 1);
        int count = labels.Length;
        float scale = 1f / count;
        Parallel.For(0, threads, t =>
        {
            StraightforwardLeNet5 worker = t == 0 ? this : _workers[t - 1];
            int start = (int)((long)count * t / threads);
            int end = (int)((long)count * (t + 1) / threads);
            ReadOnlySpan<float> batch = images.Span;
            ReadOnlySpan<int> batchLabels = labels.Span;
            worker.ClearGradients();
            float sum = 0f;
            for (int n = start; n < end; n++)
            {
                sum += worker.Accumulate(batch.Slice(n * InputLength, InputLength), batchLabels[n], scale);
            }

            _workerLosses[t] = sum;
        });

        float total = _workerLosses[0];
        for (int w = 0; w < threads - 1; w++)
        {
            total += _workerLosses[w + 1];
            float[][] workerGradients = _workers[w]._gradients;
            for (int p = 0; p < _gradients.Length; p++)
            {
                float[] mine = _gradients[p], theirs = workerGradients[p];
                for (int i = 0; i < mine.Length; i++)
                {
                    mine[i] += theirs[i];
                }
            }
        }

        Step(learningRate);
        return total * scale;
    }

    private static void CheckLabel(int label)
    {
        if ((uint)label >= OutputLength)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, $"Expected a class in [0, {OutputLength}).");
        }
    }

    private static void CheckBatch(int imageValues, ReadOnlySpan<int> labels)
    {
        if (labels.Length == 0 || imageValues != labels.Length * InputLength)
        {
            throw new ArgumentException($"Expected {labels.Length} × {InputLength} image values and at least one image, got {imageValues}.");
        }

        foreach (int label in labels)
        {
            CheckLabel(label);
        }
    }

    private (float[][] Parameters, float[][] Gradients) Collect() =>
    (
        [_conv1.Weights, _conv1.Bias, _conv2.Weights, _conv2.Bias, _fc1.Weights, _fc1.Bias, _fc2.Weights, _fc2.Bias, _fc3.Weights, _fc3.Bias],
        [
            _conv1.WeightGradients, _conv1.BiasGradients, _conv2.WeightGradients, _conv2.BiasGradients, _fc1.WeightGradients,
            _fc1.BiasGradients, _fc2.WeightGradients, _fc2.BiasGradients, _fc3.WeightGradients, _fc3.BiasGradients,
        ]);

    private void EnsureWorkers(int count)
    {
        if (_workers.Length < count)
        {
            var workers = new StraightforwardLeNet5[count];
            for (int w = 0; w < count; w++)
            {
                workers[w] = w < _workers.Length ? _workers[w] : CreateReplica();
            }

            _workers = workers;
            _workerLosses = new float[count + 1];
        }
    }

    private void Forward(ReadOnlySpan<float> image)
    {
        if (image.Length != InputLength)
        {
            throw new ArgumentException($"Expected {InputLength} values (1×32×32), got {image.Length}.", nameof(image));
        }

        image.CopyTo(_input);
        _conv1.Forward(_input);
        _pool1.Forward(_conv1.Output);
        _conv2.Forward(_pool1.Output);
        _pool2.Forward(_conv2.Output);
        _fc1.Forward(_pool2.Output);
        _fc2.Forward(_fc1.Output);
        _fc3.Forward(_fc2.Output);

        // Softmax, shifted by the largest logit so that exp cannot overflow.
        float[] logits = _fc3.Output;
        float max = logits[0];
        for (int k = 1; k < OutputLength; k++)
        {
            max = MathF.Max(max, logits[k]);
        }

        float sum = 0f;
        for (int k = 0; k < OutputLength; k++)
        {
            _probabilities[k] = MathF.Exp(logits[k] - max);
            sum += _probabilities[k];
        }

        for (int k = 0; k < OutputLength; k++)
        {
            _probabilities[k] /= sum;
        }
    }

    // Forward, loss and backward for one example, adding scale × its gradient to the gradient buffers. Returns its loss.
    private float Accumulate(ReadOnlySpan<float> image, int label, float scale)
    {
        Forward(image);

        // Cross-entropy −log p[label] = log Σ exp(z − max) − (z[label] − max), computed from the logits for stability.
        float[] logits = _fc3.Output;
        float max = logits[0];
        for (int k = 1; k < OutputLength; k++)
        {
            max = MathF.Max(max, logits[k]);
        }

        float sum = 0f;
        for (int k = 0; k < OutputLength; k++)
        {
            sum += MathF.Exp(logits[k] - max);
        }

        float loss = MathF.Log(sum) - (logits[label] - max);

        // d loss / d logits = probabilities − one-hot(label).
        for (int k = 0; k < OutputLength; k++)
        {
            _logitsGradient[k] = (_probabilities[k] - (k == label ? 1f : 0f)) * scale;
        }

        _fc3.Backward(_logitsGradient);
        _fc2.Backward(_fc3.InputGradient);
        _fc1.Backward(_fc2.InputGradient);
        _pool2.Backward(_fc1.InputGradient);
        _conv2.Backward(_pool2.InputGradient);
        _pool1.Backward(_conv2.InputGradient);
        _conv1.Backward(_pool1.InputGradient);
        return loss;
    }

    private void ClearGradients()
    {
        foreach (float[] gradient in _gradients)
        {
            Array.Clear(gradient);
        }
    }

    private void Step(float learningRate)
    {
        for (int p = 0; p < _parameters.Length; p++)
        {
            float[] parameter = _parameters[p], gradient = _gradients[p];
            for (int i = 0; i < parameter.Length; i++)
            {
                parameter[i] -= learningRate * gradient[i];
            }
        }
    }
}

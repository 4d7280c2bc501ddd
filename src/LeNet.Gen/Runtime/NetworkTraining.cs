using System;
using System.ComponentModel;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Training for any network with a softmax head, written once: the three <c>Train</c> entry points,
/// <see cref="ComputeGradients"/> with the batch cut into chunks over threads, <see cref="Loss"/> and their argument
/// checks. The network's own passes come from <typeparamref name="TKernels"/>. A generated network keeps one instance
/// and forwards its public training members here. Not meant to be used directly.
/// </summary>
/// <typeparam name="TKernels">The network's sizes and passes; a struct, so the JIT specialises this class per network.</typeparam>
/// <typeparam name="TWorkspace">The network's buffers for one pass.</typeparam>
/// <remarks>
/// A batch is cut into chunks of <see cref="ChunkSize"/> examples. Each chunk's gradient is summed in example order,
/// and the chunks are added in chunk order, whichever thread computed them: any <see cref="TrainingThreads"/> gives
/// bit-identical results. With several threads, the chunks run on <see cref="ChunkRunner"/>'s workers, and adding the
/// chunk gradients is split over the same threads by ranges of parameters (each value still summed in chunk order).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NetworkTraining<TKernels, TWorkspace> : IChunkWork
    where TKernels : struct, INetworkKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>Examples per chunk: the unit of work a thread takes, and of the fixed summation order.</summary>
    public const int ChunkSize = 8;

    private readonly float[] _parameters;
    private float[]? _gradients;
    private TWorkspace? _workspace;
    private int _threads = 1;

    // One-thread path: the scratch gradient of chunks after the first.
    private float[]? _chunkGradient;

    // Several threads: the batch copied (spans cannot cross threads), one gradient buffer per chunk, one workspace per worker.
    private float[]?[]? _chunkGradients;
    private float[]? _chunkLosses;
    private TWorkspace?[]? _workerWorkspaces;
    private float[]? _batchInputs;
    private int[]? _batchLabels;
    private int _batchCount;
    private float _batchScale;
    private GradientSum? _gradientSum;

    /// <summary>Creates the training state of a network whose weights and biases live in <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The network's parameters, <c>ParameterCount</c> values; training updates them in place.</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> does not hold <c>ParameterCount</c> values.</exception>
    public NetworkTraining(float[] parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Check.Length(parameters.Length, TKernels.ParameterCount, "the parameter count", TKernels.Name, nameof(parameters));
        _parameters = parameters;
    }

    /// <summary>
    /// How many threads a training step splits its batch over; 1 unless set. The parameters after training do not
    /// depend on it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int TrainingThreads
    {
        get => _threads;
        set => _threads = Check.Threads(value, nameof(TrainingThreads));
    }

    /// <summary>One plain SGD step on one example's cross-entropy loss; returns the loss before the step.</summary>
    /// <param name="input"><c>InputLength</c> values.</param>
    /// <param name="label">The correct class.</param>
    /// <param name="learningRate">Step size; finite and positive.</param>
    /// <exception cref="ArgumentException">A wrong span length, a label out of range or a learning rate that is not finite and positive.</exception>
    /// <exception cref="ArithmeticException">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>
    public float Train(ReadOnlySpan<float> input, int label, float learningRate)
    {
        Check.Length(input.Length, TKernels.InputLength, TKernels.InputShape, TKernels.Name, nameof(input));
        return Train(input, new ReadOnlySpan<int>(in label), learningRate);
    }

    /// <summary>One plain SGD step on the batch-mean cross-entropy; returns the mean loss before the step.</summary>
    /// <param name="inputs">labels.Length × <c>InputLength</c> values.</param>
    /// <param name="labels">The correct class of each input.</param>
    /// <param name="learningRate">Step size; finite and positive.</param>
    /// <exception cref="ArgumentException">An empty batch, mismatched sizes, a label out of range or a learning rate that is not finite and positive.</exception>
    /// <exception cref="ArithmeticException">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>
    public float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate)
    {
        Check.LearningRate(learningRate, nameof(learningRate));
        float[] gradients = _gradients ??= new float[TKernels.ParameterCount];
        float loss = ComputeGradients(inputs, labels, gradients);
        Check.Finite(loss, gradients, TKernels.Name);
        Simd.Descend(_parameters, gradients, learningRate); // parameters −= learningRate × gradients
        return loss;
    }

    /// <summary>One step of <paramref name="optimizer"/> on the batch-mean cross-entropy; returns the mean loss before the step.</summary>
    /// <param name="inputs">labels.Length × <c>InputLength</c> values.</param>
    /// <param name="labels">The correct class of each input.</param>
    /// <param name="optimizer">How to turn the gradients into an update.</param>
    /// <exception cref="ArgumentException">An empty batch, mismatched sizes or a label out of range.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArithmeticException">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>
    public float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer)
    {
        Check.NotNull(optimizer, nameof(optimizer));
        float[] gradients = _gradients ??= new float[TKernels.ParameterCount];
        float loss = ComputeGradients(inputs, labels, gradients);
        Check.Finite(loss, gradients, TKernels.Name);
        optimizer.Step(_parameters, gradients);
        return loss;
    }

    /// <summary>
    /// Computes the gradient of the batch-mean cross-entropy with respect to every parameter, without changing the
    /// parameters, and returns the mean loss.
    /// </summary>
    /// <param name="inputs">labels.Length × <c>InputLength</c> values.</param>
    /// <param name="labels">The correct class of each input.</param>
    /// <param name="gradients">Receives <c>ParameterCount</c> values.</param>
    /// <exception cref="ArgumentException">An empty batch, mismatched sizes, a label out of range or a wrong gradient length.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients)
    {
        Check.Batch(inputs.Length, labels.Length, TKernels.InputLength, TKernels.Name, nameof(inputs), nameof(labels));
        Check.Labels(labels, TKernels.OutputLength, nameof(labels));
        Check.Length(gradients.Length, TKernels.ParameterCount, "the parameter count", TKernels.Name, nameof(gradients));
        int count = labels.Length;
        float scale = 1f / count;
        int chunks = (count + ChunkSize - 1) / ChunkSize;
        if (_threads > 1 && chunks > 1)
        {
            return ComputeGradientsInParallel(inputs, labels, gradients, chunks, scale);
        }

        // One thread: chunk 0 straight into gradients, each later chunk into a scratch buffer added on in order.
        var workspace = _workspace ??= TKernels.CreateWorkspace(training: true);
        gradients.Clear();
        float total = AccumulateRange(_parameters, inputs, labels, 0, Math.Min(ChunkSize, count), scale, workspace, gradients);
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            float[] partial = _chunkGradient ??= new float[TKernels.ParameterCount];
            Array.Clear(partial);
            int start = chunk * ChunkSize;
            total += AccumulateRange(_parameters, inputs, labels, start, Math.Min(start + ChunkSize, count), scale, workspace, partial);
            Simd.Add(partial, gradients);
        }

        return total * scale;
    }

    /// <summary>The cross-entropy loss −log p[label] of one example, without training.</summary>
    /// <param name="input"><c>InputLength</c> values.</param>
    /// <param name="label">The correct class.</param>
    /// <exception cref="ArgumentException">A wrong span length or a label out of range.</exception>
    public float Loss(ReadOnlySpan<float> input, int label)
    {
        Check.Length(input.Length, TKernels.InputLength, TKernels.InputShape, TKernels.Name, nameof(input));
        Check.Label(label, TKernels.OutputLength, nameof(label));
        var workspace = TKernels.InferenceWorkspace;
        TKernels.Forward(_parameters, input, workspace);
        return Softmax.CrossEntropy(TKernels.Logits(workspace), label);
    }

    // Examples [start, end) of a batch: forward, loss and backward for each, gradients added to gradients. Returns the sum of their losses.
    private static float AccumulateRange(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int start, int end, float scale, TWorkspace workspace, Span<float> gradients)
    {
        int inputLength = TKernels.InputLength;
        float total = 0f;
        for (int n = start; n < end; n++)
        {
            total += Accumulate(parameters, inputs.Slice(n * inputLength, inputLength), labels[n], scale, workspace, gradients);
        }

        return total;
    }

    // One example: forward, loss, and the backward pass adding scale × its gradient to gradients. Returns its loss.
    private static float Accumulate(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, int label, float scale, TWorkspace workspace, Span<float> gradients)
    {
        TKernels.Forward(parameters, input, workspace);
        float loss = Softmax.CrossEntropy(TKernels.Logits(workspace), label);

        // d loss / d logits = probabilities − one-hot(label), scaled for the batch mean.
        ReadOnlySpan<float> probabilities = TKernels.Probabilities(workspace);
        Span<float> logitsGradient = TKernels.LogitsGradient(workspace);
        for (int k = 0; k < TKernels.OutputLength; k++)
        {
            logitsGradient[k] = (probabilities[k] - (k == label ? 1f : 0f)) * scale;
        }

        TKernels.Backward(parameters, input, workspace, gradients);
        return loss;
    }

    // Several threads: the batch is copied (spans cannot cross threads), each chunk goes to its own gradient buffer, then the
    // buffers are added in chunk order, exactly as the one-thread path adds them.
    private unsafe float ComputeGradientsInParallel(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int chunks, float scale)
    {
        int threads = Math.Min(_threads, chunks);
        if (_batchInputs is null || _batchInputs.Length < inputs.Length) _batchInputs = new float[inputs.Length];
        if (_batchLabels is null || _batchLabels.Length < labels.Length) _batchLabels = new int[labels.Length];
        if (_chunkGradients is null || _chunkGradients.Length < chunks) _chunkGradients = new float[chunks][];
        if (_chunkLosses is null || _chunkLosses.Length < chunks) _chunkLosses = new float[chunks];
        if (_workerWorkspaces is null || _workerWorkspaces.Length < threads) Array.Resize(ref _workerWorkspaces, threads);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            _chunkGradients[chunk] ??= new float[TKernels.ParameterCount];
        }

        for (int worker = 0; worker < threads; worker++)
        {
            _workerWorkspaces[worker] ??= TKernels.CreateWorkspace(training: true);
        }

        inputs.CopyTo(_batchInputs);
        labels.CopyTo(_batchLabels);
        _batchCount = labels.Length;
        _batchScale = scale;
        ChunkRunner.Run(this, chunks, threads);

        // The chunk gradients are added on the same threads, range by range of parameters: each value is still
        // chunk 0 + chunk 1 + … in chunk order, as in the one-thread path, so the result does not change.
        var sum = _gradientSum ??= new GradientSum();
        fixed (float* destination = gradients)
        {
            sum.Start(destination, _chunkGradients, chunks);
            try
            {
                ChunkRunner.Run(sum, GradientSum.Ranges, threads);
            }
            finally
            {
                sum.Start(null, null, 0);
            }
        }

        float total = _chunkLosses[0];
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            total += _chunkLosses[chunk];
        }

        return total * scale;
    }

    void IChunkWork.Execute(int chunk, int worker)
    {
        float[] partial = _chunkGradients![chunk]!;
        Array.Clear(partial);
        int start = chunk * ChunkSize;
        int end = Math.Min(start + ChunkSize, _batchCount);
        _chunkLosses![chunk] = AccumulateRange(_parameters, _batchInputs, _batchLabels, start, end, _batchScale, _workerWorkspaces![worker]!, partial);
    }

    // Adds the chunk gradients into the caller's (pinned) gradient span, one range of parameters per work chunk.
    private sealed unsafe class GradientSum : IChunkWork
    {
        /// <summary>Parameters per range: 16 KB of each chunk gradient, small enough to stay in cache while it is summed.</summary>
        private const int RangeLength = 4096;

        /// <summary>How many ranges the parameters make.</summary>
        public static readonly int Ranges = (TKernels.ParameterCount + RangeLength - 1) / RangeLength;

        private float* _destination;
        private float[]?[]? _chunkGradients;
        private int _chunks;

        public void Start(float* destination, float[]?[]? chunkGradients, int chunks)
        {
            _destination = destination;
            _chunkGradients = chunkGradients;
            _chunks = chunks;
        }

        public void Execute(int range, int worker)
        {
            int start = range * RangeLength;
            int length = Math.Min(RangeLength, TKernels.ParameterCount - start);
            var destination = new Span<float>(_destination + start, length);
            new ReadOnlySpan<float>(_chunkGradients![0], start, length).CopyTo(destination);
            for (int chunk = 1; chunk < _chunks; chunk++)
            {
                Simd.Add(new ReadOnlySpan<float>(_chunkGradients[chunk], start, length), destination);
            }
        }
    }
}

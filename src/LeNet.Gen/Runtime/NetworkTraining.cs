using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

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
/// and the chunks are added in chunk order, whichever thread computed them; the weight gradients of the network's large
/// dense layers are instead summed over the whole batch in example order (<see cref="BatchGradients"/>). So any
/// <see cref="TrainingThreads"/> gives bit-identical results. With several threads, the chunks run on
/// <see cref="ChunkRunner"/>'s workers, and the sums that follow are split over the same threads: the chunk gradients
/// by ranges of parameters (each value still summed in chunk order), the batch-wide ones by blocks of rows.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NetworkTraining<TKernels, TWorkspace> : IChunkWork
    where TKernels : struct, INetworkKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>Examples per chunk: the unit of work a thread takes, and of the fixed summation order.</summary>
    public const int ChunkSize = 8;

    private readonly float[] _parameters;
    private readonly ParameterVersion _version;
    private readonly long _seed;
    private readonly BatchGradients? _batchGradients; // the layers whose weight gradients a step takes over its whole batch
    private readonly (int Start, int Length)[] _chunkSpans; // the parameters outside those layers: all the chunks add to
    private long _step;
    private float[]? _gradients;
    private TWorkspace? _workspace;
    private int _threads = 1;

    // One-thread path: the scratch gradient of chunks after the first, and whether it may hold anything but zeros (it is
    // zeroed as it is added on, so a step that completes leaves it ready for the next without a separate clearing pass).
    private float[]? _chunkGradient;
    private bool _chunkGradientDirty;

    // Several threads: the batch (pinned: spans cannot cross threads), one gradient buffer per chunk, one workspace per worker.
    private float[]?[]? _chunkGradients;
    private float[]? _chunkLosses;
    private TWorkspace?[]? _workerWorkspaces;
    private long[]? _workerPreparedSteps; // the step whose kernels each worker's workspace holds (PrepareKernels)
    private unsafe float* _batchInputs; // the caller's inputs and labels, pinned while a parallel run reads them
    private unsafe int* _batchLabels;
    private unsafe ReadOnlySpan<float> BatchInputs => new(_batchInputs, _batchCount * TKernels.InputLength);
    private unsafe ReadOnlySpan<int> BatchLabels => new(_batchLabels, _batchCount);
    private int _batchCount;
    private float _batchScale;
    private long _batchStep;
    private GradientSum? _gradientSum;
    private OptimizerRanges? _optimizerRanges;
    private bool _sumFoundFinite; // the last ComputeGradients call's parallel sum checked every gradient and found them finite

    /// <summary>Creates the training state of a network whose weights and biases live in <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The network's parameters, <c>ParameterCount</c> values; training updates them in place.</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> does not hold <c>ParameterCount</c> values.</exception>
    public NetworkTraining(float[] parameters)
        : this(parameters, seed: 0)
    {
    }

    /// <summary>
    /// Creates the training state of a network whose weights and biases live in <paramref name="parameters"/> and whose
    /// random choices in training (dropout masks) derive from <paramref name="seed"/>.
    /// </summary>
    /// <param name="parameters">The network's parameters, <c>ParameterCount</c> values; training updates them in place.</param>
    /// <param name="seed">The network's seed: with the step count and each example's place in its batch, it gives the example's key.</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> does not hold <c>ParameterCount</c> values.</exception>
    public NetworkTraining(float[] parameters, long seed)
        : this(parameters, seed, SharedVersion())
    {
    }

    /// <summary>
    /// Creates the training state of a network whose weights and biases live in <paramref name="parameters"/>, whose
    /// random choices in training derive from <paramref name="seed"/>, and whose <c>Predict</c> calls keep their prepared
    /// kernels while <paramref name="version"/> says the parameters are unchanged: every gradient computed advances it.
    /// </summary>
    /// <param name="parameters">The network's parameters, <c>ParameterCount</c> values; training updates them in place.</param>
    /// <param name="seed">The network's seed: with the step count and each example's place in its batch, it gives the example's key.</param>
    /// <param name="version">The version the network's <c>Predict</c> calls pass to <see cref="NetworkInference{TKernels, TWorkspace}"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> does not hold <c>ParameterCount</c> values.</exception>
    public NetworkTraining(float[] parameters, long seed, ParameterVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        _version = version;
        ArgumentNullException.ThrowIfNull(parameters);
        Check.Length(parameters.Length, TKernels.ParameterCount + TKernels.StateLength, "the parameter count" + (TKernels.StateLength > 0 ? " plus the running statistics" : string.Empty), TKernels.Name, nameof(parameters));
        _parameters = parameters;
        _seed = seed;
        var layers = BatchGradientLayers();
        _batchGradients = layers.Length > 0 ? new BatchGradients(layers, TKernels.ParameterCount) : null;
        _chunkSpans = BatchGradients.RangesOutside(layers, TKernels.ParameterCount, int.MaxValue);
    }

    // For the constructors without a version: nobody else sees it, and shared it never vouches for unchanged parameters.
    private static ParameterVersion SharedVersion()
    {
        var version = new ParameterVersion();
        version.Share();
        return version;
    }

    private static BatchGradientInfo[] BatchGradientLayers()
    {
        var layers = new BatchGradientInfo[TKernels.BatchGradientCount];
        for (int k = 0; k < layers.Length; k++)
        {
            layers[k] = TKernels.BatchGradient(k);
        }

        return layers;
    }

    // The parameters an optimizer may move: not the running statistics of batch norm, which follow them in the storage.
    private Span<float> Trainable => _parameters.AsSpan(0, TKernels.ParameterCount);

    /// <summary>How many gradients (training steps) have been computed: the step number the next one draws its dropout masks with.</summary>
    public long Steps => _step;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate)
    {
        Check.LearningRate(learningRate, nameof(learningRate));
        float[] gradients = _gradients ??= new float[TKernels.ParameterCount];
        float loss = ComputeGradients(inputs, labels, gradients);
        Check.Finite(loss, gradients, TKernels.Name);
        Simd.Descend(Trainable, gradients, learningRate); // parameters −= learningRate × gradients
        return loss;
    }

    /// <summary>One step of <paramref name="optimizer"/> on the batch-mean cross-entropy; returns the mean loss before the step.</summary>
    /// <param name="inputs">labels.Length × <c>InputLength</c> values.</param>
    /// <param name="labels">The correct class of each input.</param>
    /// <param name="optimizer">How to turn the gradients into an update.</param>
    /// <exception cref="ArgumentException">An empty batch, mismatched sizes or a label out of range.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArithmeticException">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer)
    {
        Check.NotNull(optimizer, nameof(optimizer));
        float[] gradients = _gradients ??= new float[TKernels.ParameterCount];
        float loss = ComputeGradients(inputs, labels, gradients);
        bool checkedFinite = _sumFoundFinite;
        _sumFoundFinite = false;
        if (!checkedFinite || !float.IsFinite(loss))
        {
            Check.Finite(loss, gradients, TKernels.Name);
        }

        if (_threads > 1 && optimizer.UpdatesInRanges && TKernels.ParameterCount >= 2 * OptimizerRanges.RangeLength)
        {
            // Each parameter's update reads only its own gradient and state: the ranges give Step's result on any threads.
            optimizer.BeginStep(TKernels.ParameterCount, gradients.Length);
            var update = _optimizerRanges ??= new OptimizerRanges();
            update.Start(optimizer, _parameters, gradients);
            try
            {
                ChunkRunner.Run(update, (TKernels.ParameterCount + OptimizerRanges.RangeLength - 1) / OptimizerRanges.RangeLength, _threads);
            }
            finally
            {
                update.Start(null, null, null);
            }
        }
        else
        {
            optimizer.Step(Trainable, gradients);
        }

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients)
    {
        Check.Batch(inputs.Length, labels.Length, TKernels.InputLength, TKernels.Name, nameof(inputs), nameof(labels));
        Check.Labels(labels, TKernels.OutputLength, nameof(labels));
        Check.Length(gradients.Length, TKernels.ParameterCount, "the parameter count", TKernels.Name, nameof(gradients));
        _sumFoundFinite = false;
        _version.Advance(); // a step changes the running statistics here, and Train changes the parameters after this call
        int count = labels.Length;
        float scale = 1f / count;
        int chunks = (count + ChunkSize - 1) / ChunkSize;
        if (TKernels.BatchNormCount > 0)
        {
            CheckBatchStatistics(count);
            return ComputeGradientsBatchWide(inputs, labels, gradients, chunks, scale, _step++);
        }

        long step = _step++;
        if (_threads > 1 && chunks > 1)
        {
            return ComputeGradientsInParallel(inputs, labels, gradients, chunks, scale, step);
        }

        // One thread: chunk 0 straight into gradients, each later chunk into a scratch buffer added on in order; then the
        // weight gradients taken over the whole batch.
        var workspace = _workspace ??= TKernels.CreateWorkspace(training: true);
        TKernels.PrepareKernels(_parameters, workspace, batch: count >= NetworkInference<TKernels, TWorkspace>.BatchKernelMinimum, training: true, kept: false);
        var batch = _batchGradients;
        batch?.Begin(count);
        foreach (var (from, length) in _chunkSpans)
        {
            gradients.Slice(from, length).Clear(); // the batch-wide layers' weights are written whole at the end
        }

        float total = AccumulateRange(_parameters, inputs, labels, 0, Math.Min(ChunkSize, count), scale, workspace, gradients, batch, _seed, step);
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            float[] partial = _chunkGradient ??= new float[TKernels.ParameterCount];
            if (_chunkGradientDirty)
            {
                Array.Clear(partial); // a step that stopped part-way
            }

            _chunkGradientDirty = true;
            int start = chunk * ChunkSize;
            total += AccumulateRange(_parameters, inputs, labels, start, Math.Min(start + ChunkSize, count), scale, workspace, partial, batch, _seed, step);
            foreach (var (from, length) in _chunkSpans)
            {
                Simd.AddAndClear(partial.AsSpan(from, length), gradients.Slice(from, length)); // the rest of partial stays zero
            }

            _chunkGradientDirty = false;
        }

        if (batch is not null)
        {
            for (int part = 0; part < batch.Parts; part++)
            {
                batch.WritePart(part, gradients);
            }
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
        TKernels.PrepareKernels(_parameters, workspace, batch: false, training: false, kept: false);
        NetworkInference<TKernels, TWorkspace>.ForgetPreparedCall();
        TKernels.Forward(_parameters, input, workspace);
        return Softmax.CrossEntropy(TKernels.Logits(workspace), label);
    }

    // Examples [start, end) of a batch: forward, loss and backward for each, gradients added to gradients (but those of the
    // layers of batch, which keep their factors there for the end of the step). Returns the sum of their losses.
    // Each example gets its key from the seed, the step and its place in the batch, whichever thread runs it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float AccumulateRange(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int start, int end, float scale, TWorkspace workspace, Span<float> gradients, BatchGradients? batch, long seed, long step)
    {
        int inputLength = TKernels.InputLength;
        if (TKernels.TrainsInLanes && end - start >= TKernels.TrainingLanesMinimum)
        {
            // The whole chunk in one pass, an example per lane (the network's cost model chose it, for this many examples).
            return TKernels.TrainLanes(parameters, inputs.Slice(start * inputLength, (end - start) * inputLength), labels.Slice(start, end - start), start, scale, workspace, gradients, batch);
        }

        float total = 0f;
        for (int n = start; n < end; n++)
        {
            TKernels.BeginExample(workspace, DropoutMask.ExampleKey(seed, step, n));
            if (batch is not null)
            {
                TKernels.KeepForBatch(workspace, batch, n);
            }

            total += Accumulate(parameters, inputs.Slice(n * inputLength, inputLength), labels[n], scale, workspace, gradients);
        }

        TKernels.FinishExamples(workspace, gradients);

        return total;
    }

    // One example: forward, loss, and the backward pass adding scale × its gradient to gradients. Returns its loss.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    // Several threads: the batch is pinned for the workers (spans cannot cross threads), each chunk goes to its own gradient
    // buffer, then the buffers are added in chunk order, exactly as the one-thread path adds them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe float ComputeGradientsInParallel(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int chunks, float scale, long step)
    {
        _batchStep = step;
        int threads = Math.Min(_threads, chunks);
        if (_chunkGradients is null || _chunkGradients.Length < chunks) Array.Resize(ref _chunkGradients, chunks);
        if (_chunkLosses is null || _chunkLosses.Length < chunks) _chunkLosses = new float[chunks];
        if (_workerWorkspaces is null || _workerWorkspaces.Length < threads) Array.Resize(ref _workerWorkspaces, threads);
        if (_workerPreparedSteps is null || _workerPreparedSteps.Length < threads)
        {
            _workerPreparedSteps = new long[threads];
            Array.Fill(_workerPreparedSteps, -1);
        }

        for (int chunk = 0; chunk < chunks; chunk++)
        {
            _chunkGradients[chunk] ??= new float[TKernels.ParameterCount];
        }

        for (int worker = 0; worker < threads; worker++)
        {
            _workerWorkspaces[worker] ??= TKernels.CreateWorkspace(training: true);
        }

        _batchCount = labels.Length;
        _batchScale = scale;
        _batchGradients?.Begin(labels.Length);
        fixed (float* batchInputs = inputs)
        fixed (int* batchLabels = labels)
        {
            _batchInputs = batchInputs;
            _batchLabels = batchLabels;
            try
            {
                ChunkRunner.Run(this, chunks, threads);
            }
            finally
            {
                _batchInputs = null;
                _batchLabels = null;
            }
        }

        // The weight gradients taken over the whole batch, part by part, and the chunk gradients of the other parameters,
        // range by range, on the same threads: each value is the sum the one-thread path makes (chunk 0 + chunk 1 + … in
        // chunk order, or the whole batch in example order), so the result does not change.
        var sum = _gradientSum ??= new GradientSum(_batchGradients);
        fixed (float* destination = gradients)
        {
            sum.Start(destination, _chunkGradients, chunks);
            try
            {
                ChunkRunner.Run(sum, sum.Items, threads);
                _sumFoundFinite = !sum.FoundNonFinite;
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

    // ---------------------------------------------------------------- batch norm: stages over the whole batch

    // Each example has its own workspace, kept from one stage to the next; the statistics of each batch norm are
    // reduced over the whole batch, in example order, between the stages, so chunks and threads do not change them.
    private TWorkspace?[]? _exampleWorkspaces;
    private double[]? _statistics;
    private double[]? _sums;
    private float[]? _normGradients;
    private int _phase;

    // PyTorch's rule: batch statistics need more than one value per channel.
    private static void CheckBatchStatistics(int count)
    {
        for (int k = 0; k < TKernels.BatchNormCount; k++)
        {
            var info = TKernels.BatchNorm(k);
            long values = (long)count * info.Plane;
            if (values <= 1)
            {
                throw new ArgumentException(
                    $"{TKernels.Name}.{info.Name}: batch norm needs more than one value per channel to compute batch statistics in training, but a batch of {count} gives {values} ({count} example × {info.Plane} value per channel); train on batches of at least 2.",
                    "inputs");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe float ComputeGradientsBatchWide(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int chunks, float scale, long step)
    {
        int count = labels.Length;
        int threads = Math.Min(_threads, chunks);
        if (_chunkGradients is null || _chunkGradients.Length < chunks) _chunkGradients = new float[chunks][];
        if (_chunkLosses is null || _chunkLosses.Length < chunks) _chunkLosses = new float[chunks];
        if (_exampleWorkspaces is null || _exampleWorkspaces.Length < count) Array.Resize(ref _exampleWorkspaces, count);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            _chunkGradients[chunk] ??= new float[TKernels.ParameterCount];
        }

        for (int n = 0; n < count; n++)
        {
            _exampleWorkspaces[n] ??= TKernels.CreateWorkspace(training: true);
        }

        _statistics ??= new double[TKernels.BatchStatisticsLength];
        _sums ??= new double[TKernels.BatchStatisticsLength];
        _normGradients ??= new float[TKernels.ParameterCount];
        Array.Clear(_normGradients);
        _batchCount = count;
        _batchScale = scale;
        _batchStep = step;
        fixed (float* batchInputs = inputs)
        fixed (int* batchLabels = labels)
        {
            _batchInputs = batchInputs;
            _batchLabels = batchLabels;
            try
            {
                RunStages(chunks, threads, count);
            }
            finally
            {
                _batchInputs = null;
                _batchLabels = null;
            }
        }

        new ReadOnlySpan<float>(_chunkGradients[0]).CopyTo(gradients);
        float total = _chunkLosses[0];
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            Simd.Add(_chunkGradients[chunk], gradients);
            total += _chunkLosses[chunk];
        }

        Simd.Add(_normGradients, gradients);
        return total * scale;
    }

    // The forward stages, each followed by its batch norm's statistics, then the backward stages, each followed by its
    // gradient sums: every example of the batch through each stage before any goes on to the next.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunStages(int chunks, int threads, int count)
    {
        int layers = TKernels.BatchNormCount;
        for (int stage = 0; stage <= layers; stage++)
        {
            _phase = stage;
            ChunkRunner.Run(this, chunks, threads);
            if (stage < layers)
            {
                Reduce(stage, count, gradients: false);
            }
        }

        for (int stage = layers; stage >= 0; stage--)
        {
            _phase = -(stage + 1);
            ChunkRunner.Run(this, chunks, threads);
            if (stage > 0)
            {
                Reduce(stage - 1, count, gradients: true);
            }
        }
    }

    // The batch reductions run one channel per chunk on the worker pool when there is enough to share: each channel is
    // reduced by one thread, over the examples in order, so the result is the same for any thread count.
    private ChannelReduction? _reduction;

    private void Reduce(int index, int count, bool gradients)
    {
        var info = TKernels.BatchNorm(index);
        _reduction ??= new ChannelReduction(this);
        _reduction.Index = index;
        _reduction.Count = count;
        _reduction.Gradients = gradients;
        long values = (long)count * info.Plane * info.Channels;
        int threads = values >= ChannelReduction.ValuesWorthSharing ? _threads : 1;
        ChunkRunner.Run(_reduction, info.Channels, threads);
        if (!gradients)
        {
            _parameters[TKernels.ParameterCount + info.StateOffset + (2 * info.Channels)] += 1; // num_batches_tracked
        }
    }

    // Batch mean and 1 / √(biased variance + ε) of channel c, in double, over every example in order; then the running
    // statistics as PyTorch updates them, with the unbiased variance.
    private void ReduceStatistics(int index, int count, int c)
    {
        var info = TKernels.BatchNorm(index);
        int channels = info.Channels, plane = info.Plane;
        long values = (long)count * plane;
        Span<float> state = _parameters.AsSpan(TKernels.ParameterCount + info.StateOffset, (2 * channels) + 1);
        var sum = default(BatchNormMath.DoubleSum);
        for (int n = 0; n < count; n++)
        {
            sum.AddValues(TKernels.BatchNormValues(_exampleWorkspaces![n]!, index, BatchNormBuffer.Input).Slice(c * plane, plane));
        }

        double mean = sum.Total / values;
        var deviations = default(BatchNormMath.DoubleSum);
        for (int n = 0; n < count; n++)
        {
            deviations.AddSquaredDeviations(TKernels.BatchNormValues(_exampleWorkspaces![n]!, index, BatchNormBuffer.Input).Slice(c * plane, plane), mean);
        }

        double squares = deviations.Total;
        double variance = squares / values;
        _statistics![info.StatisticsOffset + c] = mean;
        _statistics[info.StatisticsOffset + channels + c] = 1.0 / Math.Sqrt(variance + info.Epsilon);
        state[c] = (float)(((1 - info.Momentum) * state[c]) + (info.Momentum * mean));
        state[channels + c] = (float)(((1 - info.Momentum) * state[channels + c]) + (info.Momentum * variance * values / (values - 1)));
    }

    // Σ dy and Σ dy·x̂ of channel c over the batch: the gradients of β and γ, and (divided by the count) what the input
    // gradient of the next backward stage subtracts.
    private void ReduceGradients(int index, int count, int c)
    {
        var info = TKernels.BatchNorm(index);
        int channels = info.Channels, plane = info.Plane;
        double values = (double)count * plane;
        double mean = _statistics![info.StatisticsOffset + c], invstd = _statistics[info.StatisticsOffset + channels + c];
        var gradientSum = default(BatchNormMath.DoubleSum);
        var productSum = default(BatchNormMath.DoubleSum);
        for (int n = 0; n < count; n++)
        {
            var workspace = _exampleWorkspaces![n]!;
            ReadOnlySpan<float> dy = TKernels.BatchNormValues(workspace, index, BatchNormBuffer.OutputGradient).Slice(c * plane, plane);
            ReadOnlySpan<float> x = TKernels.BatchNormValues(workspace, index, BatchNormBuffer.Input).Slice(c * plane, plane);
            productSum.AddGradientProducts(dy, x, mean, invstd, ref gradientSum); // Σ dy·x̂, x̂ in double
        }

        double sumGradient = gradientSum.Total, sumProduct = productSum.Total;
        _normGradients![info.WeightOffset + c] = (float)sumProduct;
        _normGradients[info.WeightOffset + channels + c] = (float)sumGradient;
        _sums![info.StatisticsOffset + c] = sumGradient / values;
        _sums[info.StatisticsOffset + channels + c] = sumProduct / values;
    }

    // One batch norm's reduction, a channel per chunk.
    private sealed class ChannelReduction(NetworkTraining<TKernels, TWorkspace> training) : IChunkWork
    {
        /// <summary>Below this many values (batch × channels × plane) one thread reduces faster than two can share it.</summary>
        public const long ValuesWorthSharing = 8 * 1024;

        public int Index { get; set; }

        public int Count { get; set; }

        public bool Gradients { get; set; }

        public void Execute(int chunk, int worker)
        {
            if (Gradients)
            {
                training.ReduceGradients(Index, Count, chunk);
            }
            else
            {
                training.ReduceStatistics(Index, Count, chunk);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteStage(int chunk)
    {
        int start = chunk * ChunkSize;
        int end = Math.Min(start + ChunkSize, _batchCount);
        int inputLength = TKernels.InputLength;
        int layers = TKernels.BatchNormCount;
        if (_phase >= 0)
        {
            int stage = _phase;
            float total = 0f;
            for (int n = start; n < end; n++)
            {
                var workspace = _exampleWorkspaces![n]!;
                ReadOnlySpan<float> input = BatchInputs.Slice(n * inputLength, inputLength);
                if (stage == 0)
                {
                    TKernels.BeginExample(workspace, DropoutMask.ExampleKey(_seed, _batchStep, n));
                }

                TKernels.ForwardStage(stage, _parameters, input, workspace, _statistics);
                if (stage == layers)
                {
                    total += Softmax.CrossEntropy(TKernels.Logits(workspace), BatchLabels[n]);
                    ReadOnlySpan<float> probabilities = TKernels.Probabilities(workspace);
                    Span<float> logitsGradient = TKernels.LogitsGradient(workspace);
                    for (int k = 0; k < TKernels.OutputLength; k++)
                    {
                        logitsGradient[k] = (probabilities[k] - (k == BatchLabels[n] ? 1f : 0f)) * _batchScale;
                    }
                }
            }

            if (stage == layers)
            {
                _chunkLosses![chunk] = total;
            }

            return;
        }

        int backward = -_phase - 1;
        float[] partial = _chunkGradients![chunk]!;
        if (backward == layers)
        {
            Array.Clear(partial);
        }

        for (int n = start; n < end; n++)
        {
            TKernels.BackwardStage(backward, _parameters, BatchInputs.Slice(n * inputLength, inputLength), _exampleWorkspaces![n]!, partial, _statistics, _sums);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IChunkWork.Execute(int chunk, int worker)
    {
        if (TKernels.BatchNormCount > 0)
        {
            ExecuteStage(chunk);
            return;
        }

        // Zeroed here, by the thread that fills it, rather than by the sum that reads it: the sum then only reads the
        // buffers of the other threads, and they stay in the cache of the thread that writes them (2% on two threads).
        // Only the ranges the chunks add to; the batch-wide layers' part is never written.
        float[] partial = _chunkGradients![chunk]!;
        foreach (var (from, length) in _chunkSpans)
        {
            partial.AsSpan(from, length).Clear();
        }

        int start = chunk * ChunkSize;
        int end = Math.Min(start + ChunkSize, _batchCount);
        var workspace = _workerWorkspaces![worker]!;
        if (_workerPreparedSteps![worker] != _batchStep)
        {
            // This worker's first chunk of the step: its prepared kernels are set up once, from the step's parameters.
            TKernels.PrepareKernels(_parameters, workspace, batch: _batchCount >= NetworkInference<TKernels, TWorkspace>.BatchKernelMinimum, training: true, kept: false);
            _workerPreparedSteps[worker] = _batchStep;
        }

        _chunkLosses![chunk] = AccumulateRange(_parameters, BatchInputs, BatchLabels, start, end, _batchScale, workspace, partial, _batchGradients, _seed, _batchStep);
    }

    // Writes the caller's (pinned) gradient span: first the parts of the weight gradients taken over the whole batch, then
    // the other parameters range by range, each the sum of the chunk gradients in chunk order. It only reads the chunk
    // gradients: each chunk zeroes its own before it adds to it.
    private sealed unsafe class GradientSum : IChunkWork
    {
        /// <summary>Parameters per range: 16 KB of each chunk gradient, small enough to stay in cache while it is summed.</summary>
        private const int RangeLength = 4096;

        private readonly BatchGradients? _batch;
        private readonly int _parts;
        private readonly (int Start, int Length)[] _ranges;
        private float* _destination;
        private float[]?[]? _chunkGradients;
        private int _chunks;
        private int _nonFinite;

        public GradientSum(BatchGradients? batch)
        {
            _batch = batch;
            _parts = batch?.Parts ?? 0;
            _ranges = BatchGradients.RangesOutside(BatchGradientLayers(), TKernels.ParameterCount, RangeLength);
        }

        /// <summary>The work items: the batch gradients' parts, then the ranges.</summary>
        public int Items => _parts + _ranges.Length;

        /// <summary>True when some item of the sum held NaN or an infinity.</summary>
        public bool FoundNonFinite => Volatile.Read(ref _nonFinite) != 0;

        public void Start(float* destination, float[]?[]? chunkGradients, int chunks)
        {
            _destination = destination;
            _chunkGradients = chunkGradients;
            _chunks = chunks;
            _nonFinite = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int item, int worker)
        {
            if (item < _parts)
            {
                if (!_batch!.WritePart(item, new Span<float>(_destination, TKernels.ParameterCount)))
                {
                    Volatile.Write(ref _nonFinite, 1);
                }

                return;
            }

            var (start, length) = _ranges[item - _parts];
            var destination = new Span<float>(_destination + start, length);
            var first = new Span<float>(_chunkGradients![0], start, length);
            first.CopyTo(destination);
            for (int chunk = 1; chunk < _chunks; chunk++)
            {
                Simd.Add(new Span<float>(_chunkGradients[chunk], start, length), destination);
            }

            // The check Train makes before a step, on the range while it is in cache (Check.Finite then names the value).
            if (Check.FirstNonFinite(destination) >= 0)
            {
                Volatile.Write(ref _nonFinite, 1);
            }
        }
    }

    // An optimizer step over ranges of the parameters, on the training threads (Optimizer.UpdatesInRanges).
    private sealed class OptimizerRanges : IChunkWork
    {
        /// <summary>Parameters per range: 64 KB of each buffer the update reads or writes.</summary>
        public const int RangeLength = 16384;

        private Optimizer? _optimizer;
        private float[]? _parameters;
        private float[]? _gradients;

        public void Start(Optimizer? optimizer, float[]? parameters, float[]? gradients)
        {
            _optimizer = optimizer;
            _parameters = parameters;
            _gradients = gradients;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int range, int worker)
        {
            int start = range * RangeLength;
            int length = Math.Min(RangeLength, TKernels.ParameterCount - start);
            _optimizer!.UpdateRange(_parameters.AsSpan(start, length), _gradients.AsSpan(start, length), start);
        }
    }
}

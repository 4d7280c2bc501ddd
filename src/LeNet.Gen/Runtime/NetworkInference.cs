using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Inference for any network, written once: the three <c>Predict</c> entry points, their argument checks, and a batch of
/// inputs cut into chunks over threads. The network's own pass comes from <typeparamref name="TKernels"/>. A generated
/// network forwards its public <c>Predict</c> members here. Not meant to be used directly.
/// </summary>
/// <typeparam name="TKernels">The network's sizes and forward pass; a struct, so the JIT specialises this class per network.</typeparam>
/// <typeparam name="TWorkspace">The network's buffers for one pass.</typeparam>
/// <remarks>
/// <para>
/// Every input of a batch goes through <see cref="IInferenceKernels{TWorkspace}.Forward"/> on its own, into the buffers of
/// whichever thread runs it, or through the image-lanes pass in its own lane. Nothing is summed across inputs, so each input's outputs are bit-identical whatever the thread
/// count. A call of fewer than <see cref="BatchKernelMinimum"/> inputs runs the same kernels as a single-image call, and
/// gives bit-identical outputs to it. A larger call may run kernels that a network keeps for batches (Winograd
/// convolutions whose weight transform only pays for itself over many inputs), or the network's image-lanes pass
/// (<see cref="IInferenceKernels{TWorkspace}.ForwardImages"/>, several inputs at once, one per vector lane, each lane
/// with the same arithmetic whatever its neighbours): they add the same products in another order, so its outputs
/// differ from the single-image ones by rounding only, within 10⁻⁵ relative (the tests check it).
/// </para>
/// <para>
/// The calls keep no state in an instance: the batch being run belongs to the calling thread, and each thread (the
/// caller and the pool's workers) has its own buffers, so several threads may call at once.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class NetworkInference<TKernels, TWorkspace>
    where TKernels : struct, IInferenceKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>
    /// Chunks per thread a batch is cut into (at most one input per chunk). Threads take chunks as they go, so small chunks
    /// keep them busy until the end: the last thread to finish waits for at most one small chunk, and a thread that the
    /// operating system delays leaves its remaining chunks to the others. Taking a chunk costs one atomic increment.
    /// </summary>
    public const int ChunksPerThread = 32;

    /// <summary>
    /// The fewest inputs in one call for which a network's batch kernels run (<see cref="IInferenceKernels{TWorkspace}.PrepareKernels"/>).
    /// The choice depends on the call's size only, never on the thread count, so outputs do not depend on the thread count.
    /// </summary>
    public const int BatchKernelMinimum = 16;

    // Numbers the batch calls, so that each thread sets up its batch kernels once per call (its first chunk of it).
    private static long s_calls;

    [ThreadStatic]
    private static long t_preparedCall;

    // What the calling thread's inference workspace was last prepared from: a network's parameter version, its number then,
    // and whether for a batch call. While all three hold and the version is not shared, the prepared kernels are current
    // and PrepareKernels is not called at all (ParameterVersion says why that matters).
    [ThreadStatic]
    private static ParameterVersion? t_preparedFrom;

    [ThreadStatic]
    private static long t_preparedNumber;

    [ThreadStatic]
    private static bool t_preparedBatch;

    // The batch a calling thread is running: spans cannot be stored, so the job holds pointers into the caller's spans,
    // which stay pinned until every chunk is done. One per calling thread, reused, so a call allocates nothing.
    [ThreadStatic]
    private static Job? t_job;

    // A thread's outputs of one image-lanes group when the call wants classes only.
    [ThreadStatic]
    private static float[]? t_groupOutputs;

    /// <summary>Runs the network on one input and returns the index of its largest output (the first on a tie), or −1 for NaN outputs.</summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> does not hold one input.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Predict(ReadOnlySpan<float> parameters, ParameterVersion version, ReadOnlySpan<float> input)
    {
        Check.Length(input.Length, TKernels.InputLength, TKernels.InputShape, TKernels.Name, nameof(input));
        var workspace = TKernels.InferenceWorkspace;
        Prepare(parameters, version, workspace, batch: false);
        t_preparedCall = 0;
        TKernels.Forward(parameters, input, workspace);
        return Softmax.LargestIndex(TKernels.Output(workspace));
    }

    /// <summary>
    /// Runs the network on N inputs (N × <c>InputLength</c> values, one after another) on up to
    /// <paramref name="threads"/> threads, and writes each input's <c>OutputLength</c> outputs into
    /// <paramref name="output"/> (N × <c>OutputLength</c> values, in input order).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a whole number of inputs, or <paramref name="output"/> does not hold as many outputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Predict(float[] parameters, ParameterVersion version, int threads, ReadOnlySpan<float> input, Span<float> output)
    {
        int count = Check.Inputs(input.Length, TKernels.InputLength, TKernels.InputShape, TKernels.Name, nameof(input));
        Check.Outputs(output.Length, count, TKernels.OutputLength, TKernels.OutputShape, TKernels.Name, nameof(output), nameof(input));
        Check.Threads(threads, nameof(threads));
        fixed (float* inputs = input)
        fixed (float* outputs = output)
        {
            Run(parameters, version, threads, inputs, outputs, null, count);
        }
    }

    /// <summary>
    /// Runs the network on N inputs (N × <c>InputLength</c> values, one after another) on up to
    /// <paramref name="threads"/> threads, and writes each input's predicted class into <paramref name="classes"/>
    /// (N values, in input order): the index of its largest output, the first on a tie, or −1 for NaN outputs.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is not a whole number of inputs, or <paramref name="classes"/> does not hold one value per input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Predict(float[] parameters, ParameterVersion version, int threads, ReadOnlySpan<float> inputs, Span<int> classes)
    {
        int count = Check.Inputs(inputs.Length, TKernels.InputLength, TKernels.InputShape, TKernels.Name, nameof(inputs));
        Check.Classes(classes.Length, count, TKernels.Name, nameof(classes), nameof(inputs));
        Check.Threads(threads, nameof(threads));
        fixed (float* input = inputs)
        fixed (int* predicted = classes)
        {
            Run(parameters, version, threads, input, null, predicted, count);
        }
    }

    /// <summary>Records that the calling thread's inference workspace no longer holds a batch call's setup (after another use of it).</summary>
    internal static void ForgetPreparedCall()
    {
        t_preparedCall = 0;
        t_preparedFrom = null;
    }

    // Sets up the calling thread's workspace for a call on these parameters, unless it already is (see t_preparedFrom).
    private static void Prepare(ReadOnlySpan<float> parameters, ParameterVersion version, TWorkspace workspace, bool batch)
    {
        ArgumentNullException.ThrowIfNull(version);
        long number = version.Number;
        if (ReferenceEquals(t_preparedFrom, version) && t_preparedNumber == number && t_preparedBatch == batch && !version.Shared)
        {
            return;
        }

        TKernels.PrepareKernels(parameters, workspace, batch, training: false, kept: !version.Shared);
        t_preparedFrom = version;
        t_preparedNumber = number;
        t_preparedBatch = batch;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(float[] parameters, ParameterVersion version, int threads, float* inputs, float* outputs, int* classes, int count)
    {
        long call = count >= BatchKernelMinimum ? Interlocked.Increment(ref s_calls) : 0;

        // A batch call of a network with the image-lanes pass runs it on up to ImagesPerPass inputs at a time, and a chunk
        // is a whole number of such groups; otherwise a chunk is a range of inputs.
        int group = call != 0 && TKernels.HasImageLanes ? TKernels.ImagesPerPass : 0;
        int units = group > 0 ? (count + group - 1) / group : count;
        if (threads == 1 || units <= 1)
        {
            PredictRange(parameters, version, inputs, outputs, classes, 0, count, call, group);
            return;
        }

        int chunks = Math.Min(units, threads * ChunksPerThread);
        var job = t_job is { Busy: false } idle ? idle : t_job = new Job(); // a new one only on a thread's first call (or a nested one)
        job.Busy = true;
        try
        {
            job.Parameters = parameters;
            job.Version = version;
            job.Inputs = inputs;
            job.Outputs = outputs;
            job.Classes = classes;
            job.Count = count;
            job.Units = units;
            job.Group = group;
            job.Chunks = chunks;
            job.Call = call;
            ChunkRunner.Run(job, chunks, Math.Min(threads, chunks));
        }
        finally
        {
            job.Parameters = null;
            job.Version = null;
            job.Inputs = null;
            job.Outputs = null;
            job.Classes = null;
            job.Busy = false;
        }
    }

    // Inputs [start, end) on the current thread, into this thread's buffers: each through its own Forward, or, when group
    // is above 0, group by group through ForwardImages. call numbers a batch call (0 for a call too small for the batch kernels).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PredictRange(ReadOnlySpan<float> parameters, ParameterVersion version, float* inputs, float* outputs, int* classes, int start, int end, long call, int group)
    {
        int inputLength = TKernels.InputLength;
        int outputLength = TKernels.OutputLength;
        var workspace = TKernels.InferenceWorkspace;
        if (call == 0 || t_preparedCall != call)
        {
            // The single-image kernels' set-up, which ForwardImages also uses when only its dense tail is batched.
            Prepare(parameters, version, workspace, batch: call != 0);
            t_preparedCall = call;
        }

        if (group > 0)
        {
            for (int n = start; n < end; n += group)
            {
                int images = Math.Min(group, end - n);
                Span<float> results = outputs is not null
                    ? new Span<float>(outputs + ((nint)n * outputLength), images * outputLength)
                    : t_groupOutputs ??= new float[group * outputLength];
                TKernels.ForwardImages(parameters, new ReadOnlySpan<float>(inputs + ((nint)n * inputLength), images * inputLength), images, workspace, results);
                for (int i = 0; classes is not null && i < images; i++)
                {
                    classes[n + i] = Softmax.LargestIndex(results.Slice(i * outputLength, outputLength));
                }
            }

            return;
        }

        for (int n = start; n < end; n++)
        {
            TKernels.Forward(parameters, new ReadOnlySpan<float>(inputs + ((nint)n * inputLength), inputLength), workspace);
            ReadOnlySpan<float> output = TKernels.Output(workspace);
            if (classes is not null)
            {
                classes[n] = Softmax.LargestIndex(output);
            }
            else
            {
                output.CopyTo(new Span<float>(outputs + ((nint)n * outputLength), outputLength));
            }
        }
    }

    private sealed class Job : IChunkWork
    {
        public bool Busy;
        public float[]? Parameters;
        public ParameterVersion? Version;
        public float* Inputs;
        public float* Outputs;
        public int* Classes;
        public int Count;
        public int Units;
        public int Group;
        public int Chunks;
        public long Call;

        // Chunk c covers units [c × Units / Chunks, (c + 1) × Units / Chunks): sizes differ by at most one. A unit is an
        // input, or a group of Group inputs (the last one possibly short).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int worker)
        {
            int first = (int)((long)chunk * Units / Chunks), last = (int)((long)(chunk + 1) * Units / Chunks);
            int size = Math.Max(Group, 1);
            PredictRange(Parameters, Version!, Inputs, Outputs, Classes, first * size, Math.Min(Count, last * size), Call, Group);
        }
    }
}

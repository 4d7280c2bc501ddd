using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace LeNet.Gen.Runtime;

/// <summary>Work split into numbered chunks; <see cref="Execute"/> runs one chunk on the given worker (0 is the calling thread).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IChunkWork
{
    /// <summary>Runs chunk <paramref name="chunk"/>, using the buffers of worker <paramref name="worker"/>.</summary>
    void Execute(int chunk, int worker);
}

/// <summary>
/// Runs chunks of work on the calling thread plus workers from a pool of long-lived background threads shared by every
/// network in the process: batched <c>Predict</c> and multi-threaded training both run here. Not meant to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why the workers spin.</b> Waking a blocked thread costs tens of microseconds on a virtual machine, and a fork and
/// join per call paid that twice per call. So a worker that finishes a job spins, for at most
/// <see cref="SpinMicroseconds"/>, watching for the next job, and only then blocks; a caller waiting for the last
/// chunk spins for as long before it blocks. Calls that follow each other closely (batches of <c>Predict</c>, training
/// steps) find the workers awake. The spin is bounded, so an idle process goes quiet within a fraction of a millisecond;
/// on a single-processor machine nobody spins.
/// </para>
/// <para>
/// <b>Concurrency.</b> There is no process-wide lock: each run claims idle workers for itself, so two networks training
/// (or predicting) on different threads at once run side by side, each on its own workers. The pool grows when every
/// worker is taken, up to <see cref="MaxWorkers"/>; past that a run does with the workers it got (its calling thread at
/// least). Which worker runs which chunk never changes the result: callers make each chunk's result depend only on the
/// chunk (the buffers of worker <c>w</c> are scratch space), and combine chunks in chunk order.
/// </para>
/// <para>
/// <b>Lifetime.</b> Workers are background threads, created on demand and kept for the life of the process; they do not
/// keep it alive. A blocked worker costs no processor time. Nothing is allocated per run once the workers exist and the
/// calling thread has run once: a run reuses its thread's job object.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ChunkRunner
{
    /// <summary>How long a worker, or a caller waiting for its workers, spins before it blocks, in microseconds.</summary>
    public const int SpinMicroseconds = 100;

    /// <summary>The most workers the pool creates, besides the calling threads.</summary>
    public const int MaxWorkers = 256;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static readonly bool CanSpin = Environment.ProcessorCount > 1;
    private static readonly object GrowLock = new();
    private static Worker[] s_workers = Array.Empty<Worker>();

    // The job a calling thread is running, reused from run to run; a new one only for a nested run on the same thread.
    [ThreadStatic]
    private static Job? t_job;

    /// <summary>The number of worker threads the pool has created so far.</summary>
    public static int WorkerCount => Volatile.Read(ref s_workers).Length;

    /// <summary>
    /// Runs chunks 0 … <paramref name="count"/> − 1 of <paramref name="work"/> on the calling thread and up to
    /// <paramref name="threads"/> − 1 workers, and returns when all are done. An exception thrown by a chunk stops the
    /// chunks not yet started and is rethrown here.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IChunkWork work, int count, int threads)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int helpers = Math.Min(threads, count) - 1;
        if (helpers <= 0)
        {
            for (int chunk = 0; chunk < count; chunk++)
            {
                work.Execute(chunk, 0);
            }

            return;
        }

        var job = t_job is { Busy: false } idle ? idle : t_job = new Job();
        job.Start(work, count);
        try
        {
            Claim(job, helpers);
            job.TakeChunks(0);
            job.Join();
        }
        finally
        {
            job.Work = null;
            job.Busy = false;
        }

        if (job.Failure is { } failure)
        {
            job.Failure = null;
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    // Hands the job to up to helpers workers, numbered 1, 2, …: idle ones first, then new ones while the pool may grow.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Claim(Job job, int helpers)
    {
        int slot = 1;
        var workers = Volatile.Read(ref s_workers);
        for (int i = 0; i < workers.Length && slot <= helpers; i++)
        {
            if (workers[i].TryClaim(job, slot))
            {
                slot++;
            }
        }

        while (slot <= helpers && Grow(job, slot))
        {
            slot++;
        }
    }

    // A new worker that starts on the job at once; false when the pool is full.
    private static bool Grow(Job job, int slot)
    {
        lock (GrowLock)
        {
            var workers = s_workers;
            if (workers.Length >= MaxWorkers)
            {
                return false;
            }

            var worker = new Worker(workers.Length + 1);
            var grown = new Worker[workers.Length + 1];
            Array.Copy(workers, grown, workers.Length);
            grown[workers.Length] = worker;
            worker.Begin(job, slot);
            Volatile.Write(ref s_workers, grown);
            return true;
        }
    }

    // Spins until condition holds or SpinTicks pass; returns whether it holds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool SpinUntil<TState>(Func<TState, bool> condition, TState state)
    {
        if (condition(state))
        {
            return true;
        }

        if (!CanSpin)
        {
            return false;
        }

        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        do
        {
            Thread.SpinWait(8);
            if (condition(state))
            {
                return true;
            }
        }
        while (Stopwatch.GetTimestamp() < deadline);
        return false;
    }

    /// <summary>One run: the chunks handed out, and the count of threads still working on them.</summary>
    private sealed class Job
    {
        private static readonly Func<Job, bool> AllDone = job => Volatile.Read(ref job._pending) == 0;

        // The last worker to finish releases it when the caller was not last; the caller then waits on it once, so a
        // release is always consumed by the run that made it.
        private readonly SemaphoreSlim _done = new(0);
        private int _next;
        private int _count;
        private int _pending;

        public bool Busy;
        public IChunkWork? Work;
        public Exception? Failure;

        public void Start(IChunkWork work, int count)
        {
            Busy = true;
            Work = work;
            Failure = null;
            _count = count;
            _next = 0;
            _pending = 1; // the caller
        }

        /// <summary>Counts one more thread on the job; called before the thread sees it.</summary>
        public void Enlist() => Interlocked.Increment(ref _pending);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void TakeChunks(int worker)
        {
            try
            {
                var work = Work!;
                int chunk;
                while ((chunk = Interlocked.Increment(ref _next) - 1) < _count)
                {
                    work.Execute(chunk, worker);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref Failure, e, null);
                Volatile.Write(ref _next, _count); // the others stop taking chunks
            }
        }

        /// <summary>A worker is done with the job; it must not touch the job afterwards.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Leave()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Release(); // the caller left before us and waits
            }
        }

        /// <summary>The caller is done with its chunks; returns once every worker has left.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Join()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                return; // every worker left before us, and none released
            }

            // A worker will release once: spin a while for it, then block. Wait consumes the release either way.
            SpinUntil(AllDone, this);
            _done.Wait();
        }
    }

    /// <summary>A pool thread: runs a job's chunks, then spins for the next job, then blocks.</summary>
    private sealed class Worker
    {
        private const int Idle = 0;     // spinning, claimable
        private const int Sleeping = 1; // blocked on _wake, claimable
        private const int Claimed = 2;  // has, or is about to get, a job

        private static readonly Func<Worker, bool> HasJob = worker => Volatile.Read(ref worker._job) is not null;

        private readonly SemaphoreSlim _wake = new(0);
        private readonly int _number;
        private int _state = Claimed;
        private Job? _job;
        private int _slot;

        public Worker(int number) => _number = number;

        /// <summary>Starts the thread on its first job.</summary>
        public void Begin(Job job, int slot)
        {
            job.Enlist();
            _slot = slot;
            _job = job;
            new Thread(Loop) { IsBackground = true, Name = "LeNet.Gen worker " + _number }.Start();
        }

        /// <summary>Gives the job to this worker if it is idle, as worker number <paramref name="slot"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool TryClaim(Job job, int slot)
        {
            int state = Volatile.Read(ref _state);
            if (state == Claimed || Interlocked.CompareExchange(ref _state, Claimed, state) != state)
            {
                return false;
            }

            job.Enlist();
            _slot = slot;
            Volatile.Write(ref _job, job);
            if (state == Sleeping)
            {
                _wake.Release();
            }

            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            while (true)
            {
                var job = Volatile.Read(ref _job) ?? WaitForJob();
                job.TakeChunks(_slot);
                Volatile.Write(ref _job, null);
                Volatile.Write(ref _state, Idle); // claimable from here on, before leaving the job
                job.Leave();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private Job WaitForJob()
        {
            if (!SpinUntil(HasJob, this) && Interlocked.CompareExchange(ref _state, Sleeping, Idle) == Idle)
            {
                _wake.Wait(); // a claimer moved us from Sleeping to Claimed, set the job and released
            }

            // Claimed while spinning: the claimer sets the job right after taking us.
            Job? job;
            while ((job = Volatile.Read(ref _job)) is null)
            {
                Thread.SpinWait(1);
            }

            return job;
        }
    }
}

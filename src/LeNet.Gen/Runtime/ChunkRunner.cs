using System;
using System.ComponentModel;
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
/// Runs chunks of work on the calling thread plus a few long-lived background threads shared by every network in the
/// process. Nothing is allocated per run once the threads exist, so a training step stays allocation-free. One run
/// at a time: a second caller waits for the first. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ChunkRunner
{
    private static readonly object Gate = new();
    // A semaphore rather than an event: its blocking wait allocates nothing, even the first time.
    private static readonly SemaphoreSlim Done = new(0);
    private static SemaphoreSlim[] s_wake = Array.Empty<SemaphoreSlim>();
    private static IChunkWork? s_work;
    private static int s_count;
    private static int s_next;
    private static int s_pending;
    private static Exception? s_failure;

    /// <summary>Runs chunks 0 … <paramref name="count"/> − 1 of <paramref name="work"/> on up to <paramref name="threads"/> threads, and returns when all are done.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
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

        lock (Gate)
        {
            EnsureWorkers(helpers);
            s_work = work;
            s_count = count;
            s_next = 0;
            s_failure = null;
            s_pending = helpers;
            for (int i = 0; i < helpers; i++)
            {
                s_wake[i].Release();
            }

            TakeChunks(0);
            Done.Wait();
            s_work = null;
            if (s_failure is { } failure)
            {
                ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
    }

    private static void TakeChunks(int worker)
    {
        try
        {
            int chunk;
            while ((chunk = Interlocked.Increment(ref s_next) - 1) < s_count)
            {
                s_work!.Execute(chunk, worker);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_failure, e, null);
            Volatile.Write(ref s_next, s_count); // the others stop taking chunks
        }
    }

    private static void EnsureWorkers(int helpers)
    {
        if (s_wake.Length >= helpers)
        {
            return;
        }

        var wake = new SemaphoreSlim[helpers];
        Array.Copy(s_wake, wake, s_wake.Length);
        for (int i = s_wake.Length; i < helpers; i++)
        {
            var semaphore = new SemaphoreSlim(0);
            wake[i] = semaphore;
            int worker = i + 1;
            var thread = new Thread(() => Work(semaphore, worker)) { IsBackground = true, Name = "LeNet.Gen worker " + worker };
            thread.Start();
        }

        s_wake = wake;
    }

    private static void Work(SemaphoreSlim wake, int worker)
    {
        while (true)
        {
            wake.Wait();
            TakeChunks(worker);
            if (Interlocked.Decrement(ref s_pending) == 0)
            {
                Done.Release();
            }
        }
    }
}

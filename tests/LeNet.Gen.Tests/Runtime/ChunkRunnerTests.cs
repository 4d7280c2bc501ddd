using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>The runtime's worker pool: every chunk once, worker numbers in range, errors, concurrency, nesting, lifetime.</summary>
public class ChunkRunnerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 1)]
    [InlineData(1, 3)] // one chunk: the calling thread alone
    [InlineData(2, 2)]
    [InlineData(7, 2)]
    [InlineData(37, 3)]
    [InlineData(100, 4)]
    public void Every_chunk_runs_exactly_once_on_a_worker_below_the_thread_count(int count, int threads)
    {
        var work = new Recording(count);
        for (int run = 0; run < 200; run++) // many runs back to back: workers are claimed while spinning and while blocked
        {
            work.Reset();
            ChunkRunner.Run(work, count, threads);
            Assert.All(work.Runs, runs => Assert.Equal(1, runs));
            Assert.All(work.Workers, worker => Assert.InRange(worker, 0, Math.Min(threads, count) - 1));
        }
    }

    [Fact]
    public void Workers_other_than_the_caller_are_named_background_threads()
    {
        var work = new Recording(64) { Delay = true };
        ChunkRunner.Run(work, 64, 2);

        Assert.All(work.Threads.Where((_, chunk) => work.Workers[chunk] != 0), thread =>
        {
            Assert.True(thread!.IsBackground);
            Assert.StartsWith("LeNet.Gen worker ", thread.Name);
        });
        Assert.All(work.Threads.Where((_, chunk) => work.Workers[chunk] == 0), thread => Assert.Same(Thread.CurrentThread, thread));
    }

    [Fact]
    public void An_exception_in_a_chunk_is_rethrown_and_the_pool_keeps_working()
    {
        var failing = new Failing(failAt: 5);

        var error = Assert.Throws<InvalidOperationException>(() => ChunkRunner.Run(failing, 20, 2));
        Assert.Equal("chunk 5", error.Message);

        var work = new Recording(20);
        ChunkRunner.Run(work, 20, 2);
        Assert.All(work.Runs, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public async Task Two_runs_on_different_threads_proceed_at_once()
    {
        // A's chunks wait until B's whole run has finished. With one run at a time in the process (a global lock), B
        // would wait for A and A for B: A's wait would time out and fail the test.
        using var bFinished = new ManualResetEventSlim();
        var a = new Waiting(bFinished);
        var runA = Task.Run(() => ChunkRunner.Run(a, 2, 2));
        Assert.True(a.Started.Wait(TimeSpan.FromSeconds(30)), "run A did not start");

        var b = new Recording(4);
        var runB = Task.Run(() =>
        {
            ChunkRunner.Run(b, 4, 2);
            bFinished.Set();
        });

        await Task.WhenAll(runA, runB).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(a.TimedOut, "run A's chunk waited for run B in vain: the runs were serialised");
        Assert.All(b.Runs, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void A_chunk_may_run_chunks_of_its_own()
    {
        var inner = Enumerable.Range(0, 6).Select(_ => new Recording(5)).ToArray();
        var outer = new Nesting(inner);

        ChunkRunner.Run(outer, inner.Length, 3);

        Assert.All(inner, work => Assert.All(work.Runs, runs => Assert.Equal(1, runs)));
    }

    [Fact]
    public void Below_one_thread_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkRunner.Run(new Recording(1), 1, 0));
        Assert.Throws<ArgumentNullException>(() => ChunkRunner.Run(null!, 1, 1));
    }

    private sealed class Recording(int count) : IChunkWork
    {
        public int[] Runs { get; } = new int[count];

        public int[] Workers { get; } = new int[count];

        public Thread?[] Threads { get; } = new Thread?[count];

        public bool Delay { get; init; }

        public void Reset()
        {
            Array.Clear(Runs);
            Array.Clear(Workers);
        }

        public void Execute(int chunk, int worker)
        {
            Interlocked.Increment(ref Runs[chunk]);
            Workers[chunk] = worker;
            Threads[chunk] = Thread.CurrentThread;
            if (Delay)
            {
                Thread.Sleep(1); // long enough for a worker to take some chunks
            }
        }
    }

    private sealed class Failing(int failAt) : IChunkWork
    {
        public void Execute(int chunk, int worker)
        {
            if (chunk == failAt)
            {
                throw new InvalidOperationException("chunk " + chunk);
            }
        }
    }

    private sealed class Waiting(ManualResetEventSlim release) : IChunkWork
    {
        public ManualResetEventSlim Started { get; } = new();

        public bool TimedOut { get; private set; }

        public void Execute(int chunk, int worker)
        {
            Started.Set();
            if (!release.Wait(TimeSpan.FromSeconds(20)))
            {
                TimedOut = true;
            }
        }
    }

    private sealed class Nesting(Recording[] inner) : IChunkWork
    {
        public void Execute(int chunk, int worker) => ChunkRunner.Run(inner[chunk], inner[chunk].Runs.Length, 2);
    }
}

/// <summary>The pool after many runs: no allocation per run and no thread per run.</summary>
[Collection(AllocationCollection.Name)]
public class ChunkRunnerSteadyStateTests
{
    [Fact]
    public void Runs_allocate_nothing_and_reuse_the_same_workers()
    {
        var work = new Counting();
        ChunkRunner.Run(work, 16, 3);
        int workers = ChunkRunner.WorkerCount;

        var readings = SteadyStateAllocation.Measure(() =>
        {
            for (int run = 0; run < 1000; run++)
            {
                ChunkRunner.Run(work, 16, 3);
            }
        });

        Assert.True(readings[^1] == 0, $"1,000 runs on 3 threads allocated {string.Join(" B, then ", readings)} B");
        Assert.Equal(16 * (1 + (1000 * readings.Count)), work.Total); // every chunk of every run, once
        Assert.Equal(workers, ChunkRunner.WorkerCount); // this test runs alone: nothing else may grow the pool
    }

    private sealed class Counting : IChunkWork
    {
        private int _total;

        public int Total => Volatile.Read(ref _total);

        public void Execute(int chunk, int worker) => Interlocked.Increment(ref _total);
    }
}

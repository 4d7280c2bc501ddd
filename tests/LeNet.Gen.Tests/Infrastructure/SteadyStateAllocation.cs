using System;
using System.Collections.Generic;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests;

/// <summary>
/// Measures what warm code allocates on the calling thread, for the "allocates nothing after warm-up" promises.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> charges a thread by allocation-context chunk (about 8 KB), less
/// the unused part of its current chunk. Now and then the runtime retires a chunk early and the unused part is counted
/// as allocated, so a loop that allocates nothing reads a few kilobytes once: this project's CI saw 4,360 B and 8,112 B
/// for 2,000 calls of Predict, and the runtime's own test of this API fails the same way
/// (https://github.com/dotnet/runtime/issues/63487, 74388).
/// </para>
/// <para>
/// So a measurement is repeated, up to <see cref="Attempts"/> times, until one reads exactly 0 B. A real allocation in
/// the measured calls, even 24 bytes per call, shows in every attempt, so it still fails; the runtime's one-off
/// accounting does not recur.
/// </para>
/// </remarks>
internal static class SteadyStateAllocation
{
    public const int Attempts = 3;

    /// <summary>Runs <paramref name="calls"/> until a run allocates 0 B on this thread, at most <see cref="Attempts"/> times.</summary>
    /// <returns>The bytes each run allocated, in order; the last is 0 when the code allocates nothing.</returns>
    public static IReadOnlyList<long> Measure(Action calls)
    {
        var readings = new List<long>(Attempts);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            calls();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - start;
            readings.Add(bytes);
            if (bytes == 0)
            {
                break;
            }
        }

        return readings;
    }

    /// <summary>Fails, naming every reading, unless a run of <paramref name="calls"/> allocated exactly 0 B.</summary>
    /// <param name="what">Names the calls in the failure message and the test output.</param>
    /// <param name="calls">The warm calls to measure.</param>
    /// <param name="output">Receives every reading, so that a run shows when a retry was needed.</param>
    public static void AssertNone(string what, Action calls, ITestOutputHelper? output = null)
    {
        var readings = Measure(calls);
        output?.WriteLine($"{what}: {string.Join(" B, then ", readings)} B");
        Assert.True(readings[^1] == 0, $"{what} allocated {string.Join(" B, then ", readings)} B in {readings.Count} runs");
    }
}

/// <summary>Tests that measure allocation run alone, after the parallel tests, so that other tests' work stays out of their counts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation measurements";
}

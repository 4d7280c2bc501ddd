using System;
using Xunit;
using Xunit.Abstractions;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>The generated API allocates nothing once each thread has made its first call.</summary>
[Collection(AllocationCollection.Name)]
public class AllocationTests(ITestOutputHelper output)
{
    [Fact]
    public void Predict_and_Train_allocate_nothing_after_warm_up()
    {
        var network = new LeNet5(1);
        var inputs = RandomInputs(8, LeNet5.InputLength, seed: 3);
        var labels = RandomLabels(8, 10, seed: 4);
        var probabilities = new float[10];
        var momentum = new MomentumSgd(0.01f);
        var batch16 = RandomInputs(16, LeNet5.InputLength, seed: 5);
        var labels16 = RandomLabels(16, 10, seed: 6);
        network.Predict(inputs.AsSpan(0, 1024));
        network.Predict(inputs.AsSpan(0, 1024), probabilities);
        network.Train(inputs.AsSpan(0, 1024), labels[0], 0.001f);
        network.Train(inputs, labels, 0.01f);
        network.Train(inputs, labels, momentum);
        int sink = 0;

        // Each kind of call is measured on its own, so that a failure says which one allocated.
        SteadyStateAllocation.AssertNone("2,000 Predict", () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                sink += network.Predict(inputs.AsSpan((i % 8) * 1024, 1024));
                network.Predict(inputs.AsSpan((i % 8) * 1024, 1024), probabilities);
            }
        }, output);

        // Batched Predict on 1 and 2 threads, warmed up first (the second thread's buffers are made on its first batch).
        // This counts the calling thread; the pool's workers reuse their own buffers in the same way.
        var batch = RandomInputs(64, LeNet5.InputLength, seed: 7);
        var classes = new int[64];
        var outputs = new float[640];
        foreach (int threads in new[] { 1, 2 })
        {
            network.InferenceThreads = threads;
            network.Predict(batch, classes);
            network.Predict(batch, outputs);
            SteadyStateAllocation.AssertNone($"100 batched Predict of 64 inputs on {threads} thread(s)", () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    network.Predict(batch, classes);
                    network.Predict(batch, outputs);
                }
            }, output);
        }

        SteadyStateAllocation.AssertNone("1,000 Train on one example", () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                network.Train(inputs.AsSpan((i % 8) * 1024, 1024), labels[i % 8], 0.001f);
            }
        }, output);
        SteadyStateAllocation.AssertNone("100 Train on a batch of 8", () =>
        {
            for (int i = 0; i < 100; i++)
            {
                network.Train(inputs, labels, momentum);
            }
        }, output);

        // Two threads: the batch of 16 makes two chunks (warmed up here, outside the measurement).
        network.TrainingThreads = 2;
        network.Train(batch16, labels16, momentum);
        SteadyStateAllocation.AssertNone("100 two-thread Train on a batch of 16", () =>
        {
            for (int i = 0; i < 100; i++)
            {
                network.Train(batch16, labels16, momentum);
            }
        }, output);
        Assert.InRange(sink, 0, 9 * 1000 * SteadyStateAllocation.Attempts);
    }

    private static object? s_escaped;

    [Fact]
    public void A_per_call_allocation_is_caught()
    {
        // The control for the retrying measurement: 24 bytes per call is seen in every run, so it fails.
        var readings = SteadyStateAllocation.Measure(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                s_escaped = new object();
            }
        });

        Assert.Equal(SteadyStateAllocation.Attempts, readings.Count);
        Assert.All(readings, bytes => Assert.InRange(bytes, 24_000, 64_000));
    }
}

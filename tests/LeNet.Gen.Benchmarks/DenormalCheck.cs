using System;
using System.Diagnostics;
using LeNet.Gen.Benchmarks.Baseline;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The <c>--denormals</c> mode: trains with online SGD (batch 1) on the bundled digits for 10,000 steps and compares the
/// speed of the first and the last 2,000 steps. In PyTorch on the CPU, training LeNet-style networks can slow down as
/// small weights and gradients become denormal (subnormal) floats, which many CPUs process far more slowly; .NET has no
/// flush-to-zero switch, so this shows whether it happens here. Both networks run, from the same weights.
/// </summary>
public static class DenormalCheck
{
    public const int DefaultSteps = 10_000;
    private const int Block = 2_000;
    private const float LearningRate = 0.01f;
    private const int Seed = 1;

    public static int Run(int steps = DefaultSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2 * Block);
        Digits digits = Digits.Instance;
        int[] order = TrainingOrder(digits, steps);
        var generated = new LeNet5(Seed);
        float[] start = generated.Parameters.ToArray();
        var baseline = new StraightforwardLeNet5(Seed);
        baseline.CopyParametersFrom(start);

        Console.WriteLine($"Online SGD (batch 1), learning rate {LearningRate}, {steps:N0} steps over the {digits.TrainCount:N0} bundled training digits (reshuffled each epoch).");
        Console.WriteLine($"Parameters that are subnormal at the start: {CountSubnormal(start)} of {start.Length}.");
        Console.WriteLine("Each step is timed on its own: 'median' img/s comes from the median step time of the block and resists other");
        Console.WriteLine("processes' interference; 'wall' img/s is the block's steps divided by its elapsed time.");
        Console.WriteLine();

        // Each network is warmed up on a throw-away copy just before it is measured, so that the first block does not
        // pay for JIT compilation (tiered compilation needs a second or so of steady calls).
        WarmUp(new LeNet5(Seed), digits, order);
        bool ok = Measure("generated", digits, order, (image, label) => generated.Train(image, label, LearningRate), () => generated.Parameters.ToArray());

        var warmBaseline = new StraightforwardLeNet5(Seed);
        warmBaseline.CopyParametersFrom(start);
        WarmUp(warmBaseline, digits, order);
        ok &= Measure("straightforward", digits, order, (image, label) => baseline.Train(image, label, LearningRate), () =>
        {
            float[] parameters = new float[StraightforwardLeNet5.ParameterCount];
            baseline.CopyParametersTo(parameters);
            return parameters;
        });
        return ok ? 0 : 1;
    }

    private delegate float TrainStep(ReadOnlySpan<float> image, int label);

    private static bool Measure(string name, Digits digits, int[] order, TrainStep train, Func<float[]> parameters)
    {
        int blocks = order.Length / Block;
        double[] medianRates = new double[blocks];
        double[] wallRates = new double[blocks];
        long[] ticks = new long[Block];
        Console.WriteLine($"{name}:");
        Console.WriteLine("  steps          img/s (median)  img/s (wall)  mean loss");
        for (int b = 0; b < blocks; b++)
        {
            double loss = 0;
            long blockStart = Stopwatch.GetTimestamp();
            for (int s = 0; s < Block; s++)
            {
                int index = order[(b * Block) + s];
                long before = Stopwatch.GetTimestamp();
                loss += train(digits.TrainImage(index), digits.TrainLabels[index]);
                ticks[s] = Stopwatch.GetTimestamp() - before;
            }

            double elapsed = Stopwatch.GetElapsedTime(blockStart).TotalSeconds;
            Array.Sort(ticks);
            double medianSeconds = (ticks[(Block / 2) - 1] + ticks[Block / 2]) / 2.0 / Stopwatch.Frequency;
            medianRates[b] = 1 / medianSeconds;
            wallRates[b] = Block / elapsed;
            Console.WriteLine($"  {(b * Block) + 1,5}–{(b + 1) * Block,-6}  {medianRates[b],14:N0}  {wallRates[b],12:N0}  {loss / Block,9:0.0000}");
            if (!double.IsFinite(loss))
            {
                Console.WriteLine("  training diverged");
                return false;
            }
        }

        float[] final = parameters();
        Console.WriteLine(
            $"  first {Block:N0}: {medianRates[0]:N0} img/s, last {Block:N0}: {medianRates[^1]:N0} img/s (median), last/first = {medianRates[^1] / medianRates[0]:0.00}"
            + $" (wall: {wallRates[0]:N0} → {wallRates[^1]:N0}, {wallRates[^1] / wallRates[0]:0.00})");
        Console.WriteLine($"  subnormal parameters at the end: {CountSubnormal(final)} of {final.Length}; smallest non-zero |parameter| {SmallestNonZero(final):0.000e0}");
        Console.WriteLine();
        return true;
    }

    private static void WarmUp(LeNet5 network, Digits digits, int[] order) =>
        WarmUp((image, label) => network.Train(image, label, LearningRate), digits, order);

    private static void WarmUp(StraightforwardLeNet5 network, Digits digits, int[] order) =>
        WarmUp((image, label) => network.Train(image, label, LearningRate), digits, order);

    // At least 2,000 steps and two seconds, long enough for tiered compilation to settle.
    private static void WarmUp(TrainStep train, Digits digits, int[] order)
    {
        var clock = Stopwatch.StartNew();
        for (int n = 0; n < 2000 || clock.ElapsedMilliseconds < 2000; n++)
        {
            int index = order[n % order.Length];
            train(digits.TrainImage(index), digits.TrainLabels[index]);
        }
    }

    // Epoch after epoch, each in its own reproducible random order.
    private static int[] TrainingOrder(Digits digits, int steps)
    {
        int[] order = new int[steps];
        for (int epoch = 0, filled = 0; filled < steps; epoch++)
        {
            var random = new NetworkRandom(epoch + 1000);
            int[] permutation = new int[digits.TrainCount];
            for (int i = 0; i < permutation.Length; i++)
            {
                permutation[i] = i;
            }

            random.Shuffle(permutation);
            int take = Math.Min(permutation.Length, steps - filled);
            Array.Copy(permutation, 0, order, filled, take);
            filled += take;
        }

        return order;
    }

    private static int CountSubnormal(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (float value in values)
        {
            count += float.IsSubnormal(value) ? 1 : 0;
        }

        return count;
    }

    private static float SmallestNonZero(ReadOnlySpan<float> values)
    {
        float smallest = float.PositiveInfinity;
        foreach (float value in values)
        {
            float magnitude = MathF.Abs(value);
            if (magnitude > 0f && magnitude < smallest)
            {
                smallest = magnitude;
            }
        }

        return smallest;
    }
}

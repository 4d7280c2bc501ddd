using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// The batched inference API: <c>Predict(inputs, classes)</c>, <c>Predict(input, output)</c> over N inputs and
/// <c>InferenceThreads</c>. The documented contract: each input's result is bit-identical for any thread count; a call of
/// fewer than 16 inputs (NetworkInference.BatchKernelMinimum) is bit-identical to <c>Predict</c> on each input alone; a
/// larger call may run batch kernels (Winograd convolutions) and is within 10⁻⁵ relative of it. Both kinds of call are
/// also checked against the double-precision reference.
/// </summary>
public class BatchedPredictTests
{
    public static IEnumerable<object[]> Cases => NetworkCase.All.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Small_batches_are_bit_identical_to_single_input_Predict_on_1_2_and_3_threads(NetworkCase @case)
    {
        const int Count = 15; // one below NetworkInference.BatchKernelMinimum
        Assert.Equal(Count + 1, (int)typeof(LeNet.Gen.Runtime.NetworkInference<,>).GetField("BatchKernelMinimum")!.GetRawConstantValue()!);
        var network = @case.Create(17);
        var (inputs, expected, expectedClasses) = SingleInputResults(network, Count, seed: 18);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var (outputs, predicted) = Batched(network, inputs, threads);
            AssertBitIdentical(expected, outputs, $"{@case.Name}, {threads} thread(s)");
            Assert.Equal(expectedClasses, predicted);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Large_batches_are_bit_identical_across_thread_counts_and_within_1e_5_of_single_input_Predict(NetworkCase @case)
    {
        const int Count = 37; // more inputs than chunks on 3 threads, and not a multiple of any chunk count
        var network = @case.Create(17);
        var (inputs, expected, _) = SingleInputResults(network, Count, seed: 18);
        var (first, firstClasses) = Batched(network, inputs, 1);
        double error = MaxRelativeError(first, expected.Select(v => (double)v).ToArray());
        Assert.True(error < 1e-5, $"{@case.Name}: batched outputs differ from single-input ones by {error:E2} relative");
        foreach (int threads in new[] { 2, 3 })
        {
            var (outputs, predicted) = Batched(network, inputs, threads);
            AssertBitIdentical(first, outputs, $"{@case.Name}, {threads} threads against 1");
            Assert.Equal(firstClasses, predicted);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_small_batch_agrees_with_the_reference_to_1e_5(NetworkCase @case) => AgreesWithReference(@case, count: 9);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_large_batch_agrees_with_the_reference_to_1e_5(NetworkCase @case) => AgreesWithReference(@case, count: 20);

    private static void AgreesWithReference(NetworkCase @case, int count)
    {
        var network = @case.Create(19);
        network.InferenceThreads = 2;
        int length = network.InputLength, classes = network.OutputLength;
        var inputs = RandomInputs(count, length, seed: 20);
        var outputs = new float[count * classes];
        var predicted = new int[count];

        network.Predict(inputs, outputs);
        network.Predict(inputs, predicted);

        for (int n = 0; n < count; n++)
        {
            var expected = ReferenceForward(@case.Reference, network, inputs.AsSpan(n * length, length));
            double error = MaxRelativeError(outputs.AsSpan(n * classes, classes), expected);
            Assert.True(error < 1e-5, $"input {n}: relative error {error:E2}");
            Assert.Equal(Array.IndexOf(expected, expected.Max()), predicted[n]);
        }
    }

    private static (float[] Inputs, float[] Outputs, int[] Classes) SingleInputResults(ITrainableNetwork network, int count, int seed)
    {
        int length = network.InputLength, classes = network.OutputLength;
        var inputs = RandomInputs(count, length, seed);
        var outputs = new float[count * classes];
        var predicted = new int[count];
        for (int n = 0; n < count; n++)
        {
            network.Predict(inputs.AsSpan(n * length, length), outputs.AsSpan(n * classes, classes));
            predicted[n] = network.Predict(inputs.AsSpan(n * length, length));
        }

        return (inputs, outputs, predicted);
    }

    private static (float[] Outputs, int[] Classes) Batched(ITrainableNetwork network, float[] inputs, int threads)
    {
        network.InferenceThreads = threads;
        var outputs = new float[inputs.Length / network.InputLength * network.OutputLength];
        var predicted = new int[inputs.Length / network.InputLength];
        network.Predict(inputs, outputs);
        network.Predict(inputs, predicted);
        return (outputs, predicted);
    }

    [Theory]
    [InlineData(1, 3)] // fewer inputs than threads
    [InlineData(2, 3)]
    [InlineData(5, 2)]
    [InlineData(256, 2)]
    [InlineData(256, 3)]
    public void Any_batch_size_on_any_thread_count_matches_one_thread(int count, int threads)
    {
        var network = new LeNet5(23);
        var inputs = RandomInputs(count, LeNet5.InputLength, seed: count);
        var one = new float[count * 10];
        var many = new float[count * 10];
        network.Predict(inputs, one);

        network.InferenceThreads = threads;
        network.Predict(inputs, many);

        AssertBitIdentical(one, many, $"{count} inputs on {threads} threads");
    }

    [Fact]
    public void A_network_without_softmax_predicts_batches_too()
    {
        var network = new Regressor(5) { InferenceThreads = 2 };
        var inputs = RandomInputs(11, Regressor.InputLength, seed: 24);
        var outputs = new float[11 * Regressor.OutputLength];
        var predicted = new int[11];

        network.Predict(inputs, outputs);
        network.Predict(inputs, predicted);

        var single = new float[Regressor.OutputLength];
        for (int n = 0; n < 11; n++)
        {
            network.Predict(inputs.AsSpan(n * 16, 16), single);
            AssertBitIdentical(single, outputs.AsSpan(n * 3, 3).ToArray(), $"input {n}");
            Assert.Equal(network.Predict(inputs.AsSpan(n * 16, 16)), predicted[n]);
        }
    }

    [Fact]
    public void A_non_finite_input_gives_minus_one_for_that_input_only()
    {
        var network = new LeNet5(25) { InferenceThreads = 2 };
        var inputs = RandomInputs(6, LeNet5.InputLength, seed: 26);
        var clean = new int[6];
        network.Predict(inputs, clean);
        inputs[(3 * 1024) + 500] = float.NaN;
        inputs[(4 * 1024) + 7] = float.PositiveInfinity;
        var predicted = new int[6];
        var outputs = new float[60];

        network.Predict(inputs, predicted);
        network.Predict(inputs, outputs);

        Assert.Equal(new[] { clean[0], clean[1], clean[2], -1, -1, clean[5] }, predicted);
        Assert.All(outputs.AsSpan(30, 20).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(outputs.AsSpan(0, 30).ToArray(), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void Empty_spans_are_a_batch_of_none()
    {
        var network = new LeNet5(1) { InferenceThreads = 2 };

        network.Predict(ReadOnlySpan<float>.Empty, Span<float>.Empty);
        network.Predict(ReadOnlySpan<float>.Empty, Span<int>.Empty);

        var error = Assert.Throws<ArgumentException>(() => network.Predict(ReadOnlySpan<float>.Empty, new int[1]));
        Assert.Equal("classes", error.ParamName);
        Assert.StartsWith("classes has 1 values, but inputs holds no inputs for LeNet5, so it needs 0", error.Message);
        var outputs = Assert.Throws<ArgumentException>(() => network.Predict(ReadOnlySpan<float>.Empty, new float[10]));
        Assert.Equal("output", outputs.ParamName);
        Assert.StartsWith("output has 10 values, but input holds no inputs, so LeNet5 needs 0 × 10 = 0", outputs.Message);
        var one = Assert.Throws<ArgumentException>(() => network.Predict(new float[1024], new int[2]));
        Assert.StartsWith("classes has 2 values, but inputs holds 1 input for LeNet5, so it needs 1", one.Message);
    }

    [Fact]
    public void InferenceThreads_is_1_unless_set_and_must_be_at_least_1()
    {
        var network = new LeNet5(1);
        Assert.Equal(1, network.InferenceThreads);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.InferenceThreads = 0);
        Assert.Equal("InferenceThreads", error.ParamName);
        Assert.Contains("at least 1, but it is 0", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => network.InferenceThreads = -3);
        Assert.Equal(1, network.InferenceThreads);

        network.InferenceThreads = 3;
        Assert.Equal(3, network.InferenceThreads);
        Assert.Equal(3, ((INetwork)network).InferenceThreads);
    }

    [Fact]
    public void Inputs_that_are_not_a_whole_number_of_images_name_the_lengths()
    {
        var network = new LeNet5(1);

        var classes = Assert.Throws<ArgumentException>(() => network.Predict(new float[(2 * 1024) + 1], new int[2]));
        var outputs = Assert.Throws<ArgumentException>(() => network.Predict(new float[784], new float[10]));

        Assert.Equal("inputs", classes.ParamName);
        Assert.StartsWith("inputs has 2049 values, but LeNet5 needs a whole number of inputs of 1024 values (1×32×32) each: 2049 is not a multiple of 1024.", classes.Message);
        Assert.Equal("input", outputs.ParamName);
        Assert.StartsWith("input has 784 values, but LeNet5 needs a whole number of inputs of 1024 values (1×32×32) each", outputs.Message);
    }

    [Fact]
    public void Outputs_and_classes_that_disagree_with_the_inputs_name_both_counts()
    {
        var network = new LeNet5(1);

        var outputs = Assert.Throws<ArgumentException>(() => network.Predict(new float[3 * 1024], new float[20]));
        var classes = Assert.Throws<ArgumentException>(() => network.Predict(new float[3 * 1024], new int[2]));
        var one = Assert.Throws<ArgumentException>(() => network.Predict(new float[1024], new float[20]));

        Assert.Equal("output", outputs.ParamName);
        Assert.StartsWith("output has 20 values, but input holds 3 inputs, so LeNet5 needs 3 × 10 = 30 (3 outputs of 10).", outputs.Message);
        Assert.Equal("classes", classes.ParamName);
        Assert.StartsWith("classes has 2 values, but inputs holds 3 inputs for LeNet5, so it needs 3 (one class per input).", classes.Message);
        Assert.Equal("output", one.ParamName);
        Assert.StartsWith("output has 20 values, but LeNet5 needs 10 (10).", one.Message); // one input: the single-input message
    }

    [Fact]
    public void Several_threads_may_run_batches_on_one_instance_at_once()
    {
        var network = new LeNet5(27) { InferenceThreads = 2 };
        var inputs = RandomInputs(40, LeNet5.InputLength, seed: 28);
        var expected = new float[400];
        network.Predict(inputs, expected);

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var outputs = new float[400];
            for (int round = 0; round < 10; round++)
            {
                network.Predict(inputs, outputs);
                Assert.True(outputs.AsSpan().SequenceEqual(expected), "a concurrent batch differs");
            }
        });
    }
}

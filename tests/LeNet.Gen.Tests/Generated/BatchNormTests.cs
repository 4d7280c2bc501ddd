using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LeNet.Gen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// [BatchNorm]: batch statistics over the whole batch in training (for any thread count), running statistics updated as
/// PyTorch does and used by Predict, γ = 1 and β = 0 at the start, state that optimizers leave alone, and the errors.
/// The reference agreement (forward, gradients, one SGD step) runs in <see cref="ReferenceAgreementTests"/>.
/// </summary>
public class BatchNormTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases => NetworkCase.WithBatchNorm.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Predict_agrees_with_the_reference_to_1e_5(NetworkCase @case)
    {
        var network = @case.Create(7);
        var inputs = RandomInputs(5, network.InputLength, seed: 11);
        var probabilities = new float[network.OutputLength];
        for (int n = 0; n < 5; n++)
        {
            var input = inputs.AsSpan(n * network.InputLength, network.InputLength);
            network.Predict(input, probabilities);
            double error = MaxRelativeError(probabilities, ReferenceForward(@case.Reference, network, input));
            Assert.True(error < 1e-5, $"relative error {error:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_with_the_batch_statistics_in_the_graph_agree_with_the_reference(NetworkCase @case)
    {
        // The reference's own gradient agrees with its finite differences (below), including γ and β; the generated one
        // must agree with it to a relative 1e-4, with an absolute floor of 1e-5 of the largest gradient for entries whose
        // exact value is 0 (the bias of a layer before a batch norm: float noise of ~1e-7) or that are a small difference
        // of large float terms (a dense batch norm over 3 examples: its input gradients sum to 0 over the batch, and
        // BatchNormNet's fc1 weights then came out 2e-6 of the scale off at batch 3; an error in a formula is O(1)).
        foreach (int batch in new[] { 13, 8, 3 })
        {
            var network = @case.Create(21 + batch);
            var inputs = RandomInputs(batch, network.InputLength, seed: 31);
            var labels = RandomLabels(batch, network.OutputLength, seed: 41);
            var gradients = new float[network.ParameterCount];

            float loss = network.ComputeGradients(inputs, labels, gradients);

            var expected = Fresh(@case).Gradient(Parameters(network), ToDouble(inputs), labels);
            Assert.Equal(Fresh(@case).MeanLoss(Parameters(network), ToDouble(inputs), labels), loss, 1e-5);
            double scale = expected.Max(Math.Abs);
            int worst = Enumerable.Range(0, expected.Length).MaxBy(k => Math.Abs(gradients[k] - expected[k]) / ((1e-4 * Math.Abs(expected[k])) + (1e-5 * scale)));
            output.WriteLine($"{@case.Name}, batch {batch}: worst {Name(network, worst)} {gradients[worst]} vs {expected[worst]}, scale {scale:E2}");
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-4 * Math.Abs(expected[k])) + (1e-5 * scale), $"batch {batch}, {Name(network, k)}: {gradients[k]} vs {expected[k]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_Train_step_equals_the_reference_SGD_step(NetworkCase @case)
    {
        var network = @case.Create(5);
        const int batch = 4;
        const float learningRate = 0.1f;
        var inputs = RandomInputs(batch, network.InputLength, seed: 6);
        var labels = RandomLabels(batch, network.OutputLength, seed: 8);
        var before = Parameters(network);
        var gradient = Fresh(@case).Gradient(before, ToDouble(inputs), labels);
        double scale = gradient.Max(Math.Abs);

        float loss = network.Train(inputs, labels, learningRate);

        Assert.Equal(Fresh(@case).MeanLoss(before, ToDouble(inputs), labels), loss, 1e-5);
        var after = network.Parameters;
        for (int k = 0; k < after.Length; k++)
        {
            double expected = before[k] - (learningRate * gradient[k]);
            double tolerance = (2e-7 * Math.Abs(before[k])) + (1e-4 * Math.Abs(learningRate * gradient[k])) + (1e-6 * learningRate * scale);
            Assert.True(Math.Abs(after[k] - expected) <= tolerance, $"{Name(network, k)}: {after[k]} vs {expected}");
        }
    }

    private static string Name(INetwork network, int index)
    {
        var tensor = network.Tensors.Last(t => t.Offset <= index);
        return $"{tensor.Name}[{index - tensor.Offset}]";
    }

    private static ReferenceNetwork Fresh(NetworkCase @case) =>
        new(@case.Reference.InputShape.C, @case.Reference.InputShape.H, @case.Reference.InputShape.W, @case.Reference.Layers.ToArray());

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_reference_batch_gradient_agrees_with_its_own_finite_differences(NetworkCase @case)
    {
        var reference = Fresh(@case);
        var network = @case.Create(13);
        var inputs = ToDouble(RandomInputs(5, network.InputLength, seed: 1));
        var labels = RandomLabels(5, network.OutputLength, seed: 2);
        var parameters = Parameters(network);

        var analytic = reference.Gradient(parameters, inputs, labels);
        var numeric = reference.FiniteDifferenceGradient(parameters, inputs, labels);

        double scale = numeric.Max(Math.Abs);
        int worst = Enumerable.Range(0, analytic.Length).MaxBy(k => Math.Abs(analytic[k] - numeric[k]));
        output.WriteLine($"{@case.Name}: worst {Math.Abs(analytic[worst] - numeric[worst]):E2} at {worst} of {analytic.Length}, scale {scale:E2}");
        for (int k = 0; k < analytic.Length; k++)
        {
            Assert.True(Math.Abs(analytic[k] - numeric[k]) <= (1e-6 * scale) + (1e-5 * Math.Abs(numeric[k])), $"parameter {k}: {analytic[k]} vs {numeric[k]}");
        }

        // γ and β are in the graph: their gradients are not all zero.
        foreach (var tensor in network.Tensors.Where(t => t.Name.StartsWith("bn", StringComparison.Ordinal) && t.Offset < network.ParameterCount))
        {
            Assert.Contains(Enumerable.Range(tensor.Offset, tensor.Length), k => Math.Abs(analytic[k]) > 1e-4 * scale);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_is_bit_identical_for_1_2_and_3_threads(NetworkCase @case)
    {
        var inputs = RandomInputs(37, @case.Reference.InputLength, seed: 4);
        var labels = RandomLabels(37, @case.Reference.OutputLength, seed: 5);
        float[] Run(int threads)
        {
            var network = @case.Create(6);
            network.TrainingThreads = threads;
            var optimizer = new MomentumSgd(0.05f, 0.9f);
            for (int step = 0; step < 3; step++)
            {
                network.Train(inputs, labels, optimizer);
            }

            return network.Parameters.ToArray().Concat(State(network).ToArray()).ToArray();
        }

        var one = Run(1);
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(3));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Train_updates_the_running_statistics_as_PyTorch_does_and_Predict_uses_them(NetworkCase @case)
    {
        var reference = Fresh(@case);
        var network = @case.Create(8);
        var inputs = RandomInputs(12, network.InputLength, seed: 9);
        var labels = RandomLabels(12, network.OutputLength, seed: 10);
        var expectedState = reference.State.ToArray();
        Assert.Equal(expectedState.Select(v => (float)v), State(network).ToArray()); // mean 0, variance 1, count 0

        for (int step = 0; step < 3; step++)
        {
            reference.UpdateRunningStatistics(Parameters(network), ToDouble(inputs), 12);
            network.Train(inputs, labels, 0.1f);
        }

        var state = State(network).ToArray();
        for (int k = 0; k < state.Length; k++)
        {
            Assert.True(Math.Abs(state[k] - reference.State[k]) <= 1e-5 * (1 + Math.Abs(reference.State[k])), $"state {k}: {state[k]} vs {reference.State[k]}");
        }

        Assert.All(network.Tensors.Where(t => t.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)), t => Assert.Equal(3f, state[t.Offset - network.ParameterCount]));

        // Predict normalises with the running statistics, not with anything of the batch.
        var probabilities = new float[network.OutputLength];
        var input = inputs.AsSpan(0, network.InputLength);
        network.Predict(input, probabilities);
        double error = MaxRelativeError(probabilities, reference.Forward(Parameters(network), ToDouble(input)));
        Assert.True(error < 1e-4, $"relative error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_batch_Predict_after_training_agrees_with_each_input_alone_and_is_bit_identical_across_threads(NetworkCase @case)
    {
        // Three steps move the running statistics away from 0 and 1; then 37 inputs, more than a batch call's minimum and
        // not a whole number of lane groups, go through the batch kernels (the image-lanes pass where chosen).
        var network = @case.Create(12);
        var inputs = RandomInputs(12, network.InputLength, seed: 13);
        var labels = RandomLabels(12, network.OutputLength, seed: 14);
        for (int step = 0; step < 3; step++)
        {
            network.Train(inputs, labels, 0.1f);
        }

        const int Count = 37;
        var batch = RandomInputs(Count, network.InputLength, seed: 15);
        int classes = network.OutputLength;
        var single = new float[Count * classes];
        for (int n = 0; n < Count; n++)
        {
            network.Predict(batch.AsSpan(n * network.InputLength, network.InputLength), single.AsSpan(n * classes, classes));
        }

        var one = new float[Count * classes];
        network.Predict(batch, one);
        double error = MaxRelativeError(one, single.Select(v => (double)v).ToArray());
        Assert.True(error < 1e-5, $"batched outputs differ from single-input ones by {error:E2} relative");
        foreach (int threads in new[] { 2, 3 })
        {
            network.InferenceThreads = threads;
            var outputs = new float[Count * classes];
            network.Predict(batch, outputs);
            AssertBitIdentical(one, outputs, $"{threads} threads against 1");
        }
    }

    [Fact]
    public void Weight_is_1_bias_0_running_mean_0_running_variance_1_at_the_start()
    {
        var network = new BatchNormNet(3);
        var tensors = BatchNormNet.Tensors.ToDictionary(t => t.Name);
        float[] storage = network.Parameters.ToArray().Concat(network.State.ToArray()).ToArray();
        foreach (int k in new[] { 1, 2, 3 })
        {
            Assert.All(storage.AsSpan(tensors[$"bn{k}.weight"].Offset, tensors[$"bn{k}.weight"].Length).ToArray(), v => Assert.Equal(1f, v));
            Assert.All(storage.AsSpan(tensors[$"bn{k}.bias"].Offset, tensors[$"bn{k}.bias"].Length).ToArray(), v => Assert.Equal(0f, v));
            Assert.All(storage.AsSpan(tensors[$"bn{k}.running_mean"].Offset, tensors[$"bn{k}.running_mean"].Length).ToArray(), v => Assert.Equal(0f, v));
            Assert.All(storage.AsSpan(tensors[$"bn{k}.running_var"].Offset, tensors[$"bn{k}.running_var"].Length).ToArray(), v => Assert.Equal(1f, v));
            Assert.Equal(TensorElementType.Int64, tensors[$"bn{k}.num_batches_tracked"].ElementType);
            Assert.Empty(tensors[$"bn{k}.num_batches_tracked"].Shape);
        }

        Assert.Equal(new[] { 4, 4, 6, 6, 12, 12 }, BatchNormNet.Tensors.Where(t => t.Name.StartsWith("bn", StringComparison.Ordinal) && t.Name.EndsWith("weight", StringComparison.Ordinal) || t.Name.EndsWith("bias", StringComparison.Ordinal) && t.Name.StartsWith("bn", StringComparison.Ordinal)).Select(t => t.Length));
        Assert.Equal(BatchNormNet.ParameterCount, network.Parameters.Length);
        Assert.Equal(2 * (4 + 6 + 12) + 3, BatchNormNet.StateLength);
    }

    [Fact]
    public void Optimizers_with_weight_decay_do_not_move_the_running_statistics()
    {
        var network = new BatchNormDense(2);
        var inputs = RandomInputs(6, BatchNormDense.InputLength, seed: 1);
        var labels = RandomLabels(6, BatchNormDense.OutputLength, seed: 2);
        var reference = Fresh(NetworkCase.WithBatchNorm.Single(c => c.Name == nameof(BatchNormDense)));
        reference.UpdateRunningStatistics(Parameters(network), ToDouble(inputs), 6);

        network.Train(inputs, labels, new Adam(0.01f, weightDecay: 0.5f));

        // The running statistics are exactly what the batch gives (momentum 0.1 from mean 0 and variance 1), untouched by the decay.
        var state = network.State.ToArray();
        for (int k = 0; k < state.Length; k++)
        {
            Assert.True(Math.Abs(state[k] - reference.State[k]) <= 1e-5 * (1 + Math.Abs(reference.State[k])), $"state {k}: {state[k]} vs {reference.State[k]}");
        }
    }

    [Fact]
    public void A_batch_with_one_value_per_channel_is_an_ArgumentException_naming_the_layer()
    {
        var network = new BatchNormDense(1);
        var before = network.Parameters.ToArray().Concat(network.State.ToArray()).ToArray();
        var input = RandomInputs(1, BatchNormDense.InputLength, seed: 3);

        var error = Assert.Throws<ArgumentException>(() => network.Train(input, new[] { 1 }, 0.1f));

        Assert.Contains("bn1", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than one value per channel", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, network.Parameters.ToArray().Concat(network.State.ToArray()).ToArray());

        // A convolution's channel has H × W values per example, so one example is enough there.
        var conv = new BatchNormPadded(1);
        conv.Train(RandomInputs(1, BatchNormPadded.InputLength, seed: 4), new[] { 2 }, 0.1f);
    }

    private static Span<float> State(INetwork network) => network switch
    {
        BatchNormNet n => n.State,
        BatchNormDense n => n.State,
        BatchNormPadded n => n.State,
        _ => throw new ArgumentException(network.GetType().Name),
    };
}

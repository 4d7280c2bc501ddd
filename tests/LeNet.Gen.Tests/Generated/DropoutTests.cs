using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Runtime;
using LeNet.Gen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// [Dropout(p)]: the identity in Predict, inverted dropout in training with masks from (seed, step, example), checked
/// against the double-precision reference given the same masks, against finite differences, and across thread counts.
/// </summary>
public class DropoutTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases => NetworkCase.WithDropout.Select(c => new object[] { c });

    // The reference's masks for a network created with seed, in training step step: the runtime's mask function, keyed
    // the way the runtime keys each example; the p of each dropout layer comes from the reference's own description.
    private static Func<int, int, int, bool> Masks(ReferenceNetwork reference, long seed, long step) =>
        (example, layer, index) => DropoutMask.Keeps(DropoutMask.ExampleKey(seed, step, example), layer, index, ((RefDropout)reference.Layers[layer]).P);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Predict_is_the_reference_with_dropout_as_the_identity(NetworkCase @case)
    {
        var network = @case.Create(7);
        var inputs = RandomInputs(4, network.InputLength, seed: 11);
        var probabilities = new float[network.OutputLength];
        for (int n = 0; n < 4; n++)
        {
            var input = inputs.AsSpan(n * network.InputLength, network.InputLength);
            network.Predict(input, probabilities);
            double error = MaxRelativeError(probabilities, ReferenceForward(@case.Reference, network, input));
            Assert.True(error < 1e-5, $"relative error {error:E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_gradients_are_the_reference_gradients_with_the_same_masks(NetworkCase @case)
    {
        const int seed = 21, batch = 11; // two chunks of 8 and 3
        var network = @case.Create(seed);
        var inputs = RandomInputs(batch, network.InputLength, seed: 31);
        var labels = RandomLabels(batch, network.OutputLength, seed: 41);
        var parameters = Parameters(network);
        var reference = @case.Reference;
        var gradients = new float[network.ParameterCount];

        for (int step = 0; step < 2; step++)
        {
            float loss = network.ComputeGradients(inputs, labels, gradients);

            reference.DropoutKeeps = Masks(reference, seed, step);
            double expectedLoss = reference.MeanLoss(parameters, ToDouble(inputs), labels);
            var expected = reference.Gradient(parameters, ToDouble(inputs), labels);
            reference.DropoutKeeps = null;

            Assert.Equal(expectedLoss, loss, 1e-5);
            double scale = expected.Max(Math.Abs);
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-4 * Math.Abs(expected[k])) + (1e-6 * scale), $"step {step}, parameter {k}: {gradients[k]} vs {expected[k]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_reference_with_masks_agrees_with_its_own_finite_differences(NetworkCase @case)
    {
        var network = @case.Create(3);
        var inputs = ToDouble(RandomInputs(3, network.InputLength, seed: 5));
        var labels = RandomLabels(3, network.OutputLength, seed: 6);
        var parameters = Parameters(network);
        var reference = @case.Reference;
        reference.DropoutKeeps = Masks(reference, 3, 0);
        try
        {
            var analytic = reference.Gradient(parameters, inputs, labels);
            var numeric = reference.FiniteDifferenceGradient(parameters, inputs, labels);
            double scale = numeric.Max(Math.Abs);
            for (int k = 0; k < analytic.Length; k++)
            {
                Assert.True(Math.Abs(analytic[k] - numeric[k]) <= 1e-6 * scale, $"parameter {k}: {analytic[k]} vs {numeric[k]}");
            }

            // Some values were dropped: a mask that keeps everything would make this test the one without dropout.
            int first = reference.Layers.ToList().FindIndex(l => l is RefDropout);
            Assert.Contains(Enumerable.Range(0, 3 * 16), i => !reference.DropoutKeeps(i / 16, first, i % 16));
        }

        finally
        {
            reference.DropoutKeeps = null;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_is_bit_identical_for_1_2_and_3_threads_and_for_the_same_seed(NetworkCase @case)
    {
        var inputs = RandomInputs(29, @case.Create(1).InputLength, seed: 2);
        var labels = RandomLabels(29, @case.Create(1).OutputLength, seed: 3);
        float[] Run(int threads)
        {
            var network = (ITrainableNetwork)@case.Create(9);
            network.TrainingThreads = threads;
            for (int step = 0; step < 3; step++)
            {
                network.Train(inputs, labels, 0.05f);
            }

            return network.Parameters.ToArray();
        }

        var one = Run(1);
        Assert.Equal(one, Run(1));
        Assert.Equal(one, Run(2));
        Assert.Equal(one, Run(3));
    }

    [Fact]
    public void Each_step_draws_new_masks_and_Predict_draws_none()
    {
        var network = new DropoutNet(4);
        var inputs = RandomInputs(8, DropoutNet.InputLength, seed: 1);
        var labels = RandomLabels(8, DropoutNet.OutputLength, seed: 2);
        var first = new float[DropoutNet.ParameterCount];
        var second = new float[DropoutNet.ParameterCount];

        network.ComputeGradients(inputs, labels, first);
        network.ComputeGradients(inputs, labels, second);

        Assert.NotEqual(first, second); // same parameters and batch, another step: other masks
        var a = new float[DropoutNet.OutputLength];
        var b = new float[DropoutNet.OutputLength];
        network.Predict(inputs.AsSpan(0, DropoutNet.InputLength), a);
        network.Predict(inputs.AsSpan(0, DropoutNet.InputLength), b);
        Assert.Equal(a, b);
        Assert.Equal(network.Loss(inputs.AsSpan(0, DropoutNet.InputLength), labels[0]), network.Loss(inputs.AsSpan(0, DropoutNet.InputLength), labels[0]));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Masks_drop_a_fraction_p_and_scale_the_rest_by_1_over_1_minus_p(double p)
    {
        const int count = 200_000;
        var input = new float[count];
        Array.Fill(input, 2f);
        var result = new float[count];
        DropoutMask.Forward(input, result, count, DropoutMask.ExampleKey(1, 2, 3), 4, p);

        int dropped = result.Count(v => v == 0f);
        float kept = (float)(2.0 / (1 - p));
        Assert.All(result, v => Assert.True(v == 0f || v == kept, $"{v}"));
        double fraction = (double)dropped / count;
        double sigma = Math.Sqrt(p * (1 - p) / count);
        output.WriteLine($"p = {p}: dropped {fraction:F5} (σ {sigma:E2})");
        Assert.True(Math.Abs(fraction - p) < 5 * sigma, $"dropped {fraction}, expected {p} ± {5 * sigma}");
    }
}

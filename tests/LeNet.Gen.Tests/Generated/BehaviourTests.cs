using System;
using System.Linq;
using System.Threading.Tasks;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>The generated API's contract: determinism, argument checks, thread safety of Predict.</summary>
public class BehaviourTests
{
    [Fact]
    public void Constants_match_the_LeNet5_shape_table()
    {
        Assert.Equal(1024, LeNet5.InputLength);
        Assert.Equal(10, LeNet5.OutputLength);
        Assert.Equal(61706, LeNet5.ParameterCount);
        Assert.Contains("conv2 5×5×16 s1 p0 ReLU  16×10×10       2,416", LeNet5.Summary);
    }

    [Fact]
    public void Same_seed_gives_the_same_parameters_and_different_seeds_differ()
    {
        Assert.True(new LeNet5(42).Parameters.SequenceEqual(new LeNet5(42).Parameters));
        Assert.False(new LeNet5(42).Parameters.SequenceEqual(new LeNet5(43).Parameters));
    }

    [Fact]
    public void Initial_weights_are_uniform_within_one_over_root_fan_in()
    {
        var network = new LeNet5(3);
        foreach (var tensor in LeNet5.Tensors)
        {
            int fanIn = tensor.Name.EndsWith(".bias", StringComparison.Ordinal)
                ? LeNet5.Tensors.First(t => t.Name == tensor.Name.Replace(".bias", ".weight", StringComparison.Ordinal)).Shape.Skip(1).Aggregate(1, (a, b) => a * b)
                : tensor.Shape.Skip(1).Aggregate(1, (a, b) => a * b);
            float bound = 1f / MathF.Sqrt(fanIn);
            var values = network.Parameters.Slice(tensor.Offset, tensor.Length).ToArray();
            Assert.All(values, v => Assert.InRange(v, -bound, bound));
            if (values.Length >= 50)
            {
                Assert.True(values.Max() - values.Min() > bound, $"{tensor.Name} does not spread over its range");
            }
        }
    }

    [Fact]
    public void Same_seed_and_data_order_give_bit_identical_parameters_after_training()
    {
        var inputs = RandomInputs(64, LeNet5.InputLength, seed: 1);
        var labels = RandomLabels(64, 10, seed: 2);
        float[] Run()
        {
            var network = new LeNet5(9);
            var adam = new Adam(0.001f);
            for (int step = 0; step < 4; step++)
            {
                network.Train(inputs.AsSpan(step * 16 * 1024, 16 * 1024), labels.AsSpan(step * 16, 16), step % 2 == 0 ? 0.05f : 0.02f);
                network.Train(inputs.AsSpan(step * 16 * 1024, 16 * 1024), labels.AsSpan(step * 16, 16), adam);
            }

            return network.Parameters.ToArray();
        }

        var first = Run();
        var second = Run();
        Assert.True(first.AsSpan().SequenceEqual(second), "training is not deterministic");
    }

    [Theory]
    [InlineData(32, false)]
    [InlineData(27, false)] // a last chunk shorter than the others
    [InlineData(5, false)] // a single chunk
    [InlineData(32, true)] // Adam: its step, like momentum's, runs over ranges of the parameters on the training threads
    public void Training_gives_bit_identical_parameters_on_1_2_and_3_threads(int batch, bool adam)
    {
        var inputs = RandomInputs(batch * 3, LeNet5.InputLength, seed: 21);
        var labels = RandomLabels(batch * 3, 10, seed: 22);
        float[] Run(int threads)
        {
            var network = new LeNet5(4) { TrainingThreads = threads };
            Optimizer momentum = adam ? new Adam(0.002f, weightDecay: 0.01f) : new MomentumSgd(0.02f, nesterov: true);
            for (int step = 0; step < 3; step++)
            {
                network.Train(inputs.AsSpan(step * batch * 1024, batch * 1024), labels.AsSpan(step * batch, batch), momentum);
            }

            return network.Parameters.ToArray();
        }

        var one = Run(1);
        Assert.True(one.AsSpan().SequenceEqual(Run(2)), "2 threads differ from 1");
        Assert.True(one.AsSpan().SequenceEqual(Run(3)), "3 threads differ from 1");
    }

    [Fact]
    public void Gradients_stay_bit_identical_across_thread_counts_when_the_batch_grows_and_shrinks()
    {
        // The multi-thread buffers grow with the batch (16, then 40, then 24 examples): every step still matches one thread.
        var inputs = RandomInputs(40, LeNet5.InputLength, seed: 31);
        var labels = RandomLabels(40, 10, seed: 32);
        var one = new LeNet5(5);
        var two = new LeNet5(5) { TrainingThreads = 2 };
        var three = new LeNet5(5) { TrainingThreads = 3 };
        foreach (int batch in new[] { 16, 40, 24 })
        {
            var expected = new float[LeNet5.ParameterCount];
            float expectedLoss = one.ComputeGradients(inputs.AsSpan(0, batch * 1024), labels.AsSpan(0, batch), expected);
            foreach (var network in new[] { two, three })
            {
                var gradients = new float[LeNet5.ParameterCount];
                float loss = network.ComputeGradients(inputs.AsSpan(0, batch * 1024), labels.AsSpan(0, batch), gradients);
                Assert.Equal(BitConverter.SingleToInt32Bits(expectedLoss), BitConverter.SingleToInt32Bits(loss));
                Assert.True(expected.AsSpan().SequenceEqual(gradients), $"batch {batch}, {network.TrainingThreads} threads: the gradients differ");
            }
        }
    }

    [Fact]
    public void Threaded_training_matches_the_reference_gradient()
    {
        var reference = NetworkCase.All.Single(c => c.Name == nameof(LeNet5)).Reference;
        var network = new LeNet5(8) { TrainingThreads = 2 };
        var inputs = RandomInputs(20, LeNet5.InputLength, seed: 23);
        var labels = RandomLabels(20, 10, seed: 24);
        var gradients = new float[LeNet5.ParameterCount];

        float loss = network.ComputeGradients(inputs, labels, gradients);

        var expected = reference.Gradient(Parameters(network), ToDouble(inputs), labels);
        double scale = expected.Max(Math.Abs);
        Assert.Equal(reference.MeanLoss(Parameters(network), ToDouble(inputs), labels), loss, 1e-5);
        for (int k = 0; k < gradients.Length; k++)
        {
            Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-4 * Math.Abs(expected[k])) + (1e-6 * scale), $"[{k}] {gradients[k]} vs {expected[k]}");
        }
    }

    [Fact]
    public void Thread_count_below_one_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5(1).TrainingThreads = 0);
        Assert.Equal("TrainingThreads", error.ParamName);
    }

    [Fact]
    public void Wrong_input_length_names_the_expected_and_actual_lengths()
    {
        var network = new LeNet5(1);

        var error = Assert.Throws<ArgumentException>(() => network.Predict(new float[784]));

        Assert.Equal("input", error.ParamName);
        Assert.StartsWith("input has 784 values, but LeNet5 needs 1024 (1×32×32).", error.Message);
    }

    [Fact]
    public void Wrong_output_length_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new LeNet5(1).Predict(new float[1024], new float[9]));

        Assert.Equal("output", error.ParamName);
        Assert.Contains("output has 9 values, but LeNet5 needs 10", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void Labels_outside_the_classes_are_rejected_with_their_value(int label)
    {
        var network = new LeNet5(1);
        var before = network.Parameters.ToArray();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => network.Train(new float[1024], label, 0.1f));

        Assert.Contains($"is {label}, but labels must be in [0, 10)", error.Message);
        Assert.True(network.Parameters.SequenceEqual(before));
    }

    [Fact]
    public void A_bad_label_inside_a_batch_names_its_index()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5(1).Train(new float[3 * 1024], new[] { 1, 2, 11 }, 0.1f));

        Assert.Contains("labels[2] is 11", error.Message);
    }

    [Fact]
    public void Mismatched_batch_sizes_name_both_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => new LeNet5(1).Train(new float[2 * 1024], new[] { 1, 2, 3 }, 0.1f));

        Assert.Equal("inputs", error.ParamName);
        Assert.StartsWith("labels has 3 labels, so inputs must hold 3 × 1024 = 3072 values for LeNet5, but it has 2048 (2 inputs).", error.Message);
    }

    [Fact]
    public void An_empty_batch_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new LeNet5(1).Train(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, 0.1f));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Learning_rates_must_be_finite_and_positive(float learningRate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5(1).Train(new float[1024], 3, learningRate));

        Assert.Equal("learningRate", error.ParamName);
    }

    [Fact]
    public void Predict_is_safe_on_several_threads_at_once()
    {
        var network = new LeNet5(2);
        var inputs = RandomInputs(64, LeNet5.InputLength, seed: 5);
        var expected = Enumerable.Range(0, 64).Select(n =>
        {
            var p = new float[10];
            network.Predict(inputs.AsSpan(n * 1024, 1024), p);
            return p;
        }).ToArray();

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var p = new float[10];
            for (int round = 0; round < 50; round++)
            {
                for (int n = 0; n < 64; n++)
                {
                    network.Predict(inputs.AsSpan(n * 1024, 1024), p);
                    Assert.True(p.AsSpan().SequenceEqual(expected[n]));
                }
            }
        });
    }

    [Fact]
    public void A_network_without_softmax_predicts_but_cannot_train()
    {
        var network = new Regressor(4);
        var output = new float[3];
        network.Predict(new float[16], output);

        Assert.IsNotAssignableFrom<ITrainableNetwork>(network);
        Assert.All(output, v => Assert.InRange(v, 0f, 1f)); // sigmoid outputs
        Assert.Null(typeof(Regressor).GetMethod("Train"));
    }

    [Fact]
    public void Single_example_Train_equals_a_batch_of_one()
    {
        var input = RandomInputs(1, LeNet5.InputLength, seed: 8);
        var a = new LeNet5(6);
        var b = new LeNet5(6);

        float lossA = a.Train(input, 4, 0.05f);
        float lossB = b.Train(input, new[] { 4 }, 0.05f);

        Assert.Equal(lossA, lossB);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
    }

    [Fact]
    public void Saturated_softmax_gives_exact_zeros_not_denormal_floats()
    {
        // fc3.bias pushes class 3 far above the rest: exp(z − max) would be around e^−100, a denormal float.
        var network = new LeNet5(2);
        var bias = LeNet5.Tensors.Single(t => t.Name == "fc3.bias");
        network.Parameters.Slice(bias.Offset, bias.Length).Fill(-50f);
        network.Parameters[bias.Offset + 3] = 50f;
        var probabilities = new float[10];
        var gradients = new float[LeNet5.ParameterCount];
        var input = RandomInputs(1, LeNet5.InputLength, seed: 3);

        network.Predict(input, probabilities);
        network.ComputeGradients(input, new[] { 3 }, gradients);

        Assert.Equal(1f, probabilities[3]);
        Assert.All(probabilities, p => Assert.False(float.IsSubnormal(p), $"{p} is denormal"));
        Assert.All(gradients, g => Assert.False(float.IsSubnormal(g), $"{g} is denormal"));
    }

    [Fact]
    public void Loss_is_the_cross_entropy_of_the_predicted_probabilities()
    {
        var network = new LeNet5(12);
        var input = RandomInputs(1, LeNet5.InputLength, seed: 13);
        var p = new float[10];
        network.Predict(input, p);

        Assert.Equal(-MathF.Log(p[7]), network.Loss(input, 7), 5);
    }
}

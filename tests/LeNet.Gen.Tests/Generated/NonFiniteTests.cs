using System;
using System.Linq;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>NaN and infinity: Predict says so, Train refuses and leaves the parameters exactly as they were.</summary>
public class NonFiniteTests
{
    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Predict_on_a_non_finite_input_gives_NaN_outputs_and_class_minus_one(float bad)
    {
        var network = new LeNet5(1);
        var input = RandomInputs(1, LeNet5.InputLength, seed: 2);
        input[517] = bad;
        var probabilities = new float[10];

        network.Predict(input, probabilities);

        Assert.All(probabilities, p => Assert.True(float.IsNaN(p)));
        Assert.Equal(-1, network.Predict(input));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Train_on_a_non_finite_input_throws_and_changes_nothing(float bad)
    {
        var network = new LeNet5(3);
        var inputs = RandomInputs(4, LeNet5.InputLength, seed: 4);
        inputs[(2 * 1024) + 100] = bad;
        var before = network.Parameters.ToArray();
        var adam = new Adam(0.01f);

        var sgd = Assert.Throws<ArithmeticException>(() => network.Train(inputs, new[] { 1, 2, 3, 4 }, 0.1f));
        Assert.Throws<ArithmeticException>(() => network.Train(inputs, new[] { 1, 2, 3, 4 }, adam));

        Assert.Contains("the parameters were left unchanged", sgd.Message);
        Assert.True(network.Parameters.SequenceEqual(before));
        Assert.Equal(0, adam.Steps);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    public void Train_on_two_threads_refuses_a_non_finite_batch_and_then_trains_as_one_thread_does(float bad)
    {
        // Three chunks summed on two threads, with the finiteness check folded into the sum and the optimizer's step split
        // into ranges: the bad batch changes nothing, and the next batch gives one thread's parameters bit for bit.
        var inputs = RandomInputs(48, LeNet5.InputLength, seed: 7);
        var labels = RandomLabels(48, 10, seed: 8);
        var network = new LeNet5(3) { TrainingThreads = 2 };
        var single = new LeNet5(3);
        var adam = new Adam(0.01f);
        var singleAdam = new Adam(0.01f);
        inputs[(17 * 1024) + 300] = bad;
        var before = network.Parameters.ToArray();

        var error = Assert.Throws<ArithmeticException>(() => network.Train(inputs.AsSpan(0, 24 * 1024), labels.AsSpan(0, 24), adam));

        Assert.Contains("the parameters were left unchanged", error.Message);
        Assert.True(network.Parameters.SequenceEqual(before));
        Assert.Equal(0, adam.Steps);
        network.Train(inputs.AsSpan(24 * 1024), labels.AsSpan(24), adam);
        single.Train(inputs.AsSpan(24 * 1024), labels.AsSpan(24), singleAdam);
        Assert.True(network.Parameters.SequenceEqual(single.Parameters));
    }

    [Fact]
    public void Overflowing_weights_make_Train_throw_rather_than_poison_the_network()
    {
        var network = new LeNet5(5);
        var fc1 = LeNet5.Tensors.Single(t => t.Name == "fc1.weight");
        network.Parameters.Slice(fc1.Offset, fc1.Length).Fill(3e37f);
        var before = network.Parameters.ToArray();

        Assert.Throws<ArithmeticException>(() => network.Train(RandomInputs(1, 1024, 6), 0, 0.1f));

        Assert.True(network.Parameters.SequenceEqual(before));
    }

    [Theory]
    [InlineData(int.MinValue)]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    public void Any_seed_is_valid_and_deterministic(int seed)
    {
        var a = new LeNet5(seed);
        var b = new LeNet5(seed);

        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.Contains(a.Parameters.ToArray(), v => v != 0f);
    }
}

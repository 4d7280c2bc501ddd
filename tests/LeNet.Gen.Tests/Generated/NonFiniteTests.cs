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

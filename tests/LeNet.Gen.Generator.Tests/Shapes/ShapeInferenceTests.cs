using System.Linq;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Shapes;

/// <summary>Shape inference is pure: these tests feed it spec models and compare with tables worked out by hand.</summary>
public class ShapeInferenceTests
{
    [Fact]
    public void LeNet5_has_the_textbook_shape_table_and_61706_parameters()
    {
        var plan = ShapeInference.Infer(LeNet5()).Plan!;

        Assert.Equal(
            new[] { "6×28×28", "6×14×14", "16×10×10", "16×5×5", "120", "84", "10" },
            plan.Layers.Select(l => l.Output.ToString()));
        Assert.Equal(new[] { 156, 0, 2416, 0, 48120, 10164, 850 }, plan.Layers.Select(l => l.ParameterCount));
        Assert.Equal(61706, plan.ParameterCount);
        Assert.Equal(1024, plan.Input.Length);
        Assert.Equal(10, plan.Output.Length);
        Assert.Equal(new[] { "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3" }, plan.Layers.Select(l => l.Name));
        Assert.True(plan.CanTrain);
    }

    [Fact]
    public void LeNet5_parameter_offsets_follow_the_pytorch_state_dict_order()
    {
        var layers = ShapeInference.Infer(LeNet5()).Plan!.Layers.Where(l => l.ParameterCount > 0).ToArray();

        // conv1.weight 0..150, conv1.bias 150..156, conv2.weight 156..2556, conv2.bias 2556..2572, fc1.weight 2572..50572, …
        Assert.Equal(new[] { (0, 150, 150, 6), (156, 2400, 2556, 16), (2572, 48000, 50572, 120), (50692, 10080, 60772, 84), (60856, 840, 61696, 10) },
            layers.Select(l => (l.WeightOffset, l.WeightCount, l.BiasOffset, l.BiasCount)));
    }

    [Theory]
    [InlineData(0, 1, 3)] // 5×5 input, 3×3 filter, no padding → 3×3
    [InlineData(1, 1, 5)] // padding 1 → 5×5
    [InlineData(0, 2, 2)] // stride 2 → 2×2
    public void Worked_examples_for_a_5x5_input_and_a_3x3_filter(int padding, int stride, int expected)
    {
        var plan = ShapeInference.Infer(Network(1, 5, 5, Conv(1, 3, stride, padding))).Plan!;

        Assert.Equal(new TensorShape(1, expected, expected, true), plan.Output);
        Assert.Equal(10, plan.ParameterCount);
    }

    [Theory]
    // rounding: 1 = Floor, 2 = Ceiling
    [InlineData(14, 5, 2, 0, 1, 5)]
    [InlineData(14, 5, 2, 0, 2, 6)]
    [InlineData(15, 2, 2, 0, 1, 7)]
    [InlineData(15, 2, 2, 0, 2, 8)]
    [InlineData(5, 2, 2, 1, 2, 3)] // ceil(5/2)+1 = 4, but the 4th window would start at 6 ≥ 5 + 1: dropped, as PyTorch does
    [InlineData(16, 2, 2, 0, 2, 8)] // whole: every mode agrees
    public void Rounding_modes_round_like_floor_and_ceil_mode(int input, int window, int stride, int padding, int rounding, long expected)
    {
        Assert.Equal(expected, ShapeFormula.Output(input, window, stride, padding, (RoundingMode)rounding).Size);
    }

    [Fact]
    public void Exact_mode_rejects_a_non_whole_size_and_spells_out_the_arithmetic()
    {
        var axis = ShapeFormula.Output(14, 5, 2, 0, RoundingMode.Exact);

        Assert.False(axis.IsWhole);
        Assert.Equal(0, axis.Size);
        Assert.Equal("(14 − 5 + 2·0) / 2 + 1 = 5.5", ShapeFormula.Explain(axis));
        Assert.Equal((1, 3), ShapeFormula.WholeStrides(axis));
        Assert.Null(ShapeFormula.WholePadding(axis)); // 14 − 5 + 2p is odd for every p: no padding helps with stride 2
    }

    [Fact]
    public void Padding_suggestion_is_the_smallest_larger_padding_that_makes_the_size_whole()
    {
        var axis = ShapeFormula.Output(15, 4, 3, 0, RoundingMode.Exact); // (15 − 4)/3 + 1 = 4.67

        Assert.Equal(2, ShapeFormula.WholePadding(axis)); // (15 − 4 + 4)/3 + 1 = 6
    }

    [Fact]
    public void Suggestion_search_is_bounded_for_huge_strides()
    {
        var axis = ShapeFormula.Output(int.MaxValue, 1, int.MaxValue - 1, 0, RoundingMode.Exact);

        var (below, above) = ShapeFormula.WholeStrides(axis);
        Assert.True(below >= 1);
        Assert.Null(above);
    }

    [Fact]
    public void Non_square_inputs_have_separate_height_and_width()
    {
        var plan = ShapeInference.Infer(Network(3, 20, 32, Conv(4, 5, activation: ActivationKind.Tanh), Pool(PoolingKind.Max, 2), Dense(10))).Plan!;

        Assert.Equal("4×16×28", plan.Layers[0].Output.ToString());
        Assert.Equal("4×8×14", plan.Layers[1].Output.ToString());
        Assert.Equal(4 * 8 * 14, plan.Layers[2].Input.Length);
    }

    [Fact]
    public void Dense_only_network_flattens_the_input()
    {
        var plan = ShapeInference.Infer(Network(1, 28, 28, Dense(32, ActivationKind.Sigmoid), Dense(10, ActivationKind.Softmax))).Plan!;

        Assert.Equal(784 * 32 + 32 + (32 * 10) + 10, plan.ParameterCount);
    }

    [Fact]
    public void Network_without_softmax_head_is_valid_but_not_trainable()
    {
        var result = ShapeInference.Infer(Network(1, 4, 4, Dense(3)));

        Assert.NotNull(result.Plan);
        Assert.False(result.Plan!.CanTrain);
        Assert.Equal("LNG0201", Assert.Single(result.Problems).RuleId);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(100_000)]
    public void Parameter_counts_beyond_the_limit_are_errors_not_overflows(int units)
    {
        var result = ShapeInference.Infer(Network(1, 32, 32, Dense(units), Dense(units)));

        Assert.Null(result.Plan);
        Assert.Contains(result.Problems, p => p.RuleId == "LNG0004");
    }

    [Fact]
    public void Every_invalid_value_is_reported_not_only_the_first()
    {
        var result = ShapeInference.Infer(Network(0, 32, 32, Conv(0, 0, stride: 0, padding: -1), Dense(0)));

        Assert.Null(result.Plan);
        Assert.Equal(
            new[] { "channels", "filters", "kernel", "Stride", "Padding", "units" },
            result.Problems.Where(p => p.RuleId == "LNG0003").Select(p => p.Target.Argument));
    }
}

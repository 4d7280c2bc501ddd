using System.Linq;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Shapes;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The layer kinds of issue 10 (global average pooling, dropout, batch norm): their shape rules, their diagnostics with
/// exact IDs, locations and messages, and their rows in the layer table.
/// </summary>
public class NewLayerKindTests
{
    private static Diagnostic SingleError(string source, string id)
    {
        var result = TestCompiler.Run(source);
        Assert.Empty(result.GeneratorExceptions);
        var error = Assert.Single(result.Errors);
        Assert.Equal(id, error.Id);
        Assert.Empty(result.Generated);
        return error;
    }

    private static string[] SummaryOf(string source)
    {
        var result = TestCompiler.Run(source);
        Assert.Empty(result.GeneratorExceptions);
        Assert.Empty(result.Errors);
        string text = Assert.Single(result.Generated).SourceText.ToString();
        return text.Split('\n').Where(l => l.StartsWith("// ", System.StringComparison.Ordinal)).Select(l => l.Substring(3).TrimEnd('\r')).ToArray();
    }

    [Fact]
    public void Global_average_pool_maps_each_channel_to_one_value_and_a_dense_layer_may_follow()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 14, 14)]
            [Conv(6, 5, Activation = Activation.ReLU)]
            [Conv(16, 1, Activation = Activation.ReLU)]
            [GlobalAveragePool]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var summary = SummaryOf(source);

        // 6×10×10 → 16×10×10 → 16×1×1 → 10; the global pool has no parameters and is called gap when it is the only one.
        Assert.Contains(summary, l => l.StartsWith("gap 16×10×10→16", System.StringComparison.Ordinal) && l.Contains("16×1×1") && l.EndsWith(" 0", System.StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("fc1 16→10 Softmax", System.StringComparison.Ordinal) && l.EndsWith("170", System.StringComparison.Ordinal));
    }

    [Fact]
    public void Two_global_pools_are_numbered()
    {
        var plan = ShapeInference.Infer(Specs.Network(
            3, 8, 8,
            new Generator.Layers.GlobalAveragePoolSpec(0),
            new Generator.Layers.GlobalAveragePoolSpec(0),
            Specs.Dense(2, Model.ActivationKind.Softmax))).Plan!;

        Assert.Equal(new[] { "gap1", "gap2", "fc1" }, plan.Layers.Select(l => l.Name));
        Assert.Equal(new[] { "3×1×1", "3×1×1", "2" }, plan.Layers.Select(l => l.Output.ToString()));
        Assert.Equal("gap2 3×1×1→3", plan.Layers[1].DescribeLayer());
    }

    [Fact]
    public void LNG0014_global_average_pool_after_dense_names_the_flat_vector()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 28, 28)]
            [Dense(100, Activation = Activation.ReLU)]
            [GlobalAveragePool]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0014");

        Assert.Equal(SourceSpan.Of(source, "GlobalAveragePool"), SourceSpan.Of(error));
        Assert.Equal(
            "gap averages each channel of a channels × height × width input, but it follows fc1, whose output is a flat vector of 100 values; " +
            "put [GlobalAveragePool] after the last [Conv] or [Pool] and before the first [Dense]",
            error.GetMessage());
    }

    [Fact]
    public void A_network_ending_in_a_global_pool_gets_LNG0201_without_a_fix_to_set_an_activation_it_does_not_have()
    {
        var result = ShapeInference.Infer(Specs.Network(2, 4, 4, Specs.Conv(3, 3), new Generator.Layers.GlobalAveragePoolSpec(0)));

        var warning = Assert.Single(result.Problems);
        Assert.Equal("LNG0201", warning.RuleId);
        Assert.Empty(warning.Fixes);
    }

    [Fact]
    public void Dropout_keeps_the_shape_and_has_a_row_with_its_p()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(3, 3, Activation = Activation.ReLU)]
            [Dropout(0.25)]
            [Dense(12, Activation = Activation.ReLU)]
            [Dropout(0.5)]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var summary = SummaryOf(source);

        Assert.Contains(summary, l => l.StartsWith("drop1 p0.25", System.StringComparison.Ordinal) && l.Contains("3×6×6") && l.EndsWith(" 0", System.StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("drop2 p0.5 ", System.StringComparison.Ordinal) && l.Contains(" 12 "));
        Assert.Contains(summary, l => l.StartsWith("fc1 108→12 ReLU", System.StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("1.5", "1.5")]
    [InlineData("-0.1", "-0.1")]
    [InlineData("double.NaN", "NaN")]
    public void LNG0003_dropout_p_outside_0_to_1(string p, string shown)
    {
        string source = $$"""
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Dense(12, Activation = Activation.ReLU)]
            [Dropout({{p}})]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0003");

        Assert.Equal(SourceSpan.Of(source, p + ")").Line, SourceSpan.Of(error).Line);
        Assert.Equal(SourceSpan.Of(source, p + ")").Column, SourceSpan.Of(error).Column);
        Assert.Equal($"drop1: p must be in [0, 1), but it is {shown}", error.GetMessage());
    }

    [Fact]
    public void Dropout_p_0_is_accepted()
    {
        var result = TestCompiler.Run("""
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dropout(0)]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Net { }
            """);

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
        Assert.Single(result.Generated);
    }

    [Fact]
    public void Batch_norm_rows_count_channels_after_a_convolution_and_units_after_a_dense_layer()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 32, 32)]
            [Conv(6, 5, Activation = Activation.ReLU)]
            [BatchNorm]
            [Pool(PoolKind.Max, 2)]
            [Dense(120, Activation = Activation.ReLU)]
            [BatchNorm(Epsilon = 1e-3, Momentum = 0.05)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var summary = SummaryOf(source);

        // γ and β are parameters (2 per channel or unit); the running statistics are state and not counted.
        Assert.Contains(summary, l => l.StartsWith("bn1 6ch ", System.StringComparison.Ordinal) && l.Contains("6×28×28") && l.EndsWith(" 12", System.StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("bn2 120 units ", System.StringComparison.Ordinal) && l.EndsWith(" 240", System.StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("conv1 5×5×6 s1 p0 ReLU", System.StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("Net: 1×32×32 → 10, 142,858 parameters", System.StringComparison.Ordinal)); // 156 + 12 + (1,176 × 120 + 120) + 240 + 1,210
    }

    [Fact]
    public void The_activation_of_the_layer_before_a_batch_norm_is_applied_after_it()
    {
        var result = TestCompiler.Run("""
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(2, 3, Activation = Activation.Tanh)]
            [BatchNorm]
            [Dense(3, Activation = Activation.Softmax)]
            public partial class Net { }
            """);
        Assert.Empty(result.Errors);
        string text = Assert.Single(result.Generated).SourceText.ToString();

        // conv1 writes its sums without tanh; bn1 normalises them and applies tanh, in Predict and in training.
        Assert.Contains("// out[f, y, x] = bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, y + i, x + j]", text);
        Assert.Contains("// Predict: out[c, i] = tanh(γ[c] · (in[c, i] − running_mean[c]) / √(running_var[c] + 1E-05) + β[c])", text);
        Assert.Contains("LayerKind.Convolution, \"conv1\", new[] { 1, 8, 8 }, new[] { 2, 6, 6 }, kernel: 3, stride: 1, padding: 0, global::LeNet.Gen.PoolKind.Max, global::LeNet.Gen.ShapeRounding.Exact, global::LeNet.Gen.Activation.None", text);
        Assert.Contains("LayerKind.BatchNorm, \"bn1\"", text);
    }

    [Fact]
    public void LNG0015_batch_norm_first()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [BatchNorm]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0015");

        Assert.Equal(SourceSpan.Of(source, "BatchNorm"), SourceSpan.Of(error));
        Assert.Equal("bn1 normalises the output of the layer before it, but it is the first layer: put it after a [Conv] or a [Dense]", error.GetMessage());
    }

    [Fact]
    public void LNG0015_batch_norm_twice_in_a_row()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(3, 3)]
            [BatchNorm]
            [BatchNorm(Momentum = 0.2)]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0015");

        Assert.Equal(SourceSpan.Of(source, "BatchNorm(Momentum = 0.2)"), SourceSpan.Of(error));
        Assert.Equal("bn2 normalises the output of the layer before it, but it follows bn1, another batch norm, whose output is already normalised: remove one of them", error.GetMessage());
    }

    [Theory]
    [InlineData("Epsilon = 0", "Epsilon", "positive and finite", "0")]
    [InlineData("Epsilon = -1e-5", "Epsilon", "positive and finite", "-1E-05")]
    [InlineData("Momentum = 1.5", "Momentum", "in [0, 1]", "1.5")]
    [InlineData("Momentum = -0.1", "Momentum", "in [0, 1]", "-0.1")]
    public void LNG0003_batch_norm_epsilon_and_momentum(string argument, string name, string expected, string shown)
    {
        string source = $$"""
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Dense(12)]
            [BatchNorm({{argument}})]
            [Dense(4, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0003");

        Assert.Equal(SourceSpan.Of(source, argument), SourceSpan.Of(error));
        Assert.Equal($"bn1: {name} must be {expected}, but it is {shown}", error.GetMessage());
    }
}

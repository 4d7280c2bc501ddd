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
}

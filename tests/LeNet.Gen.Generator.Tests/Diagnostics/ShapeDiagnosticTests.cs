using System.Linq;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Diagnostics;

/// <summary>
/// Each shape rule on a small program: the diagnostic's ID, the exact span of the attribute or argument it points at,
/// and the numbers in its message. An invalid spec must produce no generated source, so the LNG error is the only error.
/// </summary>
public class ShapeDiagnosticTests
{
    private static string LeNet5With(string conv2, string fc1 = "Dense(120, Activation = Activation.ReLU)") => $$"""
        using LeNet.Gen;

        namespace Demo;

        [Network(1, 32, 32)]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [{{conv2}}]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [{{fc1}}]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5 { }
        """;

    /// <summary>Compiles, asserts that the only error is the single expected LNG error, and returns it.</summary>
    private static Diagnostic SingleError(string source, string id)
    {
        var result = TestCompiler.Run(source);
        Assert.Empty(result.GeneratorExceptions);
        var error = Assert.Single(result.Errors);
        Assert.Equal(id, error.Id);
        Assert.Empty(result.Generated); // an invalid spec generates nothing, so there is no cascade of errors
        return error;
    }

    [Fact]
    public void LeNet5_compiles_without_any_diagnostic()
    {
        var result = TestCompiler.Run(LeNet5With("Conv(16, 5, Activation = Activation.ReLU)"));

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
        Assert.Single(result.Generated);
    }

    [Fact]
    public void LNG0001_non_whole_output_size_spells_out_the_formula_and_the_fixes()
    {
        string source = LeNet5With("Conv(16, 5, Stride = 2)");

        var error = SingleError(source, "LNG0001");

        Assert.Equal(SourceSpan.Of(source, "Conv(16, 5, Stride = 2)"), SourceSpan.Of(error));
        Assert.Equal(
            "conv2: the output size is not a whole number: (14 − 5 + 2·0) / 2 + 1 = 5.5. Stride = 1 (→ 10) or Stride = 3 (→ 4) would make it whole, " +
            "or set Rounding = ShapeRounding.Floor (→ 5) or ShapeRounding.Ceiling (→ 6) on [Network]",
            error.GetMessage());
    }

    [Fact]
    public void LNG0001_ceiling_figure_is_the_size_ceiling_really_gives()
    {
        // (15 − 1) / 3 + 1 = 5.67. Rounded up it would be 6, but the 6th window would start at row 15, past the input, so
        // Ceiling (like PyTorch's ceil_mode) drops it: 5, the same as Floor. The message and the fix's title say 5.
        string source = """
            using LeNet.Gen;
            [Network(1, 15, 15)]
            [Pool(PoolKind.Max, 1, Stride = 3)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0001");

        Assert.Equal(
            "pool1: the output size is not a whole number: (15 − 1 + 2·0) / 3 + 1 = 5.67. Stride = 2 (→ 8) or Stride = 7 (→ 3) would make it whole, " +
            "or set Rounding = ShapeRounding.Floor (→ 5) or ShapeRounding.Ceiling (→ 5) on [Network]",
            error.GetMessage());
    }

    [Fact]
    public void LNG0001_suggests_a_padding_when_one_exists()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 15, 15)]
            [Conv(4, 4, Stride = 3)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0001");

        Assert.Contains("(15 − 4 + 2·0) / 3 + 1 = 4.67", error.GetMessage());
        Assert.Contains("Padding = 2 (→ 6)", error.GetMessage());
    }

    [Fact]
    public void LNG0001_names_the_axis_when_height_and_width_differ()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 14, 16)]
            [Pool(PoolKind.Max, 2)]
            [Pool(PoolKind.Max, 2)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0001");

        Assert.Equal(SourceSpan.Of(source, "Pool(PoolKind.Max, 2)]\n[Dense").Line + 0, SourceSpan.Of(error).Line);
        Assert.StartsWith("pool2: the output size is not a whole number: (7 − 2 + 2·0) / 2 + 1 = 3.5 (height).", error.GetMessage());
    }

    [Fact]
    public void LNG0002_window_larger_than_the_padded_input()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 3, 3)]
            [Conv(2, 5, Padding = 0)]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0002");

        Assert.Equal(SourceSpan.Of(source, "Conv(2, 5, Padding = 0)"), SourceSpan.Of(error));
        Assert.Equal(
            "conv1: the output size (3 − 5 + 2·0) / 1 + 1 = -1 is not positive: the 5×5 window is larger than the padded input, 3×3 (3 + 2·0 = 3); " +
            "use a smaller window, more padding or a larger input",
            error.GetMessage());
    }

    [Fact]
    public void LNG0002_and_LNG0004_both_reported_when_the_window_exceeds_the_input_and_the_limit()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 32, 32)]
            [Conv(6, 40)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var result = TestCompiler.Run(source);
        Assert.Empty(result.GeneratorExceptions);
        Assert.Empty(result.Generated);
        var errors = result.Errors.ToArray();

        var notPositive = Assert.Single(errors, d => d.Id == "LNG0002");
        var tooLarge = Assert.Single(errors, d => d.Id == "LNG0004");
        Assert.Equal(2, errors.Length);
        Assert.Equal(SourceSpan.Of(source, "Conv(6, 40)"), SourceSpan.Of(notPositive));
        Assert.Equal(
            "conv1: the output size (32 − 40 + 2·0) / 1 + 1 = -7 is not positive: the 40×40 window is larger than the padded input, 32×32 (32 + 2·0 = 32); " +
            "use a smaller window, more padding or a larger input",
            notPositive.GetMessage());
        Assert.Equal(SourceSpan.Of(source, "40"), SourceSpan.Of(tooLarge));
        Assert.Contains("a 40×40 window is larger than LeNet.Gen's limit of 15×15", tooLarge.GetMessage());
    }

    [Theory]
    [InlineData("Conv(0, 5)", "0", "conv1: filters must be at least 1, but it is 0")]
    [InlineData("Conv(6, -3)", "-3", "conv1: kernel must be at least 1, but it is -3")]
    [InlineData("Conv(6, 5, Stride = 0)", "Stride = 0", "conv1: Stride must be at least 1, but it is 0")]
    [InlineData("Conv(6, 5, Padding = -1)", "Padding = -1", "conv1: Padding must be at least 0, but it is -1")]
    [InlineData("Conv(6, kernel: 0)", "kernel: 0", "conv1: kernel must be at least 1, but it is 0")]
    [InlineData("Pool(PoolKind.Max, 0)", "0", "pool1: size must be at least 1, but it is 0")]
    [InlineData("Pool(PoolKind.Max, 2, Stride = -2)", "Stride = -2", "pool1: Stride must be at least 1, but it is -2")]
    [InlineData("Dense(0)", "0", "fc1: units must be at least 1, but it is 0")]
    [InlineData("Dense(10, Inputs = -5)", "Inputs = -5", "fc1: Inputs must be at least 1, but it is -5")]
    [InlineData("Conv(6, 5, Activation = (Activation)42)", "Activation = (Activation)42", "conv1: Activation must be one of None, ReLU, Tanh, Sigmoid, Softmax, but it is 42")]
    public void LNG0003_invalid_value_points_at_the_argument(string layer, string argument, string message)
    {
        string source = $$"""
            using LeNet.Gen;
            [Network(1, 28, 28)]
            [{{layer}}]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;
        int line = SourceSpan.Of(source, layer).Line;

        var error = SingleError(source, "LNG0003");

        var span = SourceSpan.Of(error);
        Assert.Equal(line, span.Line);
        Assert.Equal(argument, source.Split('\n')[line - 1].Substring(span.Column - 1, span.EndColumn - span.Column));
        Assert.Equal(message, error.GetMessage());
    }

    [Fact]
    public void LNG0003_invalid_input_size_points_at_the_network_argument()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 0, 28)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0003");

        Assert.Equal(SourceSpan.Of(source, "0, 28").Column, SourceSpan.Of(error).Column);
        Assert.Equal("input: height must be at least 1, but it is 0", error.GetMessage());
    }

    [Fact]
    public void LNG0004_parameter_count_beyond_int_is_an_error_with_the_product()
    {
        string source = """
            using LeNet.Gen;
            [Network(3, 64, 64)]
            [Dense(int.MaxValue, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0004");

        Assert.Equal(SourceSpan.Of(source, "Dense(int.MaxValue, Activation = Activation.Softmax)"), SourceSpan.Of(error));
        Assert.Equal(
            "fc1: 2147483647 × 12288 + 2147483647 = 26390426537983 parameters exceeds LeNet.Gen's limit of 50000000 (and more than int.MaxValue, 2147483647)",
            error.GetMessage());
    }

    [Fact]
    public void LNG0004_window_larger_than_the_unrolling_limit()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 64, 64)]
            [Conv(2, 16)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0004");

        Assert.Equal(SourceSpan.Of(source, "16"), SourceSpan.Of(error));
        Assert.Contains("a 16×16 window is larger than LeNet.Gen's limit of 15×15", error.GetMessage());
    }

    [Fact]
    public void LNG0005_convolution_after_dense()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 28, 28)]
            [Dense(100, Activation = Activation.ReLU)]
            [Conv(6, 5)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0005");

        Assert.Equal(SourceSpan.Of(source, "Conv(6, 5)"), SourceSpan.Of(error));
        Assert.StartsWith("conv1 needs a channels × height × width input, but it follows fc1, whose output is a flat vector of 100 values", error.GetMessage());
    }

    [Fact]
    public void LNG0006_dense_inputs_mismatch_says_where_the_real_size_comes_from()
    {
        string source = LeNet5With("Conv(16, 5, Activation = Activation.ReLU)", "Dense(120, Activation = Activation.ReLU, Inputs = 256)");

        var error = SingleError(source, "LNG0006");

        Assert.Equal(SourceSpan.Of(source, "Inputs = 256"), SourceSpan.Of(error));
        Assert.Equal("fc1 declares Inputs = 256, but its input has 400 values: 16 × 5 × 5 = 400 from pool2", error.GetMessage());
    }

    [Fact]
    public void Dense_inputs_that_match_compile_cleanly()
    {
        var result = TestCompiler.Run(LeNet5With("Conv(16, 5, Activation = Activation.ReLU)", "Dense(120, Activation = Activation.ReLU, Inputs = 400)"));

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
    }

    [Fact]
    public void Several_errors_are_all_reported_each_on_its_own_attribute()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 28, 28)]
            [Conv(0, 5)]
            [Dense(10, Activation = Activation.Softmax)]
            [Dense(0)]
            public partial class Net { }
            """;

        var result = TestCompiler.Run(source);

        Assert.Equal(new[] { "LNG0003", "LNG0010", "LNG0003" }, result.Errors.Select(e => e.Id));
        Assert.Empty(result.Generated);
    }
}

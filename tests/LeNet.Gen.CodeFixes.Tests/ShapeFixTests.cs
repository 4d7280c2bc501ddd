using System.Threading.Tasks;
using Xunit;

namespace LeNet.Gen.CodeFixes.Tests;

/// <summary>LNG0001 (output size not whole) and LNG0006 (Inputs differs from the real size): each suggestion as its own fix.</summary>
public class ShapeFixTests
{
    /// <summary>LeNet-5 with <paramref name="conv2"/> as its second convolution and <paramref name="network"/> as its input.</summary>
    private static string LeNet5(string conv2, string network = "Network(1, 32, 32)", string pool2 = "Pool(PoolKind.Average, 2, Stride = 2)") => $$"""
        using LeNet.Gen;

        namespace Demo;

        [{{network}}]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [{{conv2}}]
        [{{pool2}}]
        [Dense(120, Activation = Activation.ReLU)]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5 { }
        """;

    // conv2 sees 14×14: (14 − 5) / 2 + 1 = 5.5.
    private static readonly string Broken = LeNet5("{|LNG0001:Conv(16, 5, Stride = 2, Activation = Activation.ReLU)|}");

    [Fact]
    public async Task LNG0001_offers_each_suggestion_of_its_message_as_its_own_action()
    {
        var actions = await FixTest.ActionsAsync(LeNet5("Conv(16, 5, Stride = 2, Activation = Activation.ReLU)"), "LNG0001");

        // Stride 1 → (14 − 5) / 1 + 1 = 10; stride 3 → 9 / 3 + 1 = 4; floor 5, ceiling 6. No padding makes 9 + 2p even.
        Assert.Equal(
            new[]
            {
                ("Set Stride = 1 (conv2 → 10×10)", "LNG0001.SmallerStride"),
                ("Set Stride = 3 (conv2 → 4×4)", "LNG0001.LargerStride"),
                ("Set Rounding = Floor on [Network] (conv2 → 5×5)", "LNG0001.Floor"),
                ("Set Rounding = Ceiling on [Network] (conv2 → 6×6)", "LNG0001.Ceiling"),
            },
            actions);
    }

    [Fact]
    public Task LNG0001_smaller_stride() => FixTest.VerifyAsync(
        Broken,
        LeNet5("Conv(16, 5, Stride = 1, Activation = Activation.ReLU)"),
        "LNG0001.SmallerStride",
        "Set Stride = 1 (conv2 → 10×10)");

    [Fact]
    public Task LNG0001_larger_stride() => FixTest.VerifyAsync(
        Broken,
        LeNet5("Conv(16, 5, Stride = 3, Activation = Activation.ReLU)"),
        "LNG0001.LargerStride",
        "Set Stride = 3 (conv2 → 4×4)");

    [Fact]
    public Task LNG0001_stride_is_added_when_not_written()
    {
        // A pooling window of 3 on 14×14 with its default stride 3: (14 − 3) / 3 + 1 = 4.67; stride 1 → 12.
        return FixTest.VerifyAsync(
            LeNet5("Conv(16, 5, Padding = 2)", pool2: "{|LNG0001:Pool(PoolKind.Max, 3)|}"),
            LeNet5("Conv(16, 5, Padding = 2)", pool2: "Pool(PoolKind.Max, 3, Stride = 1)"),
            "LNG0001.SmallerStride",
            "Set Stride = 1 (pool2 → 12×12)");
    }

    [Fact]
    public Task LNG0001_rounding_floor_is_added_to_the_network_attribute()
    {
        // Floor: conv2 → 5×5, dropping 1 row and column (LNG0102), and pool2 then sees 5×5: (5 − 2) / 2 + 1 → 2, dropping 1.
        return FixTest.VerifyAsync(
            Broken,
            LeNet5(
                "{|LNG0102:Conv(16, 5, Stride = 2, Activation = Activation.ReLU)|}",
                network: "Network(1, 32, 32, Rounding = ShapeRounding.Floor)",
                pool2: "{|LNG0102:Pool(PoolKind.Average, 2, Stride = 2)|}"),
            "LNG0001.Floor",
            "Set Rounding = Floor on [Network] (conv2 → 5×5)");
    }

    [Fact]
    public Task LNG0001_rounding_ceiling_replaces_an_explicit_exact()
    {
        // Ceiling: conv2 → 6×6, pool2 → 3×3; Ceiling reads every row, so no note.
        return FixTest.VerifyAsync(
            LeNet5("{|LNG0001:Conv(16, 5, Stride = 2, Activation = Activation.ReLU)|}", network: "Network(1, 32, 32, Rounding = ShapeRounding.Exact)"),
            LeNet5("Conv(16, 5, Stride = 2, Activation = Activation.ReLU)", network: "Network(1, 32, 32, Rounding = ShapeRounding.Ceiling)"),
            "LNG0001.Ceiling",
            "Set Rounding = Ceiling on [Network] (conv2 → 6×6)");
    }

    private static string Small(string conv) => $$"""
        using LeNet.Gen;

        [Network(1, 28, 28)]
        [{{conv}}]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class Small { }
        """;

    [Fact]
    public async Task LNG0001_padding_is_offered_for_a_convolution()
    {
        // (28 − 5) / 3 + 1 = 8.67. Stride 2 leaves 23 odd, so 1 is the smaller stride; 23 itself is the larger (→ 2).
        // Padding 1 gives 25 (not a multiple of 3); padding 2 gives 27 → 27 / 3 + 1 = 10.
        var actions = await FixTest.ActionsAsync(Small("Conv(6, 5, Stride = 3)"), "LNG0001");

        Assert.Equal(
            new[]
            {
                "Set Stride = 1 (conv1 → 24×24)",
                "Set Stride = 23 (conv1 → 2×2)",
                "Set Padding = 2 (conv1 → 10×10)",
                "Set Rounding = Floor on [Network] (conv1 → 8×8)",
                "Set Rounding = Ceiling on [Network] (conv1 → 9×9)",
            },
            actions.ConvertAll(a => a.Title));
    }

    [Fact]
    public Task LNG0001_padding() => FixTest.VerifyAsync(
        Small("{|LNG0001:Conv(6, 5, Stride = 3)|}"),
        Small("Conv(6, 5, Stride = 3, Padding = 2)"),
        "LNG0001.Padding",
        "Set Padding = 2 (conv1 → 10×10)");

    [Fact]
    public Task LNG0001_padding_replaces_the_written_value() => FixTest.VerifyAsync(
        Small("{|LNG0001:Conv(6, 5, Padding = 1, Stride = 3)|}"),
        Small("Conv(6, 5, Padding = 2, Stride = 3)"),
        "LNG0001.Padding",
        "Set Padding = 2 (conv1 → 10×10)");

    [Fact]
    public async Task LNG0001_on_a_non_square_input_names_the_axis()
    {
        // Height 28: (28 − 5) / 2 + 1 = 12.5; width 29: (29 − 5) / 2 + 1 = 13, whole.
        var actions = await FixTest.ActionsAsync(Small("Conv(6, 5, Stride = 2)").Replace("Network(1, 28, 28)", "Network(1, 28, 29)"), "LNG0001");

        Assert.Equal("Set Stride = 1 (conv1 height → 24)", actions[0].Title);
        Assert.Equal("Set Rounding = Floor on [Network] (conv1 height → 12)", actions[^2].Title);
    }

    [Fact]
    public Task LNG0001_enum_value_keeps_the_qualification_the_file_needs()
    {
        // Without `using LeNet.Gen;` the simplifier keeps the namespace.
        const string before = """
            [LeNet.Gen.Network(1, 28, 28)]
            [{|LNG0001:LeNet.Gen.Conv(6, 5, Stride = 2)|}]
            [LeNet.Gen.Dense(10, Activation = LeNet.Gen.Activation.Softmax)]
            public partial class Qualified { }
            """;
        const string after = """
            [LeNet.Gen.Network(1, 28, 28, Rounding = LeNet.Gen.ShapeRounding.Ceiling)]
            [LeNet.Gen.Conv(6, 5, Stride = 2)]
            [LeNet.Gen.Dense(10, Activation = LeNet.Gen.Activation.Softmax)]
            public partial class Qualified { }
            """;
        return FixTest.VerifyAsync(before, after, "LNG0001.Ceiling", "Set Rounding = Ceiling on [Network] (conv1 → 13×13)");
    }

    [Fact]
    public Task LNG0001_fix_all_applies_each_networks_own_stride_across_documents()
    {
        // Net0: conv2 on 14×14 with stride 2 → 1 (10×10). Net1: conv1 on 28×28, (28 − 5) / 3 + 1 → stride 1 (24×24).
        return FixTest.VerifyAsync(
            new[] { Broken, Small("{|LNG0001:Conv(6, 5, Stride = 3)|}") },
            new[] { LeNet5("Conv(16, 5, Stride = 1, Activation = Activation.ReLU)"), Small("Conv(6, 5, Stride = 1)") },
            "LNG0001.SmallerStride",
            title: null);
    }

    [Fact]
    public Task LNG0001_fix_all_with_both_axes_wrong_sets_rounding_once()
    {
        // 28×30 with stride 2: (28 − 5) / 2 + 1 = 12.5 and (30 − 5) / 2 + 1 = 13.5, so two LNG0001 on one attribute, both
        // offering Ceiling (→ 13 and 14): Fix All must set it once.
        const string before = """
            using LeNet.Gen;

            [Network(1, 28, 30)]
            [{|LNG0001:{|LNG0001:Conv(6, 5, Stride = 2)|}|}]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Wide { }
            """;
        const string after = """
            using LeNet.Gen;

            [Network(1, 28, 30, Rounding = ShapeRounding.Ceiling)]
            [Conv(6, 5, Stride = 2)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Wide { }
            """;
        return FixTest.VerifyAsync(new[] { before }, new[] { after }, "LNG0001.Ceiling", title: null);
    }

    private static string WithInputs(string fc1) => $$"""
        using LeNet.Gen;

        [Network(1, 32, 32)]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Max, 2)]
        [Conv(16, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Max, 2)]
        [{{fc1}}]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class Declared { }
        """;

    [Fact]
    public Task LNG0006_set_inputs_to_the_real_size() => FixTest.VerifyAsync(
        WithInputs("Dense(120, {|LNG0006:Inputs = 256|}, Activation = Activation.ReLU)"),
        WithInputs("Dense(120, Inputs = 400, Activation = Activation.ReLU)"),
        "LNG0006.SetInputs",
        "Set Inputs = 400 (fc1's real input size)");

    [Fact]
    public Task LNG0006_remove_inputs() => FixTest.VerifyAsync(
        WithInputs("Dense(120, Activation = Activation.ReLU, {|LNG0006:Inputs = 256|})"),
        WithInputs("Dense(120, Activation = Activation.ReLU)"),
        "LNG0006.RemoveInputs",
        "Remove Inputs = 256 from fc1");

    [Fact]
    public Task LNG0006_remove_inputs_in_the_middle_of_the_list() => FixTest.VerifyAsync(
        WithInputs("Dense(120, {|LNG0006:Inputs = 256|}, Activation = Activation.ReLU)"),
        WithInputs("Dense(120, Activation = Activation.ReLU)"),
        "LNG0006.RemoveInputs",
        "Remove Inputs = 256 from fc1");
}

using System.Threading.Tasks;
using Xunit;

namespace LeNet.Gen.CodeFixes.Tests;

/// <summary>LNG0007 and LNG0013 (add <c>partial</c>), LNG0010 (Softmax on the last layer), LNG0015 (remove a misplaced batch norm) and LNG0201 (Softmax head for Train).</summary>
public class StructureFixTests
{
    [Fact]
    public Task LNG0015_removes_a_batch_norm_that_follows_another() => FixTest.VerifyAsync(
        """
        using LeNet.Gen;

        [Network(1, 8, 8)]
        [Conv(4, 3)]
        [BatchNorm]
        [{|LNG0015:BatchNorm|}]
        [Dense(2, Activation = Activation.Softmax)]
        public partial class Net { }
        """,
        """
        using LeNet.Gen;

        [Network(1, 8, 8)]
        [Conv(4, 3)]
        [BatchNorm]
        [Dense(2, Activation = Activation.Softmax)]
        public partial class Net { }
        """,
        "LNG0015.Remove",
        "Remove [BatchNorm] (bn2)");

    [Fact]
    public Task LNG0015_removes_a_first_batch_norm_from_a_shared_attribute_list() => FixTest.VerifyAsync(
        """
        using LeNet.Gen;

        [Network(1, 8, 8), {|LNG0015:BatchNorm|}]
        [Conv(4, 3)]
        [Dense(2, Activation = Activation.Softmax)]
        public partial class Net { }
        """,
        """
        using LeNet.Gen;

        [Network(1, 8, 8)]
        [Conv(4, 3)]
        [Dense(2, Activation = Activation.Softmax)]
        public partial class Net { }
        """,
        "LNG0015.Remove",
        "Remove [BatchNorm] (bn1)");

    [Fact]
    public Task LNG0007_adds_partial_after_the_other_modifiers() => FixTest.VerifyAsync(
        """
        using LeNet.Gen;

        [Network(1, 28, 28)]
        [Dense(10, Activation = Activation.Softmax)]
        public sealed class {|LNG0007:TinyNet|} { }
        """,
        """
        using LeNet.Gen;

        [Network(1, 28, 28)]
        [Dense(10, Activation = Activation.Softmax)]
        public sealed partial class TinyNet { }
        """,
        "LNG0007.AddPartial",
        "Make 'TinyNet' partial");

    [Fact]
    public Task LNG0007_adds_partial_to_a_class_without_modifiers_keeping_its_indentation_and_comment() => FixTest.VerifyAsync(
        """
        using LeNet.Gen;

        namespace Demo
        {
            [Network(1, 28, 28)]
            [Dense(10, Activation = Activation.Softmax)]
            /* the network */ class {|LNG0007:TinyNet|} { }
        }
        """,
        """
        using LeNet.Gen;

        namespace Demo
        {
            [Network(1, 28, 28)]
            [Dense(10, Activation = Activation.Softmax)]
            /* the network */ partial class TinyNet { }
        }
        """,
        "LNG0007.AddPartial",
        "Make 'TinyNet' partial");

    [Fact]
    public Task LNG0007_fix_all_across_documents() => FixTest.VerifyAsync(
        new[]
        {
            "[LeNet.Gen.Network(1, 8, 8)]\n[LeNet.Gen.Dense(2)]\ninternal class {|LNG0007:First|} { }\n",
            "[LeNet.Gen.Network(1, 8, 8)]\n[LeNet.Gen.Dense(2)]\ninternal class {|LNG0007:Second|} { }\n[LeNet.Gen.Network(1, 8, 8)]\n[LeNet.Gen.Dense(2)]\ninternal class {|LNG0007:Third|} { }\n",
        },
        new[]
        {
            // Now partial, each network is read: a Dense(2) head without Softmax gets Predict only (warning LNG0201).
            "[LeNet.Gen.Network(1, 8, 8)]\n[{|LNG0201:LeNet.Gen.Dense(2)|}]\ninternal partial class First { }\n",
            "[LeNet.Gen.Network(1, 8, 8)]\n[{|LNG0201:LeNet.Gen.Dense(2)|}]\ninternal partial class Second { }\n[LeNet.Gen.Network(1, 8, 8)]\n[{|LNG0201:LeNet.Gen.Dense(2)|}]\ninternal partial class Third { }\n",
        },
        "LNG0007.AddPartial",
        title: null);

    [Fact]
    public Task LNG0013_makes_the_containing_type_partial() => FixTest.VerifyAsync(
        """
        using LeNet.Gen;

        public static class Outer
        {
            [Network(1, 28, 28)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class {|LNG0013:Inner|} { }
        }
        """,
        """
        using LeNet.Gen;

        public static partial class Outer
        {
            [Network(1, 28, 28)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Inner { }
        }
        """,
        "LNG0013.AddPartial",
        "Make 'Outer' partial");

    private static string Head(string fc1, string fc2) => $$"""
        using LeNet.Gen;

        [Network(1, 8, 8)]
        [Conv(4, 3, Activation = Activation.ReLU)]
        [{{fc1}}]
        [{{fc2}}]
        public partial class Head { }
        """;

    [Fact]
    public Task LNG0010_moves_softmax_to_a_last_layer_without_activation() => FixTest.VerifyAsync(
        Head("Dense(32, {|LNG0010:Activation = Activation.Softmax|})", "Dense(10)"),
        Head("Dense(32)", "Dense(10, Activation = Activation.Softmax)"),
        "LNG0010.MoveSoftmax",
        "Move Softmax from fc1 to fc2, the last layer");

    [Fact]
    public Task LNG0010_swaps_with_the_last_layers_activation() => FixTest.VerifyAsync(
        Head("Dense(32, {|LNG0010:Activation = Activation.Softmax|})", "Dense(10, Activation = Activation.ReLU)"),
        Head("Dense(32, Activation = Activation.ReLU)", "Dense(10, Activation = Activation.Softmax)"),
        "LNG0010.MoveSoftmax",
        "Move Softmax from fc1 to fc2, the last layer (fc1 gets ReLU)");

    [Fact]
    public Task LNG0010_removes_a_second_softmax_when_the_last_layer_has_one() => FixTest.VerifyAsync(
        Head("Dense(32, {|LNG0010:Activation = Activation.Softmax|})", "Dense(10, Activation = Activation.Softmax)"),
        Head("Dense(32)", "Dense(10, Activation = Activation.Softmax)"),
        "LNG0010.RemoveSoftmax",
        "Remove Softmax from fc1 (fc2, the last layer, has it)");

    [Fact]
    public async Task LNG0010_has_no_fix_when_the_network_ends_with_pooling()
    {
        // A pooling layer has no activation to move Softmax to.
        const string source = """
            using LeNet.Gen;

            [Network(1, 8, 8)]
            [Conv(4, 3, Activation = Activation.Softmax)]
            [Pool(PoolKind.Max, 2)]
            public partial class PoolLast { }
            """;

        Assert.Empty(await FixTest.ActionsAsync(source, "LNG0010"));
    }

    [Fact]
    public Task LNG0201_sets_softmax_on_the_last_layer() => FixTest.VerifyAsync(
        Head("Dense(32, Activation = Activation.ReLU)", "Dense(10, {|LNG0201:Activation = Activation.Sigmoid|})"),
        Head("Dense(32, Activation = Activation.ReLU)", "Dense(10, Activation = Activation.Softmax)"),
        "LNG0201.UseSoftmax",
        "Set Activation = Softmax on fc2 (generates Train)");
}

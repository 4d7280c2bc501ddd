using System.Linq;
using System.Text.RegularExpressions;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The plan of strided convolutions: space-to-depth onto the stride-1 wide kernels when the outputs fill a vector, the
/// scalar code otherwise, with the shapes worked out by hand.
/// </summary>
public class StridedConvTests
{
    // The runtime tests' StridedWide: 3×32×32 → (5×5, stride 2, padding 2) 16×16×16 → (3×3, stride 2, padding 1) 32×8×8.
    private static NetworkSpec StridedWide() => Network(
        3, 32, 32, RoundingMode.Floor,
        Conv(16, 5, stride: 2, padding: 2, activation: ActivationKind.Tanh),
        Conv(32, 3, stride: 2, padding: 1, activation: ActivationKind.ReLU),
        Pool(PoolingKind.Max, 2),
        Dense(10, ActivationKind.Softmax));

    [Fact]
    public void Strided_convolutions_that_fill_a_vector_are_stride_1_convolutions_of_their_phase_planes()
    {
        var plan = ShapeInference.Infer(StridedWide()).Plan!;
        var conv1 = new ConvCode(new LayerCode(plan, 0));
        var conv2 = new ConvCode(new LayerCode(plan, 1));

        // conv1: 3 channels × 4 phases = 12 planes of (16 + 3 − 1)² = 18×18, 5×5 → 3×3 sub-kernels; padded input 36×36.
        Assert.True(conv1.IsSpaceToDepth);
        Assert.Equal(new WideConv(12, 18, 18, 3, 16, 16, 16), conv1.ForwardWide);
        Assert.Equal((36, 36), (conv1.WindowHeight, conv1.WindowWidth));
        // conv2: 16 × 4 = 64 planes of 9×9, 3×3 → 2×2; its input gradient convolves the output gradient padded to 10×10.
        Assert.True(conv2.IsSpaceToDepth);
        Assert.Equal(new WideConv(64, 9, 9, 2, 32, 8, 8), conv2.ForwardWide);
        Assert.Equal(new WideConv(32, 10, 10, 2, 64, 9, 9), conv2.InputGradientWide);
        Assert.Equal((18, 18), (conv2.WindowHeight, conv2.WindowWidth));
        Assert.Equal(16, conv2.PhaseTaps); // 4 phases × 2×2 taps per channel, 9 of them the kernel's
    }

    [Fact]
    public void The_generated_code_calls_the_runtime_with_the_shapes_as_literals_and_says_which_kernel_it_uses()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(StridedWide()).Plan!);

        Assert.Contains("// Vector code, stride 2: the input split into 4 phase planes per channel (64×9×9), 3×3 kernels → 2×2 sub-kernels (7 of 16 taps zero), then the stride-1 wide kernel.", source);
        Assert.Contains("// Vector code, stride 2: the input split into 4 phase planes per channel (12×18×18), 5×5 kernels → 3×3 sub-kernels (11 of 36 taps zero), then the stride-1 wide kernel.", source);
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.Split(input, 16, 18, 18, 2, workspace.Conv2Phases, 9, 9);", source);
        // The forward kernel reads the 3×3 kernels as sub-kernels in place; the backward pass turns the rearranged sub-kernels,
        // once per training step in PrepareKernels and, where that has not run (the batch-norm stages), per example.
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.RearrangeWeights(parameters.Slice(1216, 4608), 32, 16, 3, 2, workspace.Conv2PhaseWeights);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.RearrangeWeights(weight, 32, 16, 3, 2, workspace.Conv2PhaseWeights);", source);
        Assert.Contains("ForwardWideVector256(workspace.Conv2Phases, weight, bias, workspace.Conv2Wide);", source);
        Assert.DoesNotContain("Conv1PhaseWeights", source); // the first layer turns no kernels
        // 3×3 taps over stride 2: kernel rows and columns 2·i + pa < 3, so phases with pa (pb) = 1 have one row (column) fewer,
        // and the kernel skips the 7 taps the sub-kernels would hold as zeros.
        Assert.Contains("int rows = pa < 1 ? 2 : 1; // kernel rows 2·i + pa inside the 3×3 kernel", source);
        Assert.Contains("if (pb < 1)", source);
        Assert.Contains("ref float t = ref At(ref w, (((f * 16) + ch) * 9) + (((2 * i) + pa) * 3) + pb); // kernel row 2·i + pa of filter f, channel ch, from column pb", source);
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.FoldWeightGradient(workspace.Conv2PhaseWeightGradient, 32, 16, 3, 2, weightGradient);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.Merge(workspace.Conv2PhaseGradient, 16, 2, 9, 9, inputGradient, 18, 18);", source);
        // conv1 is the first layer: no input gradient, so no merge.
        Assert.DoesNotContain("Conv1PhaseGradient", source);
        Assert.Contains("global::LeNet.Gen.Runtime.SpaceToDepth.FoldWeightGradient(workspace.Conv1PhaseWeightGradient, 16, 3, 5, 2, weightGradient);", source);
    }

    [Fact]
    public void The_phase_buffers_have_the_sizes_worked_out_by_hand()
    {
        var plan = ShapeInference.Infer(StridedWide()).Plan!;
        var conv2 = new LayerCode(plan, 1);
        string source = NetworkEmitter.Emit(plan);

        // conv2's window reads its padded input directly (no vector loads past it): 16×18×18, no more.
        Assert.Contains("Conv2PaddedInput = new float[5184]", source);
        Assert.Equal(0, conv2.Workspace.SourceLength);
        // 32 filters × 64 planes × 2×2 sub-kernel taps, for the sub-kernels, their gradient and their rotated copy.
        Assert.Contains("Conv2PhaseWeights = training ? new float[8192]", source);
        Assert.Contains("Conv2PhaseWeightGradient = training ? new float[8192]", source);
        Assert.Contains("Conv2RotatedWeights = training ? new float[8192]", source);
        // The gradient of the 64 planes of 9×9.
        Assert.Contains("Conv2PhaseGradient = training ? new float[5184]", source);
        // The planes, with room for the vector loads past the last: AVX-512 tiles 16 filters × 1 vector on an 80-wide plane
        // (AVX2 4 × 3 on 72), so the loads reach (64 − 1)·81 + 80 − 1 + 1·9 + 1 + 1 = 5193 values, more than 64 × 81 = 5184.
        Assert.Contains("Conv2Phases = new float[5193]; // conv2 phase planes: 64×9×9", source);
        Assert.Equal(
            new[] { "Conv2Phases", "Conv2PhaseWeightGradient", "Conv2Wide", "Conv2TransposedGradient", "Conv2PaddedGradient", "Conv2PhaseWeights", "Conv2RotatedWeights", "Conv2WideInputGradient", "Conv2PhaseGradient" },
            conv2.Workspace.Scratch.Select(b => b.Name));
    }

    [Theory]
    [InlineData("PaddedStrided")]
    [InlineData("CeilingAverage")]
    [InlineData("BatchNormPadded")]
    [InlineData("StridedCeiling")]
    public void The_strided_convolutions_of_the_runtime_test_networks_take_the_vector_code(string name)
    {
        // The networks of tests/LeNet.Gen.Tests/Generated/TestNetworks.cs, so that their reference-agreement tests check
        // the space-to-depth code (and the scalar code in the instruction-set tests' child process without AVX2).
        var (spec, layer, expected) = name switch
        {
            // 4×16×16, 4×4 stride 2 padding 1 → 6×8×8: 16 planes of 9×9.
            "PaddedStrided" => (Network(1, 16, 16, Conv(4, 3, padding: 1, activation: ActivationKind.ReLU), Conv(6, 4, stride: 2, padding: 1, activation: ActivationKind.Sigmoid), Pool(PoolingKind.Max, 2), Dense(10, ActivationKind.Softmax)),
                1, new WideConv(16, 9, 9, 2, 6, 8, 8)),
            // The first layer, 1×15×15, 4×4 stride 2, Ceiling → 3×7×7: 4 planes of 8×8.
            "CeilingAverage" => (Network(1, 15, 15, RoundingMode.Ceiling, Conv(3, 4, stride: 2, activation: ActivationKind.Tanh), Pool(PoolingKind.Average, 2), Dense(4, ActivationKind.Softmax)),
                0, new WideConv(4, 8, 8, 2, 3, 7, 7)),
            // 5×9×9 unpadded, 3×3 stride 2 → 7×4×4: 20 planes of 5×5 (the last plane row and column lie past the input).
            "BatchNormPadded" => (Network(3, 9, 9, Conv(5, 3, padding: 1, activation: ActivationKind.ReLU), new BatchNormSpec(0, 1e-5, 0.1), Conv(7, 3, stride: 2), new BatchNormSpec(0, 1e-5, 0.5), new GlobalAveragePoolSpec(0), Dense(6, ActivationKind.Softmax)),
                2, new WideConv(20, 5, 5, 2, 7, 4, 4)),
            // 4×18×18, 4×4 stride 3 padding 1, Ceiling → 8×7×7: 36 planes of 8×8.
            _ => (Network(2, 20, 20, RoundingMode.Ceiling, Conv(4, 3, activation: ActivationKind.ReLU), Conv(8, 4, stride: 3, padding: 1, activation: ActivationKind.Tanh), Pool(PoolingKind.Average, 2), Dense(5, ActivationKind.Softmax)),
                1, new WideConv(36, 8, 8, 2, 8, 7, 7)),
        };
        var conv = new ConvCode(new LayerCode(ShapeInference.Infer(spec).Plan!, layer));

        Assert.True(conv.IsSpaceToDepth);
        Assert.Equal(expected, conv.ForwardWide);
    }

    [Theory]
    [InlineData(1, 5, 5, 3, 2, 0)] // 2×2 outputs: 1·3 + 2 = 5 wide positions
    [InlineData(2, 9, 9, 3, 3, 0)] // 3×3 outputs on 3×3 planes: 2·3 + 3 = 9
    public void Strided_convolutions_too_small_for_a_vector_keep_the_scalar_code(int channels, int height, int width, int kernel, int stride, int padding)
    {
        var plan = ShapeInference.Infer(Network(channels, height, width, Conv(4, kernel, stride: stride, padding: padding, activation: ActivationKind.ReLU), Dense(3, ActivationKind.Softmax))).Plan!;
        var conv = new ConvCode(new LayerCode(plan, 0));
        string source = NetworkEmitter.Emit(plan);

        Assert.False(conv.IsVectorized);
        Assert.False(conv.IsSpaceToDepth);
        Assert.Null(conv.SpaceToDepthSummary);
        Assert.DoesNotContain("SpaceToDepth", source);
        Assert.DoesNotContain("Phase", source);
    }

    [Fact]
    public void Stride_1_convolutions_are_planned_as_before()
    {
        var plan = ShapeInference.Infer(LeNet5()).Plan!;
        var conv1 = new ConvCode(new LayerCode(plan, 0));

        Assert.False(conv1.IsSpaceToDepth);
        Assert.Equal(new WideConv(1, 32, 32, 5, 6, 28, 28), conv1.ForwardWide);
        Assert.Equal(conv1.WideSourceLength, conv1.SourceLength);
        Assert.DoesNotContain("SpaceToDepth", NetworkEmitter.Emit(plan));
    }

    [Fact]
    public void Every_phase_buffer_the_workspace_allocates_is_used()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(StridedWide()).Plan!);

        var declared = Regex.Matches(source, @"public readonly float\[\] (\w+)").Cast<Match>().Select(m => m.Groups[1].Value).ToArray();
        Assert.Contains("Conv1Phases", declared);
        Assert.Contains("Conv2PhaseGradient", declared);
        foreach (var name in declared)
        {
            Assert.True(source.Contains("workspace." + name), $"the workspace allocates {name}, which no kernel reads or writes");
        }
    }
}

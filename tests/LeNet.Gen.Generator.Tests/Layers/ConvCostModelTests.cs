using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The convolution cost model: its estimates worked out by hand from its rates, the choices they lead to (none, batch
/// calls only, every call), and how the generated code states and follows the choice.
/// </summary>
public class ConvCostModelTests
{
    [Fact]
    public void The_estimates_follow_the_rates_and_decide_where_Winograd_runs()
    {
        // vgg-cifar's conv2, 32 → 64 on 16×16, 64 tiles: direct 9·2,048·256 / 38 = 124,174 ns; Winograd's products
        // 16·2,048·64 / 38 = 55,188 ns, transforms 8·32·64 + 2.7·64·64 = 27,443 ns, weights 5·2,048 = 10,240 ns:
        // 82.6 µs in a batch, 92.9 µs alone, both under 0.9 × 124.2: every call.
        var conv2 = ConvCostModel.Winograd(3, 1, vectorized: true, 32, 64, 16, 16)!;
        Assert.True(conv2.SingleImages);
        Assert.Contains("estimated 82.6 µs an image in a batch, 92.9 µs alone (weight transform included), against 124.2 µs for the direct kernels, so every call uses it", conv2.Reason);

        // 32 → 64 on 8×8, 16 tiles: direct 31.0 µs; batch 13.8 + 4.1 + 2.8 = 20.7 µs; alone + 10.2 = 30.9 µs > 27.9: batch only.
        var small = ConvCostModel.Winograd(3, 1, vectorized: true, 32, 64, 8, 8)!;
        Assert.False(small.SingleImages);
        Assert.EndsWith("so batch calls use it and single images keep the direct kernels", small.Reason);

        // vgg-cifar's conv1 (3 channels): the transforms cost more than the products save.
        Assert.Null(ConvCostModel.Winograd(3, 1, vectorized: true, 3, 32, 32, 32));
        // Not 3×3, not stride 1, or no vector kernels: never.
        Assert.Null(ConvCostModel.Winograd(5, 1, vectorized: true, 64, 64, 16, 16));
        Assert.Null(ConvCostModel.Winograd(3, 2, vectorized: true, 64, 64, 16, 16));
        Assert.Null(ConvCostModel.Winograd(3, 1, vectorized: false, 64, 64, 16, 16));
    }

    // 32×16×16 → conv1 32 (every call) → conv2 32, stride 2 → 8×8 (direct) → conv3 64 (batch calls only) → conv4 16, 5×5 (direct).
    private static NetworkSpec Mixed() => Network(
        32, 16, 16, RoundingMode.Floor,
        Conv(32, 3, stride: 1, padding: 1, activation: ActivationKind.Tanh),
        Conv(32, 3, stride: 2, padding: 1, activation: ActivationKind.ReLU),
        Conv(64, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
        Conv(16, 5, stride: 1, padding: 2, activation: ActivationKind.ReLU),
        Dense(10, ActivationKind.Softmax));

    [Fact]
    public void The_generated_code_states_each_choice_and_sets_the_kernels_up_for_the_calls_that_use_them()
    {
        var plan = ShapeInference.Infer(Mixed()).Plan!;
        string source = NetworkEmitter.Emit(plan);

        // conv1: 32 → 32 on 16×16 (padded input 18×18), every call; tanh applied after the kernel.
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(input, 32, 18, 18, 0, workspace.Conv1WinogradWeights!, bias, 32, relu: false, output, workspace.Conv1WinogradScratch!);", source);
        Assert.Contains("workspace.Conv1UsesWinograd = vectors;", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.TransformWeights(parameters.Slice(0, 9216), 32, 32, workspace.Conv1WinogradWeights);", source);
        // conv3: 32 → 64 on 8×8 (padded 10×10), batch calls only.
        Assert.Contains("workspace.Conv3UsesWinograd = vectors && batch;", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(input, 32, 10, 10, 0, workspace.Conv3WinogradWeights!, bias, 64, relu: true, output, workspace.Conv3WinogradScratch!);", source);
        Assert.Contains("// Cost model: Winograd F(2×2, 3×3), 16 products of 64×32 by 32×16 tiles: estimated 20.7 µs an image in a batch, 30.9 µs alone (weight transform included), against 31.0 µs for the direct kernels, so batch calls use it and single images keep the direct kernels.", source);
        Assert.Contains("bool vectors = global::LeNet.Gen.Runtime.Simd.Use256;", source);
        Assert.Contains("public static void PrepareKernels(global::System.ReadOnlySpan<float> parameters, Workspace workspace, bool batch, bool training)", source);

        // In training, conv3's input gradient (64 → 32 channels on 10×10, its padded input) also gets Winograd in batch
        // steps, on the turned kernels; conv1 is the first layer and has no input gradient.
        Assert.Contains("workspace.Conv3UsesWinogradBackward = vectors && batch && training;", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.TransformWeights(workspace.Conv3RotatedWeights, 32, 64, workspace.Conv3WinogradBackwardWeights);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(outputGradient, 64, 8, 8, 2, workspace.Conv3WinogradBackwardWeights!, default, 32, relu: false, inputGradient, workspace.Conv3WinogradBackwardScratch!);", source);
        Assert.DoesNotContain("Conv1UsesWinogradBackward", source);
        Assert.DoesNotContain("Conv2Winograd", source);
        Assert.DoesNotContain("Conv4Winograd", source);
    }

    [Theory]
    [InlineData(8, 3, 16, 4)] // 64 filters, 3×3, AVX2: 4 × 3 accumulators + 3 broadcasts + 1 load = 16 registers
    [InlineData(2, 5, 16, 2)] // LeNet-5's conv2 (16 filters, 5×5), AVX2: 10 + 5 + 1 = 16
    [InlineData(2, 7, 16, 1)] // 7×7: two blocks would need 22 registers
    [InlineData(6, 3, 16, 3)] // 48 filters: 4 does not divide 6 vectors, 3 does
    [InlineData(8, 3, 32, 8)] // 128 filters, 3×3, AVX-512: 24 + 3 + 1 = 28 of 32
    [InlineData(1, 3, 32, 1)]
    public void The_weight_gradient_sums_as_many_filter_vectors_at_once_as_the_registers_hold(int vectors, int kernel, int registers, int expected)
    {
        var isa = registers == 16 ? VectorIsa.Avx2 : VectorIsa.Avx512;
        Assert.Equal(expected, ConvVectorKernels.FilterBlocks(vectors, kernel, isa));
    }

    [Fact]
    public void A_network_without_such_layers_has_no_prepared_kernels()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32, RoundingMode.Floor,
            Conv(6, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.DoesNotContain("PrepareKernels", source);
        Assert.DoesNotContain("UsesWinograd", source);
    }
}

using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The convolution cost model's choice of Winograd batch kernels: exactly the 3×3, stride-1, vectorised layers with at
/// least 16 channels and 16 filters, its reason in the generated comment, and the calls with the shapes as literals.
/// </summary>
public class ConvCostModelTests
{
    // 3×18×18 → conv1 16 (3 channels: no) → conv2 16 (yes) → conv3 15 (yes: 16 channels, but 15 filters: no)
    // → conv4 16 5×5 (no) → conv5 16 stride 2 (no: 18×18 → 8×8) → conv6 16 (yes, no padding: 8×8 → 6×6).
    private static NetworkSpec Mixed() => Network(
        3, 18, 18, RoundingMode.Floor,
        Conv(16, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
        Conv(16, 3, stride: 1, padding: 1, activation: ActivationKind.Tanh),
        Conv(15, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
        Conv(16, 5, stride: 1, padding: 2, activation: ActivationKind.ReLU),
        Conv(16, 3, stride: 2, padding: 0, activation: ActivationKind.ReLU),
        Conv(16, 3, stride: 1, padding: 0, activation: ActivationKind.None),
        Dense(10, ActivationKind.Softmax));

    [Fact]
    public void Winograd_goes_to_the_3x3_stride_1_layers_with_16_channels_and_filters_or_more()
    {
        var plan = ShapeInference.Infer(Mixed()).Plan!;
        bool[] chosen = new bool[6];
        for (int i = 0; i < 6; i++)
        {
            chosen[i] = new ConvCode(new LayerCode(plan, i)).WinogradReason is not null;
        }

        Assert.Equal(new[] { false, true, false, false, false, true }, chosen);
        Assert.Null(ConvCostModel.WinogradReason(3, 1, vectorized: false, 64, 64, 8, 8));
        Assert.NotNull(ConvCostModel.WinogradReason(3, 1, vectorized: true, 16, 16, 1, 1));
    }

    [Fact]
    public void The_generated_forward_pass_states_the_choice_and_calls_the_runtime_with_literal_shapes()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Mixed()).Plan!);

        // conv2: 16 channels of 20×20 (padded) → 16×18×18, 9×9 = 81 tiles; tanh is applied after the kernel.
        Assert.Contains("// Cost model: Winograd F(2×2, 3×3) in batch calls: 81 tiles of 2×2, 16 products of 16×16 by 16×81, 2.25× fewer multiply-adds than the window; its weight transform is paid once per call and thread, so single images keep the direct kernels.", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(input, 16, 20, 20, 0, workspace.Conv2WinogradWeights!, bias, 16, relu: false, output, workspace.Conv2WinogradScratch!);", source);
        // conv6: 16×8×8 unpadded → 16×6×6, 9 tiles.
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(input, 16, 8, 8, 0, workspace.Conv6WinogradWeights!, bias, 16, relu: false, output, workspace.Conv6WinogradScratch!);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.TransformWeights(parameters.Slice(448, 2304), 16, 16, workspace.Conv2WinogradWeights);", source);
        Assert.Contains("workspace.BatchKernels = batch && global::LeNet.Gen.Runtime.Simd.Use256;", source);
        Assert.Contains("public static void BeginInference(global::System.ReadOnlySpan<float> parameters, Workspace workspace, bool batch)", source);
        Assert.DoesNotContain("Conv1Winograd", source);
        Assert.DoesNotContain("Conv3Winograd", source);
        Assert.DoesNotContain("Conv4Winograd", source);
        Assert.DoesNotContain("Conv5Winograd", source);
    }

    [Fact]
    public void A_network_without_such_layers_has_no_batch_kernels()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32, RoundingMode.Floor,
            Conv(6, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.DoesNotContain("BeginInference", source);
        Assert.DoesNotContain("BatchKernels", source);
    }
}

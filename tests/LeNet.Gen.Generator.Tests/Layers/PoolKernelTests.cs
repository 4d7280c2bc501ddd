using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>Which runtime kernel a pooling layer's forward pass calls, and the call the generated code makes.</summary>
public class PoolKernelTests
{
    [Theory]
    // input side, window, stride, rounding (0 exact, 1 floor, 2 ceiling) → 2×2 kernel, window kernel
    [InlineData(28, 2, 2, 0, true, false)]     // LeNet-5's pools
    [InlineData(29, 3, 2, 0, false, true)]     // 14×14: every window inside
    [InlineData(12, 3, 1, 0, false, true)]
    [InlineData(12, 3, 3, 0, false, true)]
    [InlineData(70, 4, 4, 1, false, true)]     // 17: the last two rows and columns in no window
    [InlineData(25, 5, 5, 0, false, false)]    // stride 5: past the kernel's 4
    [InlineData(10, 3, 2, 2, false, false)]    // 5×5, the last windows hang over the edge
    [InlineData(9, 2, 2, 2, false, false)]
    public void The_kernel_follows_the_window_the_stride_and_the_edge(int side, int window, int stride, int rounding, bool pairs, bool windows)
    {
        var mode = rounding switch { 0 => RoundingMode.Exact, 1 => RoundingMode.Floor, _ => RoundingMode.Ceiling };
        var plan = ShapeInference.Infer(Network(2, side, side, mode, Pool(PoolingKind.Max, window, stride), Dense(3, ActivationKind.Softmax))).Plan!;
        var code = new LayerCode(plan, 0);
        var pool = (PoolSpec)plan.Layers[0].Spec;

        Assert.Equal(pairs, PoolLayer.UsesVectorKernel(code, pool));
        Assert.Equal(windows, PoolLayer.UsesWindowKernel(code, pool));
    }

    [Fact]
    public void A_3x3_stride_2_pool_calls_the_window_kernel_with_its_shapes_on_AVX2_machines_and_keeps_its_loops()
    {
        var plan = ShapeInference.Infer(Network(
            3, 29, 29,
            Conv(4, 3, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 3, 2),
            Dense(5, ActivationKind.Softmax))).Plan!;
        string source = NetworkEmitter.Emit(plan);

        // conv1 gives 4×27×27; pool1, (27 − 3) / 2 + 1 = 13.
        Assert.Contains("global::LeNet.Gen.Runtime.Pooling.Forward(input, output, 4, 27, 27, 13, 13, 3, 2, average: true);", source);
        Assert.Contains("// Kernel: 3×3 windows with stride 2: the runtime's kernel computes 16 outputs of a row at once with AVX-512", source);
        Assert.Contains("sum += i[0] + i[1] + i[2];", source); // the scalar definition stays, for machines without AVX2
    }
}

using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The dense layer's one cost-model choice: which layers' single-image calls read their weights packed by groups of four
/// rows (<see cref="DenseLayer.PacksRows"/>), and how the generated code sets the packing up and uses it.
/// </summary>
public class DenseCostModelTests
{
    [Theory]
    // LeNet-5: fc1 120 × 400 = 48,000 weights (188 KB) and fc2 84 × 120 = 10,080 (40 KB) pack; fc3 10 × 84 = 840 stays in L1.
    [InlineData(400, 120, true)]
    [InlineData(120, 84, true)]
    [InlineData(84, 10, false)]
    // The bounds: 4,096 and 262,144 weights (16 KB and 1 MB) pack, one fewer or one more does not.
    [InlineData(4096, 1, false)]
    [InlineData(1024, 4, true)]
    [InlineData(4095, 1, false)]
    [InlineData(65536, 4, true)]
    [InlineData(65537, 4, false)]
    // vgg-cifar's fc1, 256 × 2,048 = 524,288 weights (2 MB): memory bandwidth limits it, packed or not.
    [InlineData(2048, 256, false)]
    // Three rows fill no group of four; 15 columns fill no 16-lane vector.
    [InlineData(2000, 3, false)]
    [InlineData(15, 1000, false)]
    public void Layers_pack_when_their_weights_outgrow_the_level_1_cache_but_not_the_level_2(int inputs, int units, bool packs)
    {
        var plan = ShapeInference.Infer(Network(1, 1, inputs, Dense(units, ActivationKind.ReLU), Dense(2, ActivationKind.Softmax))).Plan!;

        Assert.Equal(packs, DenseLayer.PacksRows(new LayerCode(plan, 0)));
    }

    [Fact]
    public void Lenet5_packs_fc1_and_fc2_once_per_parameter_version_for_single_images_and_reads_the_packing_only_then()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(LeNet5()).Plan!);

        Assert.Contains("workspace.Fc1UsesPackedRows = !training && !batch && kept && vectors;", source);
        Assert.Contains("if (!global::LeNet.Gen.Runtime.PreparedWeights.Unchanged(parameters.Slice(2572, 48000), ref workspace.Fc1PackedSource))", source);
        Assert.Contains("global::LeNet.Gen.Runtime.PackedRows.Pack(parameters.Slice(2572, 48000), 120, 400, workspace.Fc1PackedWeights);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.PackedRows.MatrixVector(workspace.Fc1PackedWeights!, input, bias, output, 120, 400);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.PackedRows.Pack(parameters.Slice(50692, 10080), 84, 120, workspace.Fc2PackedWeights);", source);
        Assert.Contains("// Cost model: a single image reads each of the 120×400 weights (188 KB, beyond the level-1 cache) once: packed by", source);
        Assert.DoesNotContain("Fc3UsesPackedRows", source);

        // Outside the packed branch, and in fc3, the weights are read where they are.
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.MatrixVector(weight, input, bias, output, 120, 400);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.MatrixVector(weight, input, bias, output, 10, 84);", source);
        Assert.Single(source.Split('\n'), line => line.Contains("PackedRows.MatrixVector(workspace.Fc1PackedWeights"));
    }
}

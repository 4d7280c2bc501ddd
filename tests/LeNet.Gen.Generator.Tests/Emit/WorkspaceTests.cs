using System.Linq;
using System.Text.RegularExpressions;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Emit;

/// <summary>
/// The buffers of the generated workspace: sized for what the kernels read, and only those the chosen kernels use.
/// </summary>
public class WorkspaceTests
{
    public static TheoryData<string> Networks => new() { "lenet5", "padded", "vgg", "tanh" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Every_buffer_the_workspace_allocates_is_used_by_the_generated_code(string network)
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Spec(network)).Plan!);

        var declared = Regex.Matches(source, @"public readonly float\[\] (\w+)").Cast<Match>().Select(m => m.Groups[1].Value).ToArray();

        Assert.NotEmpty(declared);
        foreach (var name in declared)
        {
            Assert.True(source.Contains("workspace." + name), $"{network}: the workspace allocates {name}, which no kernel reads or writes");
        }
    }

    [Fact]
    public void Lenet5_picks_one_weight_gradient_kernel_per_convolution_and_allocates_only_its_buffer()
    {
        var plan = ShapeInference.Infer(LeNet5()).Plan!;
        var conv1 = new LayerCode(plan, 0);
        var conv2 = new LayerCode(plan, 2);

        // 6 filters fill no vector: dot products over the wide plane; 16 filters fill 8 and 16 lanes: one filter per lane.
        Assert.True(conv1.UsesWideGradient);
        Assert.False(conv1.UsesTransposedGradient);
        Assert.False(conv2.UsesWideGradient);
        Assert.True(conv2.UsesTransposedGradient);

        string source = NetworkEmitter.Emit(plan);
        Assert.DoesNotContain("Conv1TransposedGradient", source);
        Assert.DoesNotContain("Conv2WideGradient", source);
    }

    [Fact]
    public void Lenet5_buffers_have_the_sizes_worked_out_by_hand()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(LeNet5()).Plan!);

        // conv1 reads a copy of the input with room for the last vector loads: 32×32 + 4 (see WideConvTests).
        Assert.Contains("Conv1Input = new float[1028]", source);
        // The widest plane (896 for conv1, 144 for conv2) times the filters.
        Assert.Contains("Conv1Wide = new float[5376]", source);
        Assert.Contains("Conv2Wide = new float[2304]", source);
        // pool1's output is what conv2's vector loads read: (6 − 1)·196 + 144 − 1 + 4·14 + 4 + 1 = 1184 ≥ 6·14·14.
        Assert.Contains("Pool1Output = new float[1184]", source);
        Assert.Contains("Pool1OutputGradient = training ? new float[1176]", source);
        Assert.Contains("Fc3Output = new float[10]", source);
    }

    private static NetworkSpec Spec(string name) => name switch
    {
        "lenet5" => LeNet5(),
        "padded" => Network(3, 15, 15, RoundingMode.Ceiling,
            Conv(4, 3, padding: 1, activation: ActivationKind.Tanh), Pool(PoolingKind.Max, 2), Conv(6, 3, stride: 2, activation: ActivationKind.Sigmoid), Dense(5, ActivationKind.Softmax)),
        "vgg" => Network(3, 32, 32,
            Conv(32, 3, padding: 1, activation: ActivationKind.ReLU), Pool(PoolingKind.Max, 2),
            Conv(64, 3, padding: 1, activation: ActivationKind.ReLU), Pool(PoolingKind.Max, 2),
            Conv(128, 3, padding: 1, activation: ActivationKind.ReLU), Pool(PoolingKind.Max, 2),
            Dense(256, ActivationKind.ReLU), Dense(10, ActivationKind.Softmax)),
        _ => Network(1, 20, 20,
            Conv(8, 5, activation: ActivationKind.Tanh), Conv(12, 3, activation: ActivationKind.Sigmoid), Pool(PoolingKind.Average, 2), Dense(10, ActivationKind.Softmax)),
    };
}

using System.Linq;
using System.Text.RegularExpressions;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
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
        var conv1 = new ConvCode(new LayerCode(plan, 0));
        var conv2 = new ConvCode(new LayerCode(plan, 2));

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

        // conv1's forward kernels read the caller's input in place (their last tile ends at the last output); its weight
        // gradient reads a copy with room for the last vector loads, 32×32 + 4 (see WideConvTests), which only training allocates.
        Assert.Contains("Conv1Input = training ? new float[1028]", source);
        Assert.Contains("Conv1Forward(input, ", source);
        // The widest plane (896 for conv1, 144 for conv2) times the filters.
        Assert.Contains("Conv1Wide = new float[5376]", source);
        Assert.Contains("Conv2Wide = new float[2304]", source);
        // pool1's output is what conv2's vector loads read: (6 − 1)·196 + 144 − 1 + 4·14 + 4 + 1 = 1184 ≥ 6·14·14.
        Assert.Contains("Pool1Output = new float[1184]", source);
        Assert.Contains("Pool1OutputGradient = training ? new float[1176]", source);
        Assert.Contains("Fc3Output = new float[10]", source);
    }

    [Fact]
    public void The_padded_network_declares_the_written_buffers_and_exactly_what_its_convolutions_declare_in_layer_order()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Spec("padded")).Plan!);

        // Worked out by hand. conv1 (3×15×15, padding 1, stride 1, 4 filters) reads a padded copy, 3×17×17, and has vector
        // kernels: its wide output and, 4 filters filling no vector, the wide-row weight gradient; as the first layer it has
        // no input gradient. pool1 (Ceiling) gives 4×8×8. conv2 (stride 2, 6 filters → 6×4×4) reads a padded copy (9×9 for
        // its last Ceiling window) whose gradient it crops back, and has vector kernels on its phase planes: 16 planes of
        // 5×5 with 2×2 sub-kernels, its wide output, and (6 filters filling no vector) the wide-row weight gradient; in
        // training the sub-kernels' gradient and the buffers of the input gradient, which include the sub-kernels (the forward kernel reads the
        // layer's own kernels as sub-kernels). fc1 is the softmax head: logits, then
        // probabilities.
        var always = Regex.Matches(source, @"public readonly float\[\] (\w+) = new").Cast<Match>().Select(m => m.Groups[1].Value);
        var trainingOnly = Regex.Matches(source, @"public readonly float\[\] (\w+);").Cast<Match>().Select(m => m.Groups[1].Value);
        Assert.Equal(new[] { "Conv1PaddedInput", "Conv1Output", "Conv1Wide", "Pool1Output", "Conv2PaddedInput", "Conv2Output", "Conv2Phases", "Conv2Wide", "Logits", "Fc1Output" }, always);
        Assert.Equal(
            new[]
            {
                "Conv1OutputGradient", "Conv1WideGradient", "Pool1OutputGradient", "Conv2PaddedInputGradient", "Conv2OutputGradient",
                "Conv2PhaseWeightGradient", "Conv2WideGradient", "Conv2PaddedGradient", "Conv2PhaseWeights", "Conv2RotatedWeights", "Conv2WideInputGradient", "Conv2PhaseGradient", "LogitsGradient",
            },
            trainingOnly);
        Assert.Contains("Conv2PaddedInput = new float[324]; // conv2 input, padded: 4×9×9", source);
        Assert.Contains("Conv2PaddedInputGradient = training ? new float[324]", source);
        // 6 filters × 16 planes × 2×2 taps; the planes' gradient, 16 × 5 × 5; the planes with room for AVX-512's loads
        // (6 filters × 2 vectors on a 32-wide plane): (16 − 1)·25 + 32 − 1 + 1·5 + 1 + 1 = 413.
        Assert.Contains("Conv2Phases = new float[413]; // conv2 phase planes: 16×5×5", source);
        Assert.Contains("Conv2PhaseWeights = training ? new float[384]", source); // the sub-kernels, turned for the input gradient
        Assert.Contains("Conv2PhaseGradient = training ? new float[400]", source);
    }

    [Fact]
    public void Only_the_convolution_declares_buffers_and_vector_kernels_of_its_own()
    {
        var plan = ShapeInference.Infer(Network(
            1, 12, 12,
            Conv(8, 3, activation: ActivationKind.ReLU),
            new BatchNormSpec(0, 1e-5, 0.1),
            Pool(PoolingKind.Max, 2),
            new DropoutSpec(0, 0.5),
            new GlobalAveragePoolSpec(0),
            Dense(4, ActivationKind.Softmax))).Plan!;
        var layers = Enumerable.Range(0, plan.Layers.Count).Select(i => new LayerCode(plan, i)).ToArray();

        // conv1 (1×12×12 → 8×10×10, stride 1) has vector kernels and reads a copy of the caller's input. Its 8 filters fill
        // AVX2's 8 lanes but not AVX-512's 16: one weight-gradient kernel per width, each with its own buffer.
        Assert.True(layers[0].Kind.HasVectorKernels(layers[0]));
        Assert.Equal("Conv1Input", layers[0].Workspace.Input?.Buffer.Name);
        Assert.Equal(new[] { "Conv1Wide", "Conv1WideGradient", "Conv1TransposedGradient" }, layers[0].Workspace.Scratch.Select(b => b.Name));
        foreach (var code in layers.Skip(1))
        {
            Assert.False(code.Kind.HasVectorKernels(code), code.Layer.Name);
            Assert.Null(code.Workspace.Input);
            Assert.Empty(code.Workspace.Scratch);
            Assert.Equal(0, code.Workspace.SourceLength);
        }

        // In the generated workspace, the other layers have their written buffer and its gradient, nothing else.
        string source = NetworkEmitter.Emit(plan);
        var declared = Regex.Matches(source, @"public readonly float\[\] (\w+)").Cast<Match>().Select(m => m.Groups[1].Value).ToArray();
        foreach (var code in layers.Skip(1).Where(c => !c.IsSoftmaxHead))
        {
            Assert.Equal(new[] { code.Output, code.Output + "Gradient" }, declared.Where(name => name.StartsWith(code.Pascal, System.StringComparison.Ordinal)).OrderBy(n => n, System.StringComparer.Ordinal));
        }
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

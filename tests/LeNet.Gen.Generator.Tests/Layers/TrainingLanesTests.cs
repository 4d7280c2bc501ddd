using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The training pass on a chunk with one example per lane (<c>TrainLanes</c>): the networks it is chosen for (those whose
/// batch inference runs in lanes, with every layer's kind able to), and the generated method, layer by layer.
/// </summary>
public class TrainingLanesTests
{
    [Fact]
    public void LeNet5_trains_its_chunks_in_lanes_with_each_layer_forward_then_backward()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(LeNet5()).Plan!);

        Assert.Contains("// Cost model: as batch inference, the layers in lanes (estimated 10.7 µs an image, against 13.8 µs through the single-image kernels); a chunk keeps 579 KB of outputs and gradients.", source);
        Assert.Contains("public static bool TrainsInLanes => global::LeNet.Gen.Runtime.TrainingLanes.Supported && !global::LeNet.Gen.Runtime.Simd.FullRate512;", source);
        // The pass costs the same for 1 to 8 examples: 8 × 10.7 µs against 13.8 µs an example one at a time, so chunks of
        // fewer than ⌈8 · 10.7 / 13.8⌉ = 7 (online SGD's single examples) train one at a time.
        Assert.Contains("public static int TrainingLanesMinimum => 7;", source);
        // Every output kept, one after another: 1024 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10 = 9118 values a lane.
        Assert.Contains("global::System.Span<float> values = global::LeNet.Gen.Runtime.ImageLanes.Aligned(ref workspace.LanesValues, lanes * 9118);", source);
        Assert.Contains("global::System.Span<float> logits = values.Slice(lanes * 9108, lanes * 10);", source);
        // Scratch: the loss's 2 × 10 and fc1's 120 + 400 are known here; the convolutions' sizes come from the runtime.
        Assert.Contains("int scratchLength = 520;", source);
        Assert.Contains("scratchLength = global::System.Math.Max(scratchLength, global::LeNet.Gen.Runtime.TrainingLanes.ConvolutionScratch(1, 32, 32, 5, 1, 0, 28, 28)); // conv1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.Convolve(pool1, 6, 14, 14, parameters.Slice(156, 2400), parameters.Slice(2556, 16), 16, 5, 1, 0, 10, 10, relu: true, scratch, conv2); // conv2", source);
        Assert.Contains("float loss = global::LeNet.Gen.Runtime.TrainingLanes.Loss(logits, labels, 10, scale, scratch, a);", source);
        // fc3 adds its small weight gradient per chunk; fc1 and fc2 hand their factors to the batch-wide store.
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.DenseWeightGradient(a, fc2, count, 10, 84, gradients.Slice(60856, 840), gradients.Slice(61696, 10), null, 60856, first, scratch); // fc3 backward", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.DenseWeightGradient(a, pool2, count, 120, 400, gradients.Slice(2572, 48000), gradients.Slice(50572, 120), batch, 2572, first, scratch); // fc1 backward", source);
        // The activation's derivative before each layer's backward call; conv1 needs no input gradient.
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.ReluBackward(conv2, a.Slice(0, lanes * 1600)); // conv2: ReLU′ = 1 where the output is positive, else 0", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.ConvolveBackward(pool1, 6, 14, 14, parameters.Slice(156, 2400), a, 16, 5, 1, 0, 10, 10, scratch, gradients.Slice(156, 2400), gradients.Slice(2556, 16), b); // conv2 backward", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.ConvolveBackward(input, 1, 32, 32, parameters.Slice(0, 150), a, 6, 5, 1, 0, 28, 28, scratch, gradients.Slice(0, 150), gradients.Slice(150, 6), default); // conv1 backward", source);
    }

    [Fact]
    public void Tanh_and_sigmoid_are_applied_after_the_call_and_undone_before_the_backward_one()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 16, 16,
            Conv(4, 3, padding: 1, activation: ActivationKind.Tanh),
            Conv(6, 4, stride: 2, padding: 1, activation: ActivationKind.Sigmoid),
            Pool(PoolingKind.Max, 2),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.Contains("TrainLanes(", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.Convolve(input, 1, 16, 16, parameters.Slice(0, 36), parameters.Slice(36, 4), 4, 3, 1, 1, 16, 16, relu: false, scratch, conv1); // conv1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.Tanh(conv1);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.Sigmoid(conv2);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.SigmoidBackward(conv2, ", source);
        Assert.Contains("global::LeNet.Gen.Runtime.TrainingLanes.PoolBackward(conv2, pool1, ", source);
    }

    [Fact]
    public void Networks_whose_batches_run_image_by_image_or_with_dropout_train_example_by_example()
    {
        // vgg-cifar: its batches run Winograd and the wide rows one image at a time, and so does its training.
        string vgg = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 32, 32,
            Conv(32, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Conv(64, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Conv(128, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Dense(256, ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);
        Assert.DoesNotContain("TrainLanes", vgg);

        // A dropout layer has no lanes code yet.
        string dropout = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32,
            Conv(6, 5, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 2, 2),
            Conv(16, 5, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 2, 2),
            Dense(120, ActivationKind.ReLU),
            new DropoutSpec(0, 0.5),
            Dense(84, ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);
        Assert.DoesNotContain("TrainLanes", dropout);
    }
}

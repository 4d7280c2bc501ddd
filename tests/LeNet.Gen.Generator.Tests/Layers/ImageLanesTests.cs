using System;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// The image-lanes pass for batch calls (<c>ForwardImages</c>): the cost model's estimates worked out by hand from its
/// rates, the networks it is chosen for, and the generated method, layer by layer with its shapes.
/// </summary>
public class ImageLanesTests
{
    [Fact]
    public void LeNet5_takes_the_pass_on_the_estimates_stated_in_its_comment()
    {
        // Lanes: conv1 6·25·784 = 117,600 and conv2 16·150·100 = 240,000 multiply-adds at 38 per ns = 9,410 ns; the dense
        // layers 48,000 + 10,080 + 840 = 58,920 at 44 = 1,339 ns: 10.7 µs. One image at a time: the wide rows over
        // 28 × 32 = 896 positions for conv1 (134,400 / 38 = 3,537 ns); conv2 with the filters in lanes, which beat its
        // wide rows (9 · 14 + 10 = 136 → 144 positions, 345,600 / 38 = 9,095 ns): 240,000 / 40 + 17 tiles · 40
        // + 0.08 · 2,400 + 0.1 · 1,600 = 7,032 ns; the dense layers at 18 per ns, 3,273 ns: 13.8 µs. 10.7 ≤ 0.9 × 13.8.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(LeNet5()).Plan!);

        Assert.Contains("// Cost model: estimated 10.7 µs an image, against 13.8 µs through the single-image kernels.", source);
        Assert.Contains("private static void ForwardImages(global::System.ReadOnlySpan<float> parameters, global::System.ReadOnlySpan<float> inputs, int count, Workspace workspace, global::System.Span<float> outputs)", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Gather(inputs.Slice(first * 1024), global::System.Math.Min(lanes, count - first), 1024, a);", source);
        // conv1's six filters take three-filter tiles, so it runs with pool1; conv2's sixteen keep their four-filter tiles.
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.ConvolvePool(a, 1, 32, 32, parameters.Slice(0, 150), parameters.Slice(150, 6), 6, 5, 1, 0, 28, 28, relu: true, max: false, default, b); // conv1 and pool1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Convolve(b, 6, 14, 14, parameters.Slice(156, 2400), parameters.Slice(2556, 16), 16, 5, 1, 0, 10, 10, relu: true, default, a); // conv2", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Pool(a, 16, 10, 10, 2, 2, 5, 5, max: false, b); // pool2", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Widen(b, 400, first, x);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(x, parameters.Slice(2572, 48000), parameters.Slice(50572, 120), 120, 400, relu: true, y); // fc1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(y, parameters.Slice(50692, 10080), parameters.Slice(60772, 84), 84, 120, relu: true, x); // fc2", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(x, parameters.Slice(60856, 840), parameters.Slice(61696, 10), 10, 84, relu: false, y); // fc3", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Scatter(y, count, 10, outputs);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Softmax.Apply(probabilities, probabilities);", source);
        Assert.Contains("public static bool HasImageLanes => true;", source);
    }

    [Fact]
    public void Winograd_layers_keep_batches_on_the_single_image_kernels_and_only_the_dense_tail_is_batched()
    {
        // vgg-cifar: conv2 and conv3 run Winograd in batches (82.6 and 68.9 µs), which the lanes' direct 124.2 µs each cannot
        // match. Its dense layers, 2048 · 256 + 256 · 10 = 526,848 multiply-adds: 526,848 / 44 = 12.0 µs on a call's inputs,
        // against 526,848 / 18 = 29.3 µs one image at a time, which saves more than 2 µs an image.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 32, 32,
            Conv(32, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Conv(64, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Conv(128, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Dense(256, ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.Contains("// Cost model: the dense layers estimated 12.0 µs an image on the call's inputs at once, against 29.3 µs one image at a time.", source);
        Assert.Contains("public static bool HasImageLanes => true;", source);
        Assert.DoesNotContain("ImagesPerPass", source); // the default, ImageLanes.Batch: the dense tail wants every input it can get

        // conv3 (64 → 128 on 8×8, 16 tiles) takes pairs of images; conv2 (16×16, 64 tiles) fills its products alone.
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.GroupInput(workspace.Conv3PaddedInput, 64, 10, 10, 0, 128, i, 2, groupConv3); // conv3: this image's tiles", source);
        Assert.DoesNotContain("Conv2WinogradGroup", source);
        Assert.Contains("Conv2Forward(workspace.Conv2PaddedInput, parameters.Slice(896, 18432), parameters.Slice(19328, 64), workspace.Conv2Output, workspace);", source);
        Assert.DoesNotContain("ImageLanes.Convolve", source);
        Assert.DoesNotContain("ImagesB", source);
        // Each image through the single-image layer methods, Winograd included, its flat output kept for the dense layers.
        Assert.Contains("global::System.ReadOnlySpan<float> input = inputs.Slice(n * 3072, 3072);", source);
        Assert.Contains("Conv3Forward(workspace.Conv3PaddedInput, parameters.Slice(19392, 73728), parameters.Slice(93120, 128), workspace.Conv3Output, workspace);", source);
        Assert.Contains("global::System.MemoryExtensions.AsSpan(workspace.Pool3Output, 0, 2048).CopyTo(features.Slice(n * 2048));", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.GatherBatch(features, count, 2048, x);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(x, parameters.Slice(93248, 524288), parameters.Slice(617536, 256), 256, 2048, relu: true, y); // fc1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Scatter(x, count, 10, outputs);", source);
    }

    [Fact]
    public void A_small_dense_tail_stays_image_by_image_and_Winograd_on_8x8_takes_pairs_of_images()
    {
        // The strided network's fc10 on 64 × 4 × 4 values: 10,240 multiply-adds, 0.2 µs on a call's inputs against 0.6 µs,
        // which saves less than 2 µs an image. Its conv3 (64 → 64, Winograd) has 16 tiles an image, so its products take
        // two images' tiles at once: batch calls run image by image in pairs around it.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 35, 35,
            Conv(32, 3, stride: 2, activation: ActivationKind.ReLU),
            Conv(64, 3, stride: 2, activation: ActivationKind.ReLU),
            Conv(64, 3, padding: 1, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, 2, 2),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.DoesNotContain("ImagesA", source);
        Assert.DoesNotContain("GatherBatch", source);
        Assert.DoesNotContain("ImageLanes.Dense", source);
        Assert.Null(ImageLanesCostModel.ChooseTail(232.7, 568.9));
        Assert.NotNull(ImageLanesCostModel.ChooseTail(1000, 3000));

        Assert.Contains("public static bool HasImageLanes => true;", source);
        Assert.Contains("public static int ImagesPerPass => global::LeNet.Gen.Runtime.ImageLanes.Count > 0 ? 2 : 0;", source);
        Assert.Contains("public float[]? Conv3WinogradGroup;", source);
        Assert.Contains("// conv3: batch calls multiply the tiles of 2 images at once (16 tiles an image, 32 columns a product): each transformed weight loaded serves both", source);
        Assert.Contains("global::System.Span<float> groupConv3 = workspace.Conv3WinogradGroup ??= new float[global::LeNet.Gen.Runtime.Winograd.GroupScratchLength(64, 10, 10, 0, 64, 2)];", source);
        Assert.Contains("for (int first = 0; first < count; first += 2)", source);
        Assert.Contains("Conv2Forward(workspace.Conv1Output, parameters.Slice(896, 18432), parameters.Slice(19328, 64), workspace.Conv2Output, workspace);", source);
        Assert.Contains("Conv3Pad(workspace.Conv2Output, workspace.Conv3PaddedInput);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.GroupInput(workspace.Conv3PaddedInput, 64, 10, 10, 0, 64, i, 2, groupConv3); // conv3: this image's tiles", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.GroupProducts(workspace.Conv3WinogradWeights!, 64, 10, 10, 0, 64, 2, groupConv3);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.GroupOutput(parameters.Slice(56256, 64), 64, 10, 10, 0, 64, relu: true, i, 2, groupConv3, global::System.MemoryExtensions.AsSpan(workspace.Conv3Output));", source);
        Assert.Contains("global::System.MemoryExtensions.AsSpan(workspace.Fc1Output, 0, 10).CopyTo(outputs.Slice(n * 10));", source);

        // The order inside the pass: the first half of every image, the group's products, then the second half.
        int method = source.IndexOf("private static void ForwardImages(", StringComparison.Ordinal);
        int input = source.IndexOf("Winograd.GroupInput(", method, StringComparison.Ordinal);
        int products = source.IndexOf("Winograd.GroupProducts(", method, StringComparison.Ordinal);
        int output = source.IndexOf("Winograd.GroupOutput(", method, StringComparison.Ordinal);
        int pool = source.IndexOf("Pool1Forward(workspace.Conv3Output, workspace.Pool1Output);", method, StringComparison.Ordinal);
        Assert.True(method < input && input < products && products < output && output < pool, $"{method} {input} {products} {output} {pool}");
    }

    [Theory]
    [InlineData(16, 2)] // 8×8 outputs: 16 columns an image, 32 in pairs
    [InlineData(9, 2)]  // 5×5 or 6×6: 9 tiles, 16 columns
    [InlineData(4, 4)]  // 4×4: 8 columns, 4 images for 32
    [InlineData(1, 4)]  // 1×1 or 2×2: at most 4 images
    [InlineData(24, 2)] // 24 columns: 48 in pairs
    public void Winograd_groups_images_until_a_product_has_32_columns(int tiles, int images)
    {
        var group = ConvCostModel.WinogradGroup(tiles);
        Assert.NotNull(group);
        Assert.Equal(images, group.Value.Images);
        Assert.Contains($"the tiles of {images} images at once ({tiles} tiles an image", group.Value.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(25)]  // 10×10 outputs: 32 columns already
    [InlineData(64)]  // vgg-cifar's conv2, 16×16
    public void Winograd_keeps_one_image_when_its_tiles_fill_a_product(int tiles) => Assert.Null(ConvCostModel.WinogradGroup(tiles));

    [Fact]
    public void Tanh_strides_padding_and_dropout_go_through_the_pass_in_order()
    {
        // 3×14×14 → conv1 8, 5×5, padding 2, tanh (scratch: 3 × 18 × 18) → pool1 max 2 → conv2 8, 3×3, stride 2, padding 1 (4×4)
        // → dropout → fc1 32, sigmoid → dropout → fc2 4 (no softmax: the outputs are the last layer's).
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 14, 14,
            Conv(8, 5, padding: 2, activation: ActivationKind.Tanh),
            Pool(PoolingKind.Max, 2, 2),
            Conv(8, 3, stride: 2, padding: 1, activation: ActivationKind.ReLU),
            new DropoutSpec(0, 0.25),
            Dense(32, ActivationKind.Sigmoid),
            new DropoutSpec(0, 0.5),
            Dense(4))).Plan!);

        Assert.Contains("global::System.Span<float> scratch = global::LeNet.Gen.Runtime.ImageLanes.Aligned(ref workspace.ImagesScratch, lanes * 972);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Convolve(a, 3, 14, 14, parameters.Slice(0, 600), parameters.Slice(600, 8), 8, 5, 1, 2, 14, 14, relu: false, scratch, b); // conv1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.Tanh(b.Slice(0, lanes * 1568));", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Pool(b, 8, 14, 14, 2, 2, 7, 7, max: true, a); // pool1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Convolve(a, 8, 7, 7, parameters.Slice(608, 576), parameters.Slice(1184, 8), 8, 3, 2, 1, 4, 4, relu: true, scratch, b); // conv2", source);
        Assert.Contains("// drop1: passes its input through in inference", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Widen(b, 128, first, x);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(x, parameters.Slice(1192, 4096), parameters.Slice(5288, 32), 32, 128, relu: false, y); // fc1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.Sigmoid(y.Slice(0, global::LeNet.Gen.Runtime.ImageLanes.Batch * 32));", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Dense(y, parameters.Slice(5320, 128), parameters.Slice(5448, 4), 4, 32, relu: false, x); // fc2", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Scatter(x, count, 4, outputs);", source);
        Assert.DoesNotContain("Softmax.Apply(probabilities", source);
    }

    [Fact]
    public void Batch_norm_runs_in_lanes_after_a_convolution_and_on_rows_after_a_dense_layer()
    {
        // 1×32×32 → conv1 6, 5×5 (its ReLU moves after bn1) → bn1 → pool1 → fc1 12 → bn2 → fc2 10. Parameters: conv1 156,
        // bn1 12, fc1 14,112 + 12, bn2 24, fc2 130 = 14,446; the state after them: bn1's 6 means, 6 variances and count
        // (13), then bn2's.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32,
            Conv(6, 5, activation: ActivationKind.ReLU),
            new BatchNormSpec(0, 1e-5, 0.1),
            Pool(PoolingKind.Average, 2, 2),
            Dense(12),
            new BatchNormSpec(0, 1e-3, 0.1),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Convolve(a, 1, 32, 32, parameters.Slice(0, 150), parameters.Slice(150, 6), 6, 5, 1, 0, 28, 28, relu: false, default, b); // conv1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.Normalize(b, parameters.Slice(156, 6), parameters.Slice(162, 6), parameters.Slice(14446, 12), 1E-05f, 6, 784, relu: true, a); // bn1", source);
        Assert.Contains("global::LeNet.Gen.Runtime.ImageLanes.NormalizeBatch(y, parameters.Slice(14292, 12), parameters.Slice(14304, 12), parameters.Slice(14459, 24), 0.001f, 12, relu: false, x); // bn2", source);
    }

    [Theory]
    [InlineData(6, 2, 2, true)]   // six filters: three-filter tiles
    [InlineData(12, 2, 2, true)]  // three and four both divide
    [InlineData(5, 2, 2, true)]   // neither: a repeated filter either way, fewer with three
    [InlineData(16, 2, 2, false)] // four divide and three do not: four-filter tiles and a pooling pass
    [InlineData(6, 2, 1, false)]  // overlapping windows
    [InlineData(6, 7, 7, false)]  // 7 × 7 windows
    public void A_convolution_runs_with_the_pooling_after_it_when_its_windows_are_2x2_stride_2(int filters, int size, int stride, bool fused)
    {
        // 3×16×16 → conv 3×3 with ReLU (14 × 14; several inputs, so the pass is chosen) → pool → fc 10.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 16, 16,
            Conv(filters, 3, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Max, size, stride),
            Dense(10))).Plan!);

        Assert.Contains("private static void ForwardImages(", source);
        Assert.Equal(fused, source.Contains($"global::LeNet.Gen.Runtime.ImageLanes.ConvolvePool(a, 3, 16, 16, parameters.Slice(0, {filters * 27}), parameters.Slice({filters * 27}, {filters}), {filters}, 3, 1, 0, 14, 14, relu: true, max: true, default, b); // conv1 and pool1"));
        Assert.Equal(!fused, source.Contains("); // pool1"));
    }

    [Fact]
    public void A_convolution_whose_output_is_odd_or_followed_by_tanh_runs_apart_from_its_pooling()
    {
        string odd = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 15, 15, RoundingMode.Ceiling,
            Conv(6, 2, activation: ActivationKind.ReLU), // 14 × 14, pooled with it to 7 × 7
            Pool(PoolingKind.Max, 2, 2),
            Conv(6, 3, activation: ActivationKind.ReLU), // 5 × 5: odd
            Pool(PoolingKind.Average, 2, 2),
            Dense(10))).Plan!);
        string tanh = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 16, 16,
            Conv(6, 3, activation: ActivationKind.Tanh),
            Pool(PoolingKind.Max, 2, 2),
            Dense(10))).Plan!);

        Assert.Contains("// conv1 and pool1", odd);
        Assert.Contains("ImageLanes.Convolve(b, 6, 7, 7, parameters.Slice(", odd);
        Assert.Contains("ImageLanes.Pool(a, 6, 5, 5, 2, 2, 3, 3, max: false, b); // pool2", odd);
        Assert.Contains("private static void ForwardImages(", tanh);
        Assert.DoesNotContain("ConvolvePool", tanh);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.Tanh(b.Slice(0, lanes * 1176));", tanh);
    }

    [Fact]
    public void The_choice_keeps_a_margin_for_rough_estimates()
    {
        Assert.Equal("estimated 9.0 µs an image, against 10.0 µs through the single-image kernels", ImageLanesCostModel.Choose(9000, 10000));
        Assert.Null(ImageLanesCostModel.Choose(9001, 10000));
        Assert.Equal("estimated 17 ns an image, against 30 ns through the single-image kernels", ImageLanesCostModel.Choose(17.2, 30.4));
    }
}

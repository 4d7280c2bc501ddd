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
        // 16·2,048·64 / 38 = 55,188 ns, transforms 8·32·64 + 2.7·64·64 = 27,443 ns; alone, the check of 2,048·9 weights
        // at 0.08 ns = 1,475 ns: 82.6 µs in a batch, 84.1 µs alone, both under 0.9 × 124.2: every call.
        var conv2 = ConvCostModel.Winograd(3, 1, vectorized: true, 32, 64, 16, 16)!;
        Assert.True(conv2.SingleImages);
        Assert.Contains("estimated 82.6 µs an image in a batch, 84.1 µs alone (with the check that the weights are those last transformed), against 124.2 µs for the direct kernels, so every call uses it", conv2.Reason);

        // 16 → 32 on 8×8, 16 tiles: direct 7.8 µs; batch 3.4 + 2.0 + 1.4 = 6.9 µs; alone + 0.4 = 7.2 µs > 7.0: batch only.
        var small = ConvCostModel.Winograd(3, 1, vectorized: true, 16, 32, 8, 8)!;
        Assert.False(small.SingleImages);
        Assert.EndsWith("estimated 6.9 µs an image in a batch, 7.2 µs alone (with the check that the weights are those last transformed), against 7.8 µs for the direct kernels, so batch calls use it and single images keep the direct kernels", small.Reason);

        // vgg-cifar's conv1 (3 channels): the transforms cost more than the products save.
        Assert.Null(ConvCostModel.Winograd(3, 1, vectorized: true, 3, 32, 32, 32));
        // Not 3×3, not stride 1, or no vector kernels: never.
        Assert.Null(ConvCostModel.Winograd(5, 1, vectorized: true, 64, 64, 16, 16));
        Assert.Null(ConvCostModel.Winograd(3, 2, vectorized: true, 64, 64, 16, 16));
        Assert.Null(ConvCostModel.Winograd(3, 1, vectorized: false, 64, 64, 16, 16));
    }

    // 32×16×16 → conv1 32 (every call; first layer) → conv2 32 (every call; input gradient too) → conv3 16, stride 2
    // → 8×8 (filters in lanes) → conv4 32 (Winograd in batch calls only) → conv5 16, 5×5 (filters in lanes) → 10.
    private static NetworkSpec Mixed() => Network(
        32, 16, 16, RoundingMode.Floor,
        Conv(32, 3, stride: 1, padding: 1, activation: ActivationKind.Tanh),
        Conv(32, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
        Conv(16, 3, stride: 2, padding: 1, activation: ActivationKind.ReLU),
        Conv(32, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
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
        Assert.Contains("if (!global::LeNet.Gen.Runtime.PreparedWeights.Unchanged(parameters.Slice(0, 9216), ref workspace.Conv1WinogradSource))", source);
        // conv4: 16 → 32 on 8×8 (padded 10×10), batch calls only (the estimates of the test above).
        Assert.Contains("workspace.Conv4UsesWinograd = vectors && batch;", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(input, 16, 10, 10, 0, workspace.Conv4WinogradWeights!, bias, 32, relu: true, output, workspace.Conv4WinogradScratch!);", source);
        Assert.Contains("// Cost model: Winograd F(2×2, 3×3), 16 products of 32×16 by 16×16 tiles: estimated 6.9 µs an image in a batch, 7.2 µs alone (with the check that the weights are those last transformed), against 7.8 µs for the direct kernels, so batch calls use it and single images keep the direct kernels.", source);
        Assert.Contains("bool vectors = global::LeNet.Gen.Runtime.Simd.Use256;", source);
        Assert.Contains("public static void PrepareKernels(global::System.ReadOnlySpan<float> parameters, Workspace workspace, bool batch, bool training, bool kept)", source);

        // In training, conv2's input gradient (32 → 32 channels on 18×18, its padded input) also gets Winograd in batch
        // steps, on the turned kernels; conv1 is the first layer and has no input gradient.
        Assert.Contains("workspace.Conv2UsesWinogradBackward = vectors && batch && training;", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.TransformWeights(workspace.Conv2RotatedWeights, 32, 32, workspace.Conv2WinogradBackwardWeights);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Winograd.Forward(outputGradient, 32, 16, 16, 2, workspace.Conv2WinogradBackwardWeights!, default, 32, relu: false, inputGradient, workspace.Conv2WinogradBackwardScratch!);", source);
        Assert.DoesNotContain("Conv1UsesWinogradBackward", source);
        Assert.DoesNotContain("Conv4UsesWinogradBackward", source);
        Assert.DoesNotContain("Conv3Winograd", source);
        Assert.DoesNotContain("Conv5Winograd", source);
    }

    [Fact]
    public void The_filters_in_lanes_estimate_follows_its_rates_and_wins_where_the_wide_rows_waste_lanes()
    {
        // 32 → 32 channels, 3×3 at stride 2 on 18×18 (padded) → 8×8. The wide rows run over 4 phase planes a channel
        // with 2×2 sub-kernels (7 of 16 taps zero) on 8 rows of 9: 128·4·32·72 / 38 = 31,043 ns. In lanes:
        // 288·32·64 / 40 = 14,746 ns, 11 tiles of positions × 2 of filters at 40 ns, the check of 288·32 weights at
        // 0.08 ns = 737 ns, the transpose of 64·32 outputs at 0.1 ns = 205 ns: 16,568 ns.
        double direct = ConvCostModel.DirectNs(128, 2, 32, 72);
        Assert.Equal(31_043, direct, 0);
        // With AVX-512 the wide rows' 16-lane plane is 80 positions, at twice the rate: 17,246 ns. In lanes, two blocks of
        // 16 filters in one tile at twice the rate: 288·32·64 / 80 = 7,373 ns, plus the same 440 + 737 + 205 ns: 8,755 ns.
        double direct512 = ConvCostModel.DirectNs(128, 2, 32, 80) / 2;
        var strided = ConvCostModel.FilterLanes(vectorized: true, 32, 32, 3, 8, 8, direct, direct512, phasePlanes: true)!;
        Assert.Equal(16_568, strided.Ns, 0);
        Assert.False(strided.NotWithAvx512);
        Assert.False(strided.Training); // its backward pass reads the phase planes of the wide rows' forward pass
        Assert.Contains("filters in lanes (32 filters, 8 or 16 to a vector, 6 positions × 2 vectors a register tile, 589,824 multiply-adds): estimated 16.6 µs an image (with the check that the weights are those last packed), against 31.0 µs for the wide rows, so inference calls use it (training keeps the wide rows, whose phase planes its backward pass reads); with AVX-512, 8.8 µs against 17.2 µs, so there too", strided.Reason);

        // An odd block of 8 is charged as a whole tile: 8 filters cost what 16 do in the inner loop.
        var eight = ConvCostModel.FilterLanes(vectorized: true, 16, 8, 3, 8, 8, double.MaxValue, double.MaxValue, phasePlanes: false)!;
        Assert.Equal((144.0 * 16 * 64 / 40) + (11 * 40) + (0.08 * 144 * 8) + (0.1 * 64 * 8), eight.Ns, 6);

        // A stride-1 layer on 32×32, whose wide rows (32 rows of 34) are 6% over: 253.6 µs against 0.9 × 263.9, so no.
        Assert.Null(ConvCostModel.FilterLanes(vectorized: true, 32, 32, 3, 32, 32, ConvCostModel.DirectNs(32, 3, 32, 1088), double.MaxValue, phasePlanes: false));
        // Filters that do not fill blocks of 8, or a layer without vector kernels: never.
        Assert.Null(ConvCostModel.FilterLanes(vectorized: true, 32, 12, 3, 8, 8, double.MaxValue, double.MaxValue, phasePlanes: false));
        Assert.Null(ConvCostModel.FilterLanes(vectorized: false, 32, 32, 3, 8, 8, double.MaxValue, double.MaxValue, phasePlanes: false));
    }

    [Fact]
    public void With_full_rate_AVX512_a_single_block_of_16_filters_keeps_the_wide_rows()
    {
        // LeNet-5's conv2: 6 → 16 channels, 5×5, 10×10 outputs; wide planes of 144 positions for both widths. With AVX2:
        // 150·16·100 / 40 = 6,000 ns, 17 tiles at 40 ns, the check 192 ns and the transpose 160 ns: 7,032 ns against
        // 150·16·144 / 38 = 9,095 ns, so the lanes. With AVX-512 the 16 filters run as two blocks of 8 at the AVX2 rate:
        // the same 7,032 ns against 4,547 ns, so the wide rows where 512-bit units run at full rate.
        double direct = ConvCostModel.DirectNs(6, 5, 16, 144), direct512 = direct / 2;
        var conv2 = ConvCostModel.FilterLanes(vectorized: true, 6, 16, 5, 10, 10, direct, direct512, phasePlanes: false)!;
        Assert.Equal(7_032, conv2.Ns, 0);
        Assert.True(conv2.NotWithAvx512);
        Assert.True(conv2.Training);
        Assert.EndsWith("with AVX-512, 7.0 µs against 4.5 µs, so the wide rows run where 512-bit multiply-adds run at full rate, the lanes where they run at half rate (Zen 4); the filters run 8 to a vector, too few for two blocks of 16", conv2.Reason);

        // 48 filters with AVX-512: a pair of blocks of 16 and an odd one, charged as two pairs (150·32·2·100 / 80 =
        // 12,000 ns), 34 tiles, the check 576 ns, the transpose 480 ns: 14,416 ns.
        var fortyEight = ConvCostModel.FilterLanes(vectorized: true, 6, 48, 5, 10, 10, double.MaxValue, 14_000, phasePlanes: false)!;
        Assert.True(fortyEight.NotWithAvx512);
        Assert.EndsWith("with AVX-512, 14.4 µs against 14.0 µs, so the wide rows run where 512-bit multiply-adds run at full rate, the lanes where they run at half rate (Zen 4)", fortyEight.Reason);
    }

    [Fact]
    public void The_generated_code_runs_the_filters_in_lanes_in_training_too_unless_its_backward_pass_reads_phase_planes()
    {
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Mixed()).Plan!);

        // conv3, 32 → 16 at stride 2 (ReLU fused): 288·16·64 / 40 + 11·40 + 0.08·288·16 + 0.1·64·16 = 8,284 ns against
        // 128·4·16·72 / 38 = 15,522 ns for the wide rows plus 128 phase planes of 9×9 split at 0.7 ns a value (7,258 ns),
        // and with AVX-512 the same against 128·4·16·80 / 76 + 7,258 = 15,881 ns; conv5, 32 → 16
        // with 5×5 on 8×8: 22.0 µs against 32.3 µs, and with AVX-512 22.0 µs against 800·16·96 / 76 = 16.2 µs.
        Assert.Contains("workspace.Conv3UsesFilterLanes = !training && global::LeNet.Gen.Runtime.FilterLanes.Supports(16);", source);
        Assert.Contains("workspace.Conv5UsesFilterLanes = global::LeNet.Gen.Runtime.FilterLanes.Supports(16) && !global::LeNet.Gen.Runtime.Simd.FullRate512;", source);
        Assert.Contains("if (!global::LeNet.Gen.Runtime.PreparedWeights.Unchanged(parameters.Slice(18496, 4608), ref workspace.Conv3FilterLanesSource))", source);
        Assert.Contains("global::LeNet.Gen.Runtime.FilterLanes.PackWeights(parameters.Slice(18496, 4608), 16, 288, workspace.Conv3FilterLanesWeights);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.FilterLanes.Convolve(input, 32, 18, 18, workspace.Conv3FilterLanesWeights!, bias, 16, 3, 2, 8, 8, relu: true, workspace.Conv3FilterLanesScratch!, output);", source);
        Assert.Contains("// Cost model: filters in lanes (16 filters, 8 or 16 to a vector, 6 positions × 2 vectors a register tile, 294,912 multiply-adds): estimated 8.3 µs an image (with the check that the weights are those last packed), against 22.8 µs for the wide rows, so inference calls use it (training keeps the wide rows, whose phase planes its backward pass reads); with AVX-512, 8.3 µs against 15.9 µs, so there too.", source);
        Assert.Contains("// Cost model: filters in lanes (16 filters, 8 or 16 to a vector, 6 positions × 2 vectors a register tile, 819,200 multiply-adds): estimated 22.0 µs an image (with the check that the weights are those last packed), against 32.3 µs for the wide rows, so inference and training use it; with AVX-512, 22.0 µs against 16.2 µs, so the wide rows run where 512-bit multiply-adds run at full rate, the lanes where they run at half rate (Zen 4); the filters run 8 to a vector, too few for two blocks of 16.", source);
        Assert.Contains("global::LeNet.Gen.Runtime.FilterLanes.Convolve(input, 32, 12, 12, workspace.Conv5FilterLanesWeights!, bias, 16, 5, 1, 8, 8, relu: true, workspace.Conv5FilterLanesScratch!, output);", source);

        // conv1 and conv2 run Winograd on every call; conv4's Winograd serves batch calls and its single images keep the
        // wide rows, which the filters in lanes do not beat there (8.8 µs against 7.8 µs).
        Assert.DoesNotContain("Conv1UsesFilterLanes", source);
        Assert.DoesNotContain("Conv2UsesFilterLanes", source);
        Assert.DoesNotContain("Conv4UsesFilterLanes", source);
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

    [Theory]
    [InlineData(6, 5, 16, 2)]  // LeNet-5's conv1 (6 filters, 5×5), AVX2: 2 × 5 sums + 2 gradient vectors + 1 row vector = 13 of 16
    [InlineData(6, 5, 32, 3)]  // AVX-512: 15 + 3 + 1 = 19 of 32
    [InlineData(4, 3, 16, 2)]  // four would need 12 + 4 + 1 = 17 registers and three do not divide 4
    [InlineData(12, 3, 16, 3)] // 3 × 3 + 3 + 1 = 13
    [InlineData(7, 3, 32, 1)]  // a prime count of filters: one at a time
    public void The_dot_product_weight_gradient_takes_as_many_filters_at_once_as_divide_them_and_fit(int filters, int kernel, int registers, int expected)
    {
        var isa = registers == 16 ? VectorIsa.Avx2 : VectorIsa.Avx512;
        Assert.Equal(expected, ConvVectorKernels.DotFilters(filters, kernel, isa));
    }

    [Fact]
    public void A_network_without_such_layers_has_no_prepared_kernels()
    {
        // 1×12×12 → 6×8×8 → 10: a 5×5 convolution and a dense layer of 3,840 weights (under the 4,096 it takes to defer).
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 12, 12, RoundingMode.Floor,
            Conv(6, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.DoesNotContain("PrepareKernels", source);
        Assert.DoesNotContain("UsesWinograd", source);
        Assert.DoesNotContain("FinishExamples", source);
    }

    [Fact]
    public void A_large_dense_layer_takes_its_weight_gradient_over_the_whole_batch()
    {
        // 2×32×32 = 2,048 inputs → fc1 256 (524,288 weights: over the batch) → fc2 10 (2,560: added per example).
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            2, 32, 32, RoundingMode.Floor,
            Dense(256, ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        Assert.Contains("public static int BatchGradientCount => 1;", source);
        Assert.Contains("0 => new global::LeNet.Gen.Runtime.BatchGradientInfo(0, 256, 2048),", source);
        Assert.Contains("batch.Keep(0, workspace.Example, outputGradient.Slice(0, 256), input.Slice(0, 2048));", source);
        Assert.Contains("public global::LeNet.Gen.Runtime.BatchGradients? BatchGradients;", source);
        Assert.DoesNotContain("FinishExamples", source); // nothing is deferred per chunk any more
        Assert.DoesNotContain("batch.Keep(526336", source); // fc2's weights start at 256 × 2048 + 256 = 526,336
        Assert.Contains("private static void Fc2Backward(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> weight, global::System.ReadOnlySpan<float> output, global::System.Span<float> outputGradient, global::System.Span<float> inputGradient, global::System.Span<float> weightGradient, global::System.Span<float> biasGradient)", source);
    }

    [Fact]
    public void An_inference_only_network_keeps_nothing_for_batch_gradients()
    {
        // The same layers behind a network that cannot train (no softmax head): no store, no batch gradient members.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            2, 32, 32, RoundingMode.Floor,
            Dense(256, ActivationKind.ReLU),
            Dense(10, ActivationKind.None))).Plan!);

        Assert.DoesNotContain("BatchGradient", source);
        Assert.DoesNotContain("batch.Keep", source);
    }

    [Fact]
    public void A_convolution_whose_filters_fill_every_vector_width_sums_its_weight_gradient_over_each_chunk()
    {
        // 3×12×12 → conv1 16 filters (fill 8 and 16 lanes: deferred) → conv2 8 filters (fill 8 lanes only: per example) → 10.
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 12, 12, RoundingMode.Floor,
            Conv(16, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
            Conv(8, 3, stride: 1, padding: 1, activation: ActivationKind.ReLU),
            Dense(10, ActivationKind.Softmax))).Plan!);

        // 3 channels × 3×3 taps = 27 rows of 16 filters, added into conv1's 16 × 27 weights at the chunk's end.
        Assert.Contains("workspace.Conv1DefersWeightGradient = vectors && training;", source);
        Assert.Contains("workspace.Conv1PendingWeightGradient ??= new float[432];", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.AddTransposed(workspace.Conv1PendingWeightGradient!, 27, 16, gradients.Slice(0, 432));", source);
        Assert.Contains("workspace.Conv1DefersWeightGradient ? workspace.Conv1PendingWeightGradient : default);", source);
        Assert.Contains("Store(Load(ref pt, kept + 0) + t00, ref pt, kept + 0);", source);
        Assert.DoesNotContain("Conv2DefersWeightGradient", source);
        Assert.Contains("Conv2TransposedGradient, weightGradient, default);", source); // AVX2's filters-in-lanes kernel, adding per example
    }

    [Fact]
    public void A_small_output_gets_its_input_gradient_from_a_product_and_a_scatter()
    {
        // LeNet-5: conv2's input gradient (16 filters, 6 channels, 5×5, 10×10 outputs). The wide rows convolve the output
        // gradient padded to 18×18 on a 256-position plane (AVX2): 150 · 16 · 256 = 614,400 multiply-adds. The product
        // takes 150 · 16 · 104 = 249,600 and the scatter 150 · 100 = 15,000 adds.
        string? reason = ConvCostModel.ColumnGradient(6, 16, 5, 10, 10, 256);
        Assert.Equal("the input gradient as one 150×16 by 16×104 product and a scatter, 264,600 multiply-adds and adds, against 614,400 for the wide rows over the padded 256-position plane", reason);
        // A 3×3 layer of 32 → 64 channels on 16×16 whose wide plane has 288 positions, only an eighth more than its 256
        // outputs: 288 · 64 · 256 + 288 · 256 = 4,792,320 against 288 · 64 · 288 = 5,308,416, not under 90% of it, so the
        // wide rows stay.
        Assert.Null(ConvCostModel.ColumnGradient(32, 64, 3, 16, 16, 288));

        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32, RoundingMode.Floor,
            Conv(6, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 2),
            Conv(16, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 2),
            Dense(10, ActivationKind.Softmax))).Plan!);
        Assert.Contains("global::LeNet.Gen.Runtime.ColumnGradient.InputGradient(outputGradient, weight, 16, 6, 5, 10, 10, inputGradient, 14, 14, workspace.Conv2Columns);", source);
        Assert.Contains("Conv2Columns = training ? new float[17264]", source); // (16 + 150) × 104
        Assert.DoesNotContain("Conv2InputGradientWide", source);
        Assert.DoesNotContain("Conv2RotatedWeights", source);
    }
    [Fact]
    public void A_narrow_output_reads_shifted_column_copies_when_they_are_small()
    {
        // LeNet-5's conv2 (6 → 16 channels, 5×5, 14×14 → 10×10), AVX2 planes: the wide rows take 150 · 16 · 144 / 38 =
        // 9,094 ns; the copies 150 · 16 · 112 / 38 = 7,074 ns plus 5 · 6 · 14 · 2 = 840 vector moves at 0.6 ns, 7,578 ns:
        // under 90% of the wide rows.
        Assert.Equal(
            "the wide rows on 5 shifted column copies of the input (outputs back to back, a 112-position plane against 144 on the input's own rows): estimated 7.6 µs an image with the copies, against 9.1 µs",
            ConvCostModel.ColumnCopies(6, 5, 16, 14, 10, 144, 112));
        // Rows of fewer than 8 outputs are not copied (a vector of 8 a row at least).
        Assert.Null(ConvCostModel.ColumnCopies(6, 5, 16, 11, 7, 104, 56));
        // LeNet-5's conv1 (1 → 6, 32×32 → 28×28): 896 against 784 positions saves 12.5%, less the copies: not under 90%.
        Assert.Null(ConvCostModel.ColumnCopies(1, 5, 6, 32, 28, 896, 784));
        // 3 → 16 channels, 5×5 on 36×36 padded: 5 · 3 · 36 · 32 = 17,280 values of copies, past the level-1 cache.
        Assert.Null(ConvCostModel.ColumnCopies(3, 5, 16, 36, 32, 1152, 1024));

        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            1, 32, 32, RoundingMode.Floor,
            Conv(6, 5, stride: 1, padding: 0, activation: ActivationKind.ReLU),
            Pool(PoolingKind.Average, 2),
            Conv(16, 5, stride: 1, padding: 0, activation: ActivationKind.Tanh),
            Pool(PoolingKind.Average, 2),
            Dense(10, ActivationKind.Softmax))).Plan!);

        // conv2: copies of 6 · 14 · 10 = 840 values, 848 apart; the kernels' plane is 112 positions with either width.
        Assert.Contains("global::LeNet.Gen.Runtime.ColumnCopies.Split(input, 6, 14, 14, 5, 10, workspace.Conv2ColumnCopies, 848);", source);
        Assert.Contains("global::LeNet.Gen.Runtime.Simd.CompactPlanes(workspace.Conv2Wide, 112, 16, 100, output);", source);
        Assert.Contains("ForwardCopiesVector512(workspace.Conv2ColumnCopies, weight, bias, workspace.Conv2Wide);", source);
        Assert.Contains("ForwardCopiesVector256(workspace.Conv2ColumnCopies, weight, bias, workspace.Conv2Wide);", source);
        Assert.DoesNotContain("Conv2ForwardWide", source);
        Assert.Contains("// Cost model: the wide rows on 5 shifted column copies", source);
        // Tap (c, i, j) of the copies kernel: row i of channel c at c·140 + i·10, column j's copy 848·j further.
        Assert.Contains("ref float row = ref At(ref x, (c * 140) + (i * 10)); // source row i of channel c, from p; column j's copy is 848·j further", source);
        Assert.Contains("a0 = Load(ref row, p + 3392);", source); // column 4: 4 · 848
        // The buffer: 4 · 848 + (5 · 140 + 111 + 4 · 10) + 1 = 4,244 values, so every load of the last copy stays inside.
        Assert.Contains("Conv2ColumnCopies = new float[4244]", source);
        // tanh does not fuse into the stores, so it runs on the compacted output; conv1 keeps its own rows.
        Assert.Contains("Conv1ForwardWideVector512(", source);
        Assert.DoesNotContain("Conv1ColumnCopies", source);
    }

    [Fact]
    public void A_strided_layer_pays_for_splitting_its_input_into_phase_planes()
    {
        // 16 → 32 channels, 4×4 at stride 2 with padding 1 on 16×16 (the peers harness's "mixed" network): 64 phase planes
        // of 9×9 (5,184 values, 3.6 µs to split at 0.7 ns a value). The wide rows: 64·4·32·72 / 38 = 15.5 µs, plus the
        // split 19.2 µs; with AVX-512 64·4·32·80 / 76 + 3.6 = 12.3 µs. The filters in lanes: 14.8 µs, and 7.9 µs on 16 lanes.
        Assert.Equal(3628.8, ConvCostModel.PhaseSplitNs(5184), 6);
        string source = NetworkEmitter.Emit(ShapeInference.Infer(Network(
            3, 32, 32, RoundingMode.Floor,
            Conv(16, 5, stride: 1, padding: 2, activation: ActivationKind.Tanh),
            Pool(PoolingKind.Max, 2),
            Conv(32, 4, stride: 2, padding: 1, activation: ActivationKind.Tanh),
            Pool(PoolingKind.Average, 2),
            Dense(10, ActivationKind.Softmax))).Plan!);
        Assert.Contains("estimated 14.8 µs an image (with the check that the weights are those last packed), against 19.2 µs for the wide rows, so inference calls use it (training keeps the wide rows, whose phase planes its backward pass reads); with AVX-512, 7.9 µs against 12.3 µs, so there too.", source);
        Assert.Contains("workspace.Conv2UsesFilterLanes = !training && global::LeNet.Gen.Runtime.FilterLanes.Supports(32);", source);
    }
}

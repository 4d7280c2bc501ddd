using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Reference;

public class ReferenceNetworkTests(ITestOutputHelper output)
{
    private const double Tight = 1e-12;

    // Step of the central differences in the gradient checks. With h = 1e-5 the truncation error (h² · |L'''| / 6) and
    // the round-off (about 1e-16 · |L| / h) both stay near 1e-11, well below the 1e-6 relative tolerance for entries
    // above 1e-5; with the default 1e-6 the round-off alone (about 1e-10) would use it up for entries near 1e-4.
    private const double Step = 1e-5;

    // ---------------------------------------------------------------- shapes and layout

    private static ReferenceNetwork LeNet5() => new(1, 32, 32,
    [
        new RefConv(6, 5, Activation: RefActivation.ReLU),
        new RefPoolLayer(RefPool.Average, 2, 2),
        new RefConv(16, 5, Activation: RefActivation.ReLU),
        new RefPoolLayer(RefPool.Average, 2, 2),
        new RefDense(120, RefActivation.ReLU),
        new RefDense(84, RefActivation.ReLU),
        new RefDense(10, RefActivation.Softmax),
    ]);

    [Fact]
    public void LeNet5_shapes_and_parameter_count()
    {
        ReferenceNetwork net = LeNet5();
        Assert.Equal(
            [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1), (84, 1, 1), (10, 1, 1)],
            net.OutputShapes);
        Assert.Equal(1024, net.InputLength);
        Assert.Equal(10, net.OutputLength);
        Assert.Equal(61_706, net.ParameterCount);
        Assert.True(net.EndsWithSoftmax);
    }

    [Fact]
    public void LeNet5_tensors_follow_state_dict_order()
    {
        ReferenceNetwork net = LeNet5();
        (string, int, int[])[] expected =
        [
            ("conv1.weight", 0, [6, 1, 5, 5]),
            ("conv1.bias", 150, [6]),
            ("conv2.weight", 156, [16, 6, 5, 5]),
            ("conv2.bias", 2556, [16]),
            ("fc1.weight", 2572, [120, 400]),
            ("fc1.bias", 50572, [120]),
            ("fc2.weight", 50692, [84, 120]),
            ("fc2.bias", 60772, [84]),
            ("fc3.weight", 60856, [10, 84]),
            ("fc3.bias", 61696, [10]),
        ];
        Assert.Equal(expected.Length, net.Tensors.Count);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Item1, net.Tensors[t].Name);
            Assert.Equal(expected[t].Item2, net.Tensors[t].Offset);
            Assert.Equal(expected[t].Item3, net.Tensors[t].Shape);
        }

        // The tensors tile the parameter vector without gaps.
        var last = net.Tensors[^1];
        Assert.Equal(net.ParameterCount, last.Offset + last.Shape.Aggregate(1, (a, b) => a * b));
    }

    [Theory]
    [InlineData(0, 1, 3)] // no padding
    [InlineData(1, 1, 5)] // "same" padding
    [InlineData(0, 2, 2)] // stride 2
    [InlineData(1, 2, 3)] // padding 1 and stride 2
    public void Conv_3x3_on_5x5(int padding, int stride, int expected)
    {
        var net = new ReferenceNetwork(1, 5, 5, [new RefConv(1, 3, stride, padding)]);
        Assert.Equal([(1, expected, expected)], net.OutputShapes);
        Assert.Equal(10, net.ParameterCount);
    }

    [Theory]
    // input, kernel, stride, padding, rounding, expected — Ceiling values follow PyTorch's ceil_mode rule:
    // out = ceil((in + 2P − K) / S) + 1, minus one if (out − 1)·S ≥ in + P.
    [InlineData(5, 2, 2, 0, RefRounding.Ceiling, 3)] // MaxPool2d(2, 2, ceil_mode=True) on 5 → 3
    [InlineData(5, 2, 2, 0, RefRounding.Floor, 2)]
    [InlineData(5, 3, 3, 1, RefRounding.Ceiling, 2)] // ceil(5/3)+1 = 3, but (3−1)·3 = 6 ≥ 5+1, so 2
    [InlineData(6, 1, 4, 0, RefRounding.Ceiling, 2)] // ceil(5/4)+1 = 3, but (3−1)·4 = 8 ≥ 6, so 2
    [InlineData(6, 3, 2, 1, RefRounding.Ceiling, 4)] // ceil(5/2)+1 = 4; (4−1)·2 = 6 < 7
    [InlineData(6, 3, 2, 1, RefRounding.Floor, 3)]
    [InlineData(7, 3, 2, 0, RefRounding.Exact, 3)]
    [InlineData(7, 3, 2, 0, RefRounding.Ceiling, 3)] // whole sizes are the same in every mode
    [InlineData(4, 4, 1, 0, RefRounding.Exact, 1)]
    public void OutputSize_follows_the_rounding_rules(int input, int kernel, int stride, int padding, RefRounding rounding, int expected)
    {
        Assert.Equal(expected, ReferenceNetwork.OutputSize(input, kernel, stride, padding, rounding));
    }

    [Fact]
    public void Ceiling_max_pool_on_5x5_gives_3x3()
    {
        var net = new ReferenceNetwork(1, 5, 5, [new RefPoolLayer(RefPool.Max, 2, 2)], RefRounding.Ceiling);
        Assert.Equal([(1, 3, 3)], net.OutputShapes);
        Assert.Equal(0, net.ParameterCount);
        Assert.Empty(net.Tensors);
    }

    [Fact]
    public void Dense_flattens_its_input()
    {
        var net = new ReferenceNetwork(3, 4, 5, [new RefDense(7), new RefDense(2, RefActivation.Softmax)]);
        Assert.Equal([(7, 1, 1), (2, 1, 1)], net.OutputShapes);
        Assert.Equal((7 * 60) + 7 + (2 * 7) + 2, net.ParameterCount);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], net.Tensors.Select(t => t.Name));
        Assert.Equal([7, 60], net.Tensors[0].Shape);
    }

    [Fact]
    public void Invalid_networks_are_rejected()
    {
        // A window that does not fit.
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefConv(1, 5)]));
        // Exact mode with a size that is not whole; Floor accepts it.
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 5, 5, [new RefPoolLayer(RefPool.Max, 2, 2)]));
        Assert.Equal([(1, 2, 2)], new ReferenceNetwork(1, 5, 5, [new RefPoolLayer(RefPool.Max, 2, 2)], RefRounding.Floor).OutputShapes);
        // Softmax before the last layer.
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefDense(3, RefActivation.Softmax), new RefDense(2)]));
        // Spatial layers after a dense layer.
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefDense(4), new RefConv(1, 1)]));
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefDense(4), new RefPoolLayer(RefPool.Max, 1, 1)]));
        // Degenerate sizes.
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefConv(0, 3)]));
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefConv(1, 3, Stride: 0)]));
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefConv(1, 3, Padding: -1)]));
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, [new RefDense(0)]));
        Assert.Throws<ArgumentException>(() => new ReferenceNetwork(1, 4, 4, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReferenceNetwork(0, 4, 4, [new RefDense(1)]));
    }

    [Fact]
    public void Wrong_lengths_and_labels_are_rejected()
    {
        var net = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.Softmax)]);
        double[] theta = new double[net.ParameterCount];
        Assert.Throws<ArgumentException>(() => net.Forward(new double[5], new double[2]));
        Assert.Throws<ArgumentException>(() => net.Forward(theta, new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Loss(theta, new double[2], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Loss(theta, new double[2], -1));
        Assert.Throws<ArgumentException>(() => net.MeanLoss(theta, new double[3], [0, 1]));
        Assert.Throws<ArgumentException>(() => net.Gradient(theta, [], []));

        var noSoftmax = new ReferenceNetwork(1, 1, 2, [new RefDense(2)]);
        Assert.Throws<InvalidOperationException>(() => noSoftmax.Loss(new double[6], new double[2], 0));
        Assert.Throws<InvalidOperationException>(() => noSoftmax.Gradient(new double[6], new double[2], [0]));
    }

    // ---------------------------------------------------------------- hand-computed forward values

    private static readonly double[] OneToNine = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Fact]
    public void Conv_2x2_kernel_on_3x3_input()
    {
        // in = [1 2 3; 4 5 6; 7 8 9], w = [1 2; 3 4], b = 0.5.
        // out[0,0] = 1·1 + 2·2 + 3·4 + 4·5 = 37, out[0,1] = 2 + 6 + 15 + 24 = 47,
        // out[1,0] = 4 + 10 + 21 + 32 = 67, out[1,1] = 5 + 12 + 24 + 36 = 77; each plus the bias.
        var net = new ReferenceNetwork(1, 3, 3, [new RefConv(1, 2)]);
        Assert.Equal([37.5, 47.5, 67.5, 77.5], net.Forward([1, 2, 3, 4, 0.5], OneToNine));
    }

    [Fact]
    public void Conv_with_padding_and_stride()
    {
        // A 3×3 all-ones kernel with padding 1 and stride 2 on a 3×3 input gives 2×2 window sums
        // centred on the corners: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
        var net = new ReferenceNetwork(1, 3, 3, [new RefConv(1, 3, Stride: 2, Padding: 1)]);
        double[] theta = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
        Assert.Equal([12.0, 16.0, 24.0, 28.0], net.Forward(theta, OneToNine));
    }

    [Fact]
    public void Conv_weight_layout_is_filter_channel_row_column()
    {
        // 2 channels of 1×2, two 1×1 filters: out[f, x] = b[f] + Σ_c w[f, c] · in[c, x].
        var net = new ReferenceNetwork(2, 1, 2, [new RefConv(2, 1)]);
        double[] theta = [1, 10, 100, 1000, 0.25, -0.5]; // w[0,0], w[0,1], w[1,0], w[1,1], b[0], b[1]
        double[] input = [1, 2, 3, 4];                  // channel 0: 1 2, channel 1: 3 4
        // f=0: 1·1 + 10·3 = 31, 1·2 + 10·4 = 42; f=1: 100·1 + 1000·3 = 3100, 100·2 + 1000·4 = 4200.
        Assert.Equal([31.25, 42.25, 3099.5, 4199.5], net.Forward(theta, input));
    }

    [Fact]
    public void Conv_with_ReLU()
    {
        var net = new ReferenceNetwork(1, 1, 3, [new RefConv(1, 1, Activation: RefActivation.ReLU)]);
        Assert.Equal([0.0, 0.0, 1.0], net.Forward([1, -1], [-2, 1, 2]));
    }

    [Fact]
    public void Pools_over_2x2()
    {
        double[] input = [1, 5, 3, 2];
        var max = new ReferenceNetwork(1, 2, 2, [new RefPoolLayer(RefPool.Max, 2, 2)]);
        var average = new ReferenceNetwork(1, 2, 2, [new RefPoolLayer(RefPool.Average, 2, 2)]);
        Assert.Equal([5.0], max.Forward([], input));
        Assert.Equal([2.75], average.Forward([], input));
    }

    [Fact]
    public void Pools_work_per_channel_over_a_4x4_input()
    {
        // Channel 0 is 0..15 row-major; channel 1 is its negation.
        double[] input = Enumerable.Range(0, 16).Select(i => (double)i).Concat(Enumerable.Range(0, 16).Select(i => (double)-i)).ToArray();
        var max = new ReferenceNetwork(2, 4, 4, [new RefPoolLayer(RefPool.Max, 2, 2)]);
        var average = new ReferenceNetwork(2, 4, 4, [new RefPoolLayer(RefPool.Average, 2, 2)]);
        Assert.Equal([5.0, 7, 13, 15, 0, -2, -8, -10], max.Forward([], input));
        Assert.Equal([2.5, 4.5, 10.5, 12.5, -2.5, -4.5, -10.5, -12.5], average.Forward([], input));
    }

    [Fact]
    public void Ceiling_pools_clip_their_windows()
    {
        // 3×3 input, 2×2 windows with stride 2: [1 2; 4 5], [3; 6], [7 8], [9].
        var max = new ReferenceNetwork(1, 3, 3, [new RefPoolLayer(RefPool.Max, 2, 2)], RefRounding.Ceiling);
        var average = new ReferenceNetwork(1, 3, 3, [new RefPoolLayer(RefPool.Average, 2, 2)], RefRounding.Ceiling);
        Assert.Equal([5.0, 6, 8, 9], max.Forward([], OneToNine));
        Assert.Equal([3.0, 4.5, 7.5, 9], average.Forward([], OneToNine)); // divided by the in-bounds count
    }

    [Fact]
    public void Ceiling_conv_reads_zeros_beyond_the_padding()
    {
        // 1×4 input, kernel 3, stride 2, padding 1: span = 3, ceil(3/2) + 1 = 3 (and (3−1)·2 = 4 < 5).
        // Padded row: 0 1 2 3 4 0, plus one read past it (also 0) for the last window.
        var net = new ReferenceNetwork(1, 1, 4, [new RefConv(1, 3, Stride: 2, Padding: 1)], RefRounding.Ceiling);
        Assert.Equal([(1, 1, 3)], net.OutputShapes);
        // Only the middle row of the 3×3 kernel touches the input; its weights are 1, 10, 100.
        double[] theta = [0, 0, 0, 1, 10, 100, 0, 0, 0, 0];
        // Windows over padded columns 0..2, 2..4, 4..6: (0,1,2), (2,3,4), (4,0,0).
        Assert.Equal([210.0, 432, 4], net.Forward(theta, [1, 2, 3, 4]));
    }

    [Fact]
    public void Dense_layer()
    {
        // W = [1 2 3; 4 5 6], b = [0.5, −1], x = [1, −1, 2]: 1 − 2 + 6 + 0.5 = 5.5; 4 − 5 + 12 − 1 = 10.
        var net = new ReferenceNetwork(1, 1, 3, [new RefDense(2)]);
        Assert.Equal([5.5, 10.0], net.Forward([1, 2, 3, 4, 5, 6, 0.5, -1], [1, -1, 2]));
    }

    [Fact]
    public void Dense_reads_the_input_in_channel_row_column_order()
    {
        // A one-hot weight row picks input index c·H·W + y·W + x; here (c, y, x) = (1, 0, 1) of a 2×2×2 input → 5.
        var net = new ReferenceNetwork(2, 2, 2, [new RefDense(1)]);
        double[] theta = new double[9];
        theta[5] = 1;
        Assert.Equal([105.0], net.Forward(theta, [100, 101, 102, 103, 104, 105, 106, 107]));
    }

    [Fact]
    public void Activations_of_known_values()
    {
        double[] identity = [1, 0, 0, 1, 0, 0];
        var tanh = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.Tanh)]);
        var sigmoid = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.Sigmoid)]);
        var relu = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.ReLU)]);

        double[] t = tanh.Forward(identity, [0.5, -2]);
        Assert.Equal(0.46211715726000974, t[0], Tight);
        Assert.Equal(-0.9640275800758169, t[1], Tight);

        double[] s = sigmoid.Forward(identity, [0, Math.Log(3)]); // σ(ln 3) = 1 / (1 + 1/3) = 0.75
        Assert.Equal(0.5, s[0], Tight);
        Assert.Equal(0.75, s[1], Tight);

        Assert.Equal([0.0, 3.0], relu.Forward(identity, [-3, 3]));
        Assert.Equal([0.0, 0.0], relu.Forward(identity, [0, -0.0]));
    }

    [Fact]
    public void Softmax_and_loss_of_known_logits()
    {
        // Logits 1, 2, 3: p = e^k / (e + e² + e³).
        var net = new ReferenceNetwork(1, 1, 3, [new RefDense(3, RefActivation.Softmax)]);
        double[] identity = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
        double[] p = net.Forward(identity, [1, 2, 3]);
        Assert.Equal(0.09003057317038046, p[0], Tight);
        Assert.Equal(0.24472847105479764, p[1], Tight);
        Assert.Equal(0.6652409557748219, p[2], Tight);
        Assert.Equal(0.40760596444437967, net.Loss(identity, [1, 2, 3], 2), Tight);   // −ln p[2]
        Assert.Equal(2.40760596444437967, net.Loss(identity, [1, 2, 3], 0), Tight);   // −ln p[0] = (ln Σ − 3) + 2
        Assert.Equal((0.40760596444437967 + 1.40760596444437967) / 2, net.MeanLoss(identity, [1, 2, 3, 1, 2, 3], [2, 1]), Tight);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits()
    {
        var net = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.Softmax)]);
        double[] identity = [1, 0, 0, 1, 0, 0];
        Assert.Equal([0.5, 0.5], net.Forward(identity, [1000, 1000]));
        double[] p = net.Forward(identity, [-1000, 1000]);
        Assert.Equal(0.0, p[0]);
        Assert.Equal(1.0, p[1]);
        Assert.Equal(2000.0, net.Loss(identity, [-1000, 1000], 0), Tight); // finite although p[0] underflows
        Assert.Equal(0.0, net.Loss(identity, [-1000, 1000], 1), Tight);
    }

    [Fact]
    public void ForwardLayers_returns_every_layer_output()
    {
        var net = new ReferenceNetwork(1, 3, 3,
        [
            new RefConv(1, 2, Activation: RefActivation.ReLU),
            new RefPoolLayer(RefPool.Max, 2, 1),
            new RefDense(1),
        ]);
        double[] theta = [1, 0, 0, -1, 0.5, 2, 1];
        double[][] layers = net.ForwardLayers(theta, [1, 2, 3, 4, 5, 6, 7, 8, 0]);
        // Conv: in[y,x] − in[y+1,x+1] + 0.5 → 1−5, 2−6, 4−8, 5−0 → −3.5, −3.5, −3.5, 5.5 → ReLU.
        Assert.Equal([0.0, 0, 0, 5.5], layers[0]);
        Assert.Equal([5.5], layers[1]);
        Assert.Equal([12.0], layers[2]);
        Assert.Equal(layers[2], net.Forward(theta, [1, 2, 3, 4, 5, 6, 7, 8, 0]));
    }

    [Fact]
    public void InitialParameters_respect_the_fan_in_bounds()
    {
        ReferenceNetwork net = LeNet5();
        double[] theta = net.InitialParameters(new Random(7));
        Assert.Equal(net.ParameterCount, theta.Length);
        Assert.Equal(theta, net.InitialParameters(new Random(7)));
        double[] fanIns = [25, 25, 150, 150, 400, 400, 120, 120, 84, 84];
        for (int t = 0; t < net.Tensors.Count; t++)
        {
            var (name, offset, shape) = net.Tensors[t];
            double bound = 1 / Math.Sqrt(fanIns[t]);
            double[] values = theta.AsSpan(offset, shape.Aggregate(1, (a, b) => a * b)).ToArray();
            Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, bound));
            Assert.True(values.Max(v => Math.Abs(v)) > bound / 2, $"{name} should use most of its range.");
        }
    }

    // ---------------------------------------------------------------- gradients

    private static readonly Dictionary<string, ReferenceNetwork> GradientNetworks = new()
    {
        ["ConvPaddingStride2Tanh"] = new(1, 7, 7,
        [
            new RefConv(3, 3, Stride: 2, Padding: 1, Activation: RefActivation.Tanh), // 3×4×4
            new RefDense(4, RefActivation.Softmax),
        ]),
        ["MaxPool"] = new(1, 6, 6,
        [
            new RefConv(2, 3, Activation: RefActivation.Tanh), // 2×4×4
            new RefPoolLayer(RefPool.Max, 2, 2),                // 2×2×2
            new RefDense(3, RefActivation.Softmax),
        ]),
        ["AvgPoolSigmoid"] = new(1, 6, 6,
        [
            new RefConv(2, 3, Activation: RefActivation.Sigmoid),
            new RefPoolLayer(RefPool.Average, 2, 2),
            new RefDense(3, RefActivation.Softmax),
        ]),
        ["ReluSigmoidTanhChain"] = new(1, 5, 5,
        [
            new RefConv(3, 2, Activation: RefActivation.ReLU),    // 3×4×4
            new RefConv(2, 3, Activation: RefActivation.Sigmoid), // 2×2×2
            new RefDense(5, RefActivation.Tanh),
            new RefDense(3, RefActivation.Softmax),
        ]),
        ["DenseOnly"] = new(1, 1, 6,
        [
            new RefDense(5, RefActivation.ReLU),
            new RefDense(4, RefActivation.Sigmoid),
            new RefDense(3, RefActivation.Softmax),
        ]),
        ["MultiChannel"] = new(3, 5, 5,
        [
            new RefConv(4, 3, Padding: 1, Activation: RefActivation.ReLU), // 4×5×5
            new RefPoolLayer(RefPool.Max, 2, 1),                           // 4×4×4 (overlapping windows)
            new RefConv(2, 2, Stride: 2, Activation: RefActivation.Tanh),  // 2×2×2
            new RefDense(3, RefActivation.Softmax),
        ]),
        ["CeilingMaxPool"] = new(2, 6, 6,
        [
            new RefConv(3, 3, Stride: 2, Padding: 1, Activation: RefActivation.Tanh), // 3×4×4, last window past the padding
            new RefPoolLayer(RefPool.Max, 3, 2),                                     // 3×2×2, last window clipped
            new RefDense(3, RefActivation.Softmax),
        ], RefRounding.Ceiling),
        ["CeilingAvgPool"] = new(1, 6, 6,
        [
            new RefConv(2, 2, Activation: RefActivation.Sigmoid), // 2×5×5
            new RefPoolLayer(RefPool.Average, 2, 2),              // 2×3×3, clipped windows
            new RefDense(3, RefActivation.Softmax),
        ], RefRounding.Ceiling),
        ["FloorPool"] = new(1, 6, 6,
        [
            new RefConv(2, 2, Activation: RefActivation.Tanh), // 2×5×5
            new RefPoolLayer(RefPool.Max, 2, 2),               // 2×2×2, the last row and column dropped
            new RefDense(2, RefActivation.Softmax),
        ], RefRounding.Floor),
        ["MiniLeNet"] = new(1, 12, 12,
        [
            new RefConv(2, 5, Activation: RefActivation.ReLU), // 2×8×8
            new RefPoolLayer(RefPool.Average, 2, 2),           // 2×4×4
            new RefConv(3, 3, Activation: RefActivation.ReLU), // 3×2×2
            new RefPoolLayer(RefPool.Average, 2, 2),           // 3×1×1
            new RefDense(6, RefActivation.ReLU),
            new RefDense(4, RefActivation.Softmax),
        ]),
    };

    public static TheoryData<string, int> GradientCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in GradientNetworks.Keys)
        {
            data.Add(name, 3); // a batch of three examples
        }

        data.Add("DenseOnly", 1);
        data.Add("MaxPool", 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradient_matches_central_finite_differences(string network, int batch)
    {
        ReferenceNetwork net = GradientNetworks[network];
        var random = new Random(1234 + network.Length + batch);
        double[] theta = net.InitialParameters(random);
        double[] inputs = RandomVector(random, batch * net.InputLength);
        int[] labels = Enumerable.Range(0, batch).Select(n => n % net.OutputLength).ToArray();

        double[] analytic = net.Gradient(theta, inputs, labels);
        double[] numeric = net.FiniteDifferenceGradient(theta, inputs, labels, Step);

        Assert.Equal(net.ParameterCount, analytic.Length);
        Assert.Equal(net.ParameterCount, numeric.Length);
        (int checkedEntries, List<string> failures) = CompareGradients(analytic, numeric);
        Assert.True(failures.Count == 0, $"{network}: {failures.Count} mismatches, e.g. {string.Join("; ", failures.Take(5))}");
        // Guard against a vacuous pass: most entries must be large enough for the relative check.
        Assert.True(checkedEntries >= net.ParameterCount / 3, $"{network}: only {checkedEntries} of {net.ParameterCount} entries were non-degenerate.");
    }

    [Fact]
    public void Gradient_comparison_detects_a_wrong_gradient()
    {
        // The same check must reject the gradient for other labels, and a single perturbed entry.
        ReferenceNetwork net = GradientNetworks["MaxPool"];
        var random = new Random(99);
        double[] theta = net.InitialParameters(random);
        double[] inputs = RandomVector(random, 2 * net.InputLength);
        double[] numeric = net.FiniteDifferenceGradient(theta, inputs, [0, 1], Step);

        Assert.NotEmpty(CompareGradients(net.Gradient(theta, inputs, [2, 1]), numeric).Failures);

        double[] analytic = net.Gradient(theta, inputs, [0, 1]);
        Assert.Empty(CompareGradients(analytic, numeric).Failures);
        int largest = Array.IndexOf(analytic, analytic.MaxBy(v => Math.Abs(v)));
        analytic[largest] *= 1 + 1e-5;
        Assert.Single(CompareGradients(analytic, numeric).Failures);
    }

    [Fact]
    public void Batch_gradient_and_loss_are_means_over_examples()
    {
        ReferenceNetwork net = GradientNetworks["MultiChannel"];
        var random = new Random(5);
        double[] theta = net.InitialParameters(random);
        double[] inputs = RandomVector(random, 3 * net.InputLength);
        int[] labels = [2, 0, 1];

        double[] batchGradient = net.Gradient(theta, inputs, labels);
        var mean = new double[net.ParameterCount];
        double meanLoss = 0;
        for (int n = 0; n < 3; n++)
        {
            double[] input = inputs.AsSpan(n * net.InputLength, net.InputLength).ToArray();
            double[] single = net.Gradient(theta, input, [labels[n]]);
            for (int i = 0; i < mean.Length; i++)
            {
                mean[i] += single[i] / 3;
            }

            meanLoss += net.Loss(theta, input, labels[n]) / 3;
        }

        Assert.Equal(meanLoss, net.MeanLoss(theta, inputs, labels), Tight);
        for (int i = 0; i < mean.Length; i++)
        {
            Assert.Equal(mean[i], batchGradient[i], Tight);
        }
    }

    [Fact]
    public void Max_pool_ties_send_the_gradient_to_the_first_maximum()
    {
        // Identity 1×1 conv (w = 1, b = 0) into a 2×2 max pool over [3 7; 7 7] → 7; the tie goes to index 1.
        // Backward of E = 2·output: only input 1 (and the conv weight via it) receives gradient.
        var net = new ReferenceNetwork(1, 2, 2, [new RefConv(1, 1), new RefPoolLayer(RefPool.Max, 2, 2)]);
        (double[] dTheta, double[] dInput) = net.Backward([1, 0], [3, 7, 7, 7], [2]);
        Assert.Equal([0.0, 2, 0, 0], dInput);
        Assert.Equal([14.0, 2], dTheta); // ∂E/∂w = 2·7, ∂E/∂b = 2
    }

    [Fact]
    public void Average_pool_backward_divides_by_the_in_bounds_count()
    {
        var net = new ReferenceNetwork(1, 3, 3, [new RefPoolLayer(RefPool.Average, 2, 2)], RefRounding.Ceiling);
        (double[] dTheta, double[] dInput) = net.Backward([], OneToNine, [4, 2, 2, 1]);
        Assert.Empty(dTheta);
        Assert.Equal([1.0, 1, 1, 1, 1, 1, 1, 1, 1], dInput);
    }

    [Fact]
    public void ReLU_derivative_at_zero_is_zero()
    {
        var net = new ReferenceNetwork(1, 1, 2, [new RefDense(2, RefActivation.ReLU)]);
        (double[] dTheta, double[] dInput) = net.Backward([1, 0, 0, 1, 0, 0], [0, 2], [1, 1]);
        Assert.Equal([0.0, 1], dInput);
        Assert.Equal([0.0, 0, 0, 2, 0, 1], dTheta);
    }

    [Theory]
    [InlineData("ConvPaddingStride2Tanh")]
    [InlineData("MultiChannel")]
    [InlineData("CeilingMaxPool")]
    public void Backward_matches_finite_differences_of_a_weighted_output_sum(string network)
    {
        // E(θ, x) = Σ_k g_k · output_k for a fixed random g: checks ∂E/∂θ and ∂E/∂x, including through the Softmax Jacobian.
        ReferenceNetwork net = GradientNetworks[network];
        var random = new Random(42);
        double[] theta = net.InitialParameters(random);
        double[] input = RandomVector(random, net.InputLength);
        double[] g = RandomVector(random, net.OutputLength);
        (double[] dTheta, double[] dInput) = net.Backward(theta, input, g);

        double E(double[] p, double[] x)
        {
            double[] y = net.Forward(p, x);
            double sum = 0;
            for (int k = 0; k < y.Length; k++)
            {
                sum += g[k] * y[k];
            }

            return sum;
        }

        const double h = Step;
        double[] numericTheta = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            numericTheta[i] = (E(plus, input) - E(minus, input)) / (2 * h);
        }

        double[] numericInput = new double[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            double[] plus = (double[])input.Clone(), minus = (double[])input.Clone();
            plus[i] += h;
            minus[i] -= h;
            numericInput[i] = (E(theta, plus) - E(theta, minus)) / (2 * h);
        }

        (int checkedTheta, List<string> failTheta) = CompareGradients(dTheta, numericTheta);
        (int checkedInput, List<string> failInput) = CompareGradients(dInput, numericInput);
        Assert.True(failTheta.Count == 0, string.Join("; ", failTheta.Take(5)));
        Assert.True(failInput.Count == 0, string.Join("; ", failInput.Take(5)));
        Assert.True(checkedTheta >= theta.Length / 2 && checkedInput >= input.Length / 4, $"{checkedTheta}/{theta.Length}, {checkedInput}/{input.Length}");
    }

    // ---------------------------------------------------------------- helpers

    private static double[] RandomVector(Random random, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (2 * random.NextDouble()) - 1;
        }

        return values;
    }

    // An entry is non-degenerate when either value exceeds 1e-4 in magnitude; it must then agree to a relative error
    // below 1e-6. Below 1e-4 the round-off of a central difference with h = 1e-5 on a loss of order 1 (about 1e-11)
    // is no longer negligible against 1e-6, so smaller entries (e.g. exact zeros behind an inactive ReLU) must instead
    // agree to 1e-10 absolutely. Observed worst cases: relative 1e-7, absolute 2e-11. No entry needs skipping for a
    // ReLU kink: with these seeds no pre-activation lies within a step of 0 (a kink would show up as a large error).
    private (int Checked, List<string> Failures) CompareGradients(double[] analytic, double[] numeric)
    {
        const double Threshold = 1e-4, Relative = 1e-6, Absolute = 1e-10;
        int count = 0;
        double worstRelative = 0, worstAbsolute = 0;
        string worst = "none";
        var failures = new List<string>();
        for (int i = 0; i < analytic.Length; i++)
        {
            double a = analytic[i], n = numeric[i];
            double scale = Math.Max(Math.Abs(a), Math.Abs(n));
            if (scale > Threshold)
            {
                count++;
                if (Math.Abs(a - n) / scale > worstRelative)
                {
                    worstRelative = Math.Abs(a - n) / scale;
                    worst = $"[{i}] analytic {a:R} numeric {n:R}";
                }

                if (Math.Abs(a - n) / scale >= Relative)
                {
                    failures.Add($"[{i}] analytic {a:R} numeric {n:R}");
                }
            }
            else if ((worstAbsolute = Math.Max(worstAbsolute, Math.Abs(a - n))) >= Absolute)
            {
                failures.Add($"[{i}] analytic {a:R} numeric {n:R} (small)");
            }
        }

        output.WriteLine($"{count} of {analytic.Length} entries non-degenerate; worst relative error {worstRelative:E2} at {worst}, worst absolute error of the rest {worstAbsolute:E2}");
        return (count, failures);
    }
}

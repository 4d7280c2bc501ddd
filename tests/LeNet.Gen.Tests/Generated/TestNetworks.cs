using System;
using System.Collections.Generic;
using LeNet.Gen.Tests.Reference;

namespace LeNet.Gen.Tests.Generated;

// The architectures the generated code is tested on, each declared with the attributes (as a user would) and described
// again, independently, for the double-precision reference.

/// <summary>LeNet-5 as specified: ReLU, average pooling, softmax head.</summary>
[Network(1, 32, 32)]
[Conv(6, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 2, Stride = 2)]
[Conv(16, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 2, Stride = 2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5 { }

/// <summary>LeNet-5 with max pooling and tanh, as in the original paper's spirit.</summary>
[Network(1, 32, 32)]
[Conv(6, 5, Activation = Activation.Tanh)]
[Pool(PoolKind.Max, 2)]
[Conv(16, 5, Activation = Activation.Tanh)]
[Pool(PoolKind.Max, 2)]
[Dense(120, Activation = Activation.Tanh)]
[Dense(84, Activation = Activation.Tanh)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5MaxTanh { }

/// <summary>Padding and a stride-2 convolution: 1×16×16 → 4×16×16 → 6×8×8 → 6×4×4 → 10.</summary>
[Network(1, 16, 16)]
[Conv(4, 3, Padding = 1, Activation = Activation.ReLU)]
[Conv(6, 4, Stride = 2, Padding = 1, Activation = Activation.Sigmoid)]
[Pool(PoolKind.Max, 2)]
[Dense(10, Activation = Activation.Softmax)]
public partial class PaddedStrided { }

/// <summary>A 3-channel 32×32 input (CIFAR-sized).</summary>
[Network(3, 32, 32)]
[Conv(6, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(16, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 2)]
[Dense(32, Activation = Activation.ReLU)]
[Dense(10, Activation = Activation.Softmax)]
public partial class Rgb32 { }

/// <summary>No convolution at all: the input is flattened straight into dense layers.</summary>
[Network(1, 8, 8)]
[Dense(16, Activation = Activation.Tanh)]
[Dense(12, Activation = Activation.Sigmoid)]
[Dense(5, Activation = Activation.Softmax)]
public partial class DenseOnly { }

/// <summary>Ceiling rounding: a convolution whose last window reads past the edge, then clipped average-pool windows.</summary>
[Network(1, 15, 15, Rounding = ShapeRounding.Ceiling)]
[Conv(3, 4, Stride = 2, Activation = Activation.Tanh)]
[Pool(PoolKind.Average, 2)]
[Dense(4, Activation = Activation.Softmax)]
public partial class CeilingAverage { }

/// <summary>
/// Pooling windows other than 2×2 with stride 2, all inside the input: 2×29×29 → 6×27×27 → max 3×3 s2 → 6×13×13 →
/// 8×12×12 → average 3×3 s1 → 8×10×10 → max 2×2 s1 → 8×9×9 → average 3×3 s3 → 8×3×3 → 10.
/// </summary>
[Network(2, 29, 29)]
[Conv(6, 3, Activation = Activation.Tanh)]
[Pool(PoolKind.Max, 3, Stride = 2)]
[Conv(8, 2, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 3, Stride = 1)]
[Pool(PoolKind.Max, 2, Stride = 1)]
[Pool(PoolKind.Average, 3, Stride = 3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class WindowPools { }

/// <summary>
/// A stride-4 pool on the caller's input, with rows of more than 16 outputs: 1×70×70 → average 4×4 s4 → 1×17×17 (the
/// last two rows and columns in no window) → 4×15×15 → max 3×3 s3 → 4×5×5 → 6.
/// </summary>
[Network(1, 70, 70, Rounding = ShapeRounding.Floor)]
[Pool(PoolKind.Average, 4, Stride = 4)]
[Conv(4, 3, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 3, Stride = 3)]
[Dense(6, Activation = Activation.Softmax)]
public partial class WidePoolFirst { }

/// <summary>Ceiling rounding with a max pool as the first layer (clipped windows, no backward through it).</summary>
[Network(2, 9, 9, Rounding = ShapeRounding.Ceiling)]
[Pool(PoolKind.Max, 2)]
[Conv(3, 3, Padding = 1, Activation = Activation.ReLU)]
[Dense(3, Activation = Activation.Softmax)]
public partial class CeilingMaxFirst { }

/// <summary>Global average pooling between convolutions and a dense head: 2×12×12 → 5×10×10 → 5×5×5 → 8×3×3 → 8×1×1 → 10.</summary>
[Network(2, 12, 12)]
[Conv(5, 3, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(8, 3, Activation = Activation.Tanh)]
[GlobalAveragePool]
[Dense(10, Activation = Activation.Softmax)]
public partial class GlobalPooled { }

/// <summary>Global average pooling straight on the input (no backward through it), then a 1×1-sized convolution and a dense head.</summary>
[Network(3, 7, 5)]
[GlobalAveragePool]
[Conv(4, 1, Activation = Activation.Sigmoid)]
[Dense(3, Activation = Activation.Softmax)]
public partial class GlobalPooledFirst { }

/// <summary>Dropout on a spatial output and on a dense one: 1×12×12 → 4×10×10 → (drop 0.25) → 4×5×5 → 16 → (drop 0.5) → 5.</summary>
[Network(1, 12, 12)]
[Conv(4, 3, Activation = Activation.ReLU)]
[Dropout(0.25)]
[Pool(PoolKind.Max, 2)]
[Dense(16, Activation = Activation.Tanh)]
[Dropout(0.5)]
[Dense(5, Activation = Activation.Softmax)]
public partial class DropoutNet { }

/// <summary>Dropout on the input (no backward through it) and before a global pool: 2×6×6 → (drop 0.2) → 3×4×4 → (drop 0.1) → 3×1×1 → 4.</summary>
[Network(2, 6, 6)]
[Dropout(0.2)]
[Conv(3, 3, Activation = Activation.Sigmoid)]
[Dropout(0.1)]
[GlobalAveragePool]
[Dense(4, Activation = Activation.Softmax)]
public partial class DropoutFirst { }

/// <summary>Batch norm after convolutions (per channel, ReLU and Tanh moved after it) and after a dense layer (per unit, no activation).</summary>
[Network(1, 12, 12)]
[Conv(4, 3, Activation = Activation.ReLU)]
[BatchNorm]
[Pool(PoolKind.Max, 2)]
[Conv(6, 3, Activation = Activation.Tanh)]
[BatchNorm(Epsilon = 1e-3, Momentum = 0.2)]
[Dense(12)]
[BatchNorm]
[Dense(5, Activation = Activation.Softmax)]
public partial class BatchNormNet { }

/// <summary>Batch norm on a dense layer with a sigmoid moved after it, then global pooling is not involved: 2×5×5 → 10 → 4.</summary>
[Network(2, 5, 5)]
[Dense(10, Activation = Activation.Sigmoid)]
[BatchNorm]
[Dense(4, Activation = Activation.Softmax)]
public partial class BatchNormDense { }

/// <summary>Batch norm with padding, a stride-2 convolution (vector code on phase planes, unpadded), dropout and global pooling: 3×9×9 → 5×9×9 → 7×4×4 → 7×1×1 → 6.</summary>
[Network(3, 9, 9)]
[Conv(5, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm]
[Conv(7, 3, Stride = 2)]
[BatchNorm(Momentum = 0.5)]
[GlobalAveragePool]
[Dense(6, Activation = Activation.Softmax)]
public partial class BatchNormPadded { }

/// <summary>
/// Stride-2 convolutions large enough for the vector code (space-to-depth onto the stride-1 kernels): 3×32×32 → 16×16×16
/// → 32×8×8 → 32×4×4 → 10. Floor rounding, as (32 + 2·2 − 5) / 2 + 1 is not whole; conv1 is the first layer (no input
/// gradient), conv2 passes its gradient back through the phase planes.
/// </summary>
[Network(3, 32, 32, Rounding = ShapeRounding.Floor)]
[Conv(16, 5, Stride = 2, Padding = 2, Activation = Activation.Tanh)]
[Conv(32, 3, Stride = 2, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Dense(10, Activation = Activation.Softmax)]
public partial class StridedWide { }

/// <summary>
/// Ceiling rounding with a stride-3 convolution whose last window reaches past the padding, on the vector code (9 phase
/// planes per channel, 4×4 → 2×2 sub-kernels): 2×20×20 → 4×18×18 → 8×7×7 → 8×4×4 → 5.
/// </summary>
[Network(2, 20, 20, Rounding = ShapeRounding.Ceiling)]
[Conv(4, 3, Activation = Activation.ReLU)]
[Conv(8, 4, Stride = 3, Padding = 1, Activation = Activation.Tanh)]
[Pool(PoolKind.Average, 2)]
[Dense(5, Activation = Activation.Softmax)]
public partial class StridedCeiling { }

/// <summary>
/// Convolutions for which the cost model (ConvCostModel) picks Winograd's kernels: 3×18×18 → 32×18×18 (direct: 3
/// channels) → 48×18×18 (every call, and its input gradient in batch steps; 9 tiles across, 8 at a time with an
/// overlapping last group; even output) → 48×9×9 → 48×7×7 (batch calls only: 23.7 µs in a batch, 25.4 µs alone against
/// 0.9 × 26.7 µs direct; 4 tiles across, odd output, tanh after) → 10.
/// </summary>
[Network(3, 18, 18)]
[Conv(32, 3, Padding = 1, Activation = Activation.ReLU)]
[Conv(48, 3, Padding = 1)]
[Pool(PoolKind.Max, 2)]
[Conv(48, 3, Activation = Activation.Tanh)]
[Dense(10, Activation = Activation.Softmax)]
public partial class WinogradWide { }

/// <summary>
/// Winograd's kernels on every call for the first layer (with sigmoid after) and the third (4 tiles across, even output;
/// its input gradient too in batch steps): 32×16×16 → 32×16×16 → 32×8×8 → 64×8×8 → 64 → 6.
/// </summary>
[Network(32, 16, 16)]
[Conv(32, 3, Padding = 1, Activation = Activation.Sigmoid)]
[Pool(PoolKind.Max, 2)]
[Conv(64, 3, Padding = 1, Activation = Activation.ReLU)]
[GlobalAveragePool]
[Dense(6, Activation = Activation.Softmax)]
public partial class WinogradFirst { }

/// <summary>
/// Batch calls that keep the convolution on the single-image kernels (Winograd) and run only the dense layers on all the
/// call's inputs at once (their 2048 × 64 weights read once per call): 32×16×16 → 32×16×16 → 32×8×8 → 64 → 10.
/// </summary>
[Network(32, 16, 16)]
[Conv(32, 3, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Dense(64, Activation = Activation.ReLU)]
[Dense(10, Activation = Activation.Softmax)]
public partial class DenseTail { }

/// <summary>No softmax head: Predict only (LNG0201 is expected and silenced in the project file).</summary>
[Network(1, 4, 4)]
[Dense(3, Activation = Activation.Sigmoid)]
public partial class Regressor { }

/// <summary>A generated network paired with its independent reference description.</summary>
public sealed record NetworkCase(string Name, Func<int, ITrainableNetwork> Create, ReferenceNetwork Reference)
{
    public override string ToString() => Name;

    /// <summary>
    /// Networks with dropout: Predict agrees with the reference (dropout is the identity there), but training draws masks,
    /// so the training checks hand the reference the masks of the step (DropoutTests), and they are not in <see cref="All"/>.
    /// </summary>
    public static IReadOnlyList<NetworkCase> WithDropout { get; } = new[]
    {
        new NetworkCase(nameof(DropoutNet), seed => new DropoutNet(seed), new ReferenceNetwork(1, 12, 12, new RefLayer[]
        {
            new RefConv(4, 3, Activation: RefActivation.ReLU), new RefDropout(0.25), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefDense(16, RefActivation.Tanh), new RefDropout(0.5), new RefDense(5, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(DropoutFirst), seed => new DropoutFirst(seed), new ReferenceNetwork(2, 6, 6, new RefLayer[]
        {
            new RefDropout(0.2), new RefConv(3, 3, Activation: RefActivation.Sigmoid), new RefDropout(0.1),
            new RefGlobalAveragePool(), new RefDense(4, RefActivation.Softmax),
        })),
    };

    /// <summary>
    /// Networks with batch norm. Their losses couple the examples of a batch through its statistics, and a bias before a
    /// batch norm has a gradient that is exactly 0 in exact arithmetic and float noise here, so the agreement checks use an
    /// absolute floor relative to the gradients' scale (BatchNormTests) rather than the tolerances of <see cref="All"/>.
    /// </summary>
    public static IReadOnlyList<NetworkCase> WithBatchNorm { get; } = new[]
    {
        new NetworkCase(nameof(BatchNormNet), seed => new BatchNormNet(seed), new ReferenceNetwork(1, 12, 12, new RefLayer[]
        {
            new RefConv(4, 3, Activation: RefActivation.ReLU), new RefBatchNorm(), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefConv(6, 3, Activation: RefActivation.Tanh), new RefBatchNorm(1e-3, 0.2), new RefDense(12), new RefBatchNorm(),
            new RefDense(5, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(BatchNormDense), seed => new BatchNormDense(seed), new ReferenceNetwork(2, 5, 5, new RefLayer[]
        {
            new RefDense(10, RefActivation.Sigmoid), new RefBatchNorm(), new RefDense(4, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(BatchNormPadded), seed => new BatchNormPadded(seed), new ReferenceNetwork(3, 9, 9, new RefLayer[]
        {
            new RefConv(5, 3, Padding: 1, Activation: RefActivation.ReLU), new RefBatchNorm(), new RefConv(7, 3, Stride: 2),
            new RefBatchNorm(Momentum: 0.5), new RefGlobalAveragePool(), new RefDense(6, RefActivation.Softmax),
        })),
    };

    public static IReadOnlyList<NetworkCase> All { get; } = new[]
    {
        new NetworkCase(nameof(LeNet5), seed => new LeNet5(seed), new ReferenceNetwork(1, 32, 32, new RefLayer[]
        {
            new RefConv(6, 5, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Average, 2, 2),
            new RefConv(16, 5, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Average, 2, 2),
            new RefDense(120, RefActivation.ReLU), new RefDense(84, RefActivation.ReLU), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(LeNet5MaxTanh), seed => new LeNet5MaxTanh(seed), new ReferenceNetwork(1, 32, 32, new RefLayer[]
        {
            new RefConv(6, 5, Activation: RefActivation.Tanh), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefConv(16, 5, Activation: RefActivation.Tanh), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefDense(120, RefActivation.Tanh), new RefDense(84, RefActivation.Tanh), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(PaddedStrided), seed => new PaddedStrided(seed), new ReferenceNetwork(1, 16, 16, new RefLayer[]
        {
            new RefConv(4, 3, Padding: 1, Activation: RefActivation.ReLU), new RefConv(6, 4, Stride: 2, Padding: 1, Activation: RefActivation.Sigmoid),
            new RefPoolLayer(RefPool.Max, 2, 2), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(Rgb32), seed => new Rgb32(seed), new ReferenceNetwork(3, 32, 32, new RefLayer[]
        {
            new RefConv(6, 5, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefConv(16, 5, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Average, 2, 2),
            new RefDense(32, RefActivation.ReLU), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(DenseOnly), seed => new DenseOnly(seed), new ReferenceNetwork(1, 8, 8, new RefLayer[]
        {
            new RefDense(16, RefActivation.Tanh), new RefDense(12, RefActivation.Sigmoid), new RefDense(5, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(CeilingAverage), seed => new CeilingAverage(seed), new ReferenceNetwork(1, 15, 15, new RefLayer[]
        {
            new RefConv(3, 4, Stride: 2, Activation: RefActivation.Tanh), new RefPoolLayer(RefPool.Average, 2, 2), new RefDense(4, RefActivation.Softmax),
        }, RefRounding.Ceiling)),
        new NetworkCase(nameof(WindowPools), seed => new WindowPools(seed), new ReferenceNetwork(2, 29, 29, new RefLayer[]
        {
            new RefConv(6, 3, Activation: RefActivation.Tanh), new RefPoolLayer(RefPool.Max, 3, 2),
            new RefConv(8, 2, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Average, 3, 1), new RefPoolLayer(RefPool.Max, 2, 1),
            new RefPoolLayer(RefPool.Average, 3, 3), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(WidePoolFirst), seed => new WidePoolFirst(seed), new ReferenceNetwork(1, 70, 70, new RefLayer[]
        {
            new RefPoolLayer(RefPool.Average, 4, 4), new RefConv(4, 3, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Max, 3, 3),
            new RefDense(6, RefActivation.Softmax),
        }, RefRounding.Floor)),
        new NetworkCase(nameof(GlobalPooled), seed => new GlobalPooled(seed), new ReferenceNetwork(2, 12, 12, new RefLayer[]
        {
            new RefConv(5, 3, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Max, 2, 2), new RefConv(8, 3, Activation: RefActivation.Tanh),
            new RefGlobalAveragePool(), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(GlobalPooledFirst), seed => new GlobalPooledFirst(seed), new ReferenceNetwork(3, 7, 5, new RefLayer[]
        {
            new RefGlobalAveragePool(), new RefConv(4, 1, Activation: RefActivation.Sigmoid), new RefDense(3, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(CeilingMaxFirst), seed => new CeilingMaxFirst(seed), new ReferenceNetwork(2, 9, 9, new RefLayer[]
        {
            new RefPoolLayer(RefPool.Max, 2, 2), new RefConv(3, 3, Padding: 1, Activation: RefActivation.ReLU), new RefDense(3, RefActivation.Softmax),
        }, RefRounding.Ceiling)),
        new NetworkCase(nameof(WinogradWide), seed => new WinogradWide(seed), new ReferenceNetwork(3, 18, 18, new RefLayer[]
        {
            new RefConv(32, 3, Padding: 1, Activation: RefActivation.ReLU), new RefConv(48, 3, Padding: 1), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefConv(48, 3, Activation: RefActivation.Tanh), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(WinogradFirst), seed => new WinogradFirst(seed), new ReferenceNetwork(32, 16, 16, new RefLayer[]
        {
            new RefConv(32, 3, Padding: 1, Activation: RefActivation.Sigmoid), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefConv(64, 3, Padding: 1, Activation: RefActivation.ReLU), new RefGlobalAveragePool(), new RefDense(6, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(DenseTail), seed => new DenseTail(seed), new ReferenceNetwork(32, 16, 16, new RefLayer[]
        {
            new RefConv(32, 3, Padding: 1, Activation: RefActivation.ReLU), new RefPoolLayer(RefPool.Max, 2, 2),
            new RefDense(64, RefActivation.ReLU), new RefDense(10, RefActivation.Softmax),
        })),
        new NetworkCase(nameof(StridedWide), seed => new StridedWide(seed), new ReferenceNetwork(3, 32, 32, new RefLayer[]
        {
            new RefConv(16, 5, Stride: 2, Padding: 2, Activation: RefActivation.Tanh), new RefConv(32, 3, Stride: 2, Padding: 1, Activation: RefActivation.ReLU),
            new RefPoolLayer(RefPool.Max, 2, 2), new RefDense(10, RefActivation.Softmax),
        }, RefRounding.Floor)),
        new NetworkCase(nameof(StridedCeiling), seed => new StridedCeiling(seed), new ReferenceNetwork(2, 20, 20, new RefLayer[]
        {
            new RefConv(4, 3, Activation: RefActivation.ReLU), new RefConv(8, 4, Stride: 3, Padding: 1, Activation: RefActivation.Tanh),
            new RefPoolLayer(RefPool.Average, 2, 2), new RefDense(5, RefActivation.Softmax),
        }, RefRounding.Ceiling)),
    };
}

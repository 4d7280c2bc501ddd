using LeNet.Gen;

namespace LeNet.Mnist;

/// <summary>
/// A LeNet-sized network with batch norm (<c>--network lenet-bn</c>): three convolutions (5×5 with 32 filters, 3×3 with
/// padding 1 and 48 filters, 3×3 with 64 filters), each followed by batch norm and ReLU (written on the convolution; the
/// generator applies it after the normalisation), the first two by 2×2 max pooling, then a 32-unit dense layer with batch
/// norm and dropout, and the 10-way softmax: 94,330 parameters. It spends its parameters on the convolutions rather than
/// on the dense layer: an earlier two-convolution version (20 and 40 filters, a 64-unit dense layer, 85,522 parameters)
/// stopped at 92.4–92.6% on Fashion-MNIST.
/// </summary>
[Network(1, 32, 32)]
[Conv(32, 5, Activation = Activation.ReLU)]
[BatchNorm]
[Pool(PoolKind.Max, 2)]
[Conv(48, 3, Padding = 1, Activation = Activation.ReLU)]
[BatchNorm]
[Pool(PoolKind.Max, 2)]
[Conv(64, 3, Activation = Activation.ReLU)]
[BatchNorm]
[Dense(32, Activation = Activation.ReLU)]
[BatchNorm]
[Dropout(0.3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNetBN
{
}

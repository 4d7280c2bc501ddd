using LeNet.Gen;

namespace LeNet.Mnist;

/// <summary>
/// A LeNet-sized network with batch norm (<c>--network lenet-bn</c>): two 5×5 convolutions of 20 and 40 filters, each
/// followed by batch norm, ReLU (written on the convolution; the generator applies it after the normalisation) and 2×2
/// max pooling, then a 64-unit dense layer with batch norm and dropout, and the 10-way softmax: 85,522 parameters.
/// </summary>
[Network(1, 32, 32)]
[Conv(20, 5, Activation = Activation.ReLU)]
[BatchNorm]
[Pool(PoolKind.Max, 2)]
[Conv(40, 5, Activation = Activation.ReLU)]
[BatchNorm]
[Pool(PoolKind.Max, 2)]
[Dense(64, Activation = Activation.ReLU)]
[BatchNorm]
[Dropout(0.3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNetBN
{
}

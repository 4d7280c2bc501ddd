namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The <c>vgg-cifar</c> network of the peer harness (<c>../shared/peers/nets.py</c>):
/// <c>3x32x32 conv32k3p1 relu pool-max2 conv64k3p1 relu pool-max2 conv128k3p1 relu pool-max2 fc256 relu fc10</c>,
/// with a softmax head so that it trains. A CIFAR-sized network with many channels, where the convolutions dominate.
/// </summary>
[Network(3, 32, 32)]
[Conv(32, 3, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(64, 3, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(128, 3, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Dense(256, Activation = Activation.ReLU)]
[Dense(10, Activation = Activation.Softmax)]
public partial class VggCifar
{
}

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The sample's <c>--network lenet-bn</c> (<c>samples/LeNet.Mnist/LeNetBN.cs</c>): two 5×5 convolutions of 20 and 40
/// filters and a 64-unit dense layer, each followed by batch norm, then dropout and the 10-way softmax.
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

/// <summary><see cref="LeNetBN"/> without its three <c>[BatchNorm]</c> layers: everything else is the same.</summary>
[Network(1, 32, 32)]
[Conv(20, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(40, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Dense(64, Activation = Activation.ReLU)]
[Dropout(0.3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNetBNWithoutNorm
{
}

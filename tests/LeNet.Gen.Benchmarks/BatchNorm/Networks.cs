using LeNet.Gen;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The sample's <c>--network lenet-bn</c> (<c>samples/LeNet.Mnist/LeNetBN.cs</c>): three convolutions (32 filters 5×5,
/// 48 filters 3×3 with padding 1, 64 filters 3×3) and a 32-unit dense layer, each followed by batch norm, then dropout
/// and the 10-way softmax.
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

/// <summary><see cref="LeNetBN"/> without its four <c>[BatchNorm]</c> layers: everything else is the same.</summary>
[Network(1, 32, 32)]
[Conv(32, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(48, 3, Padding = 1, Activation = Activation.ReLU)]
[Pool(PoolKind.Max, 2)]
[Conv(64, 3, Activation = Activation.ReLU)]
[Dense(32, Activation = Activation.ReLU)]
[Dropout(0.3)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNetBNWithoutNorm
{
}

using LeNet.Gen;

namespace LeNet.Mnist;

/// <summary>LeNet-5 for 32×32 grey-level digits, declared as a LeNet.Gen user would.</summary>
[Network(1, 32, 32)]
[Conv(6, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 2, Stride = 2)]
[Conv(16, 5, Activation = Activation.ReLU)]
[Pool(PoolKind.Average, 2, Stride = 2)]
[Dense(120, Activation = Activation.ReLU)]
[Dense(84, Activation = Activation.ReLU)]
[Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5
{
}

using LeNet.Gen;

namespace LeNet.Web;

/// <summary>LeNet-5 for 32×32 grey-level digits: the same declaration as the console sample's.</summary>
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

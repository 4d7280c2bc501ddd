namespace LeNet.Gen.Benchmarks;

/// <summary>LeNet-5 as a LeNet.Gen user declares it; the generator writes the rest of the class.</summary>
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

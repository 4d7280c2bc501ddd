using System;
using LeNet.Gen;

namespace LeNet.Mnist;

/// <summary>The network a run trains, with the members the sample needs that are not on <see cref="ITrainableNetwork"/>.</summary>
internal sealed record SampleNetwork(ITrainableNetwork Network, string Summary, Action<string> Save, Action<string> Load)
{
    public static SampleNetwork Create(NetworkKind kind, int seed)
    {
        if (kind == NetworkKind.LeNetBN)
        {
            var network = new LeNetBN(seed);
            return new SampleNetwork(network, LeNetBN.Summary, network.Save, network.Load);
        }

        var lenet = new LeNet5(seed);
        return new SampleNetwork(lenet, LeNet5.Summary, lenet.Save, lenet.Load);
    }
}

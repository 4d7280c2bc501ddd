using System;
using System.Threading;

namespace LeNet.Web;

/// <summary>
/// A trained network that is never changed after it is published: predictions read it from several threads at once
/// (the generated <c>Predict</c> is thread-safe as long as nobody changes the parameters), and training publishes a new
/// copy instead of changing it.
/// </summary>
public sealed class NetworkSnapshot
{
    private NetworkSnapshot(LeNet5 network, int version, string source)
    {
        Network = network;
        Version = version;
        Source = source;
    }

    /// <summary>The network; its parameters must not be changed.</summary>
    public LeNet5 Network { get; }

    /// <summary>1 for the first published network, then one more for each.</summary>
    public int Version { get; }

    /// <summary>Where these weights come from, for people: e.g. <c>trained live, epoch 2 of 5, batch 120 of 250</c>.</summary>
    public string Source { get; }

    /// <summary>Copies <paramref name="parameters"/> into a new network that nobody else holds.</summary>
    internal static NetworkSnapshot Copy(ReadOnlySpan<float> parameters, int version, string source)
    {
        var network = new LeNet5(seed: 0);
        parameters.CopyTo(network.Parameters);
        return new NetworkSnapshot(network, version, source);
    }
}

/// <summary>
/// Holds the network that answers predictions. Publishing swaps one reference to a complete snapshot, so a reader sees
/// either the old weights or the new ones, never a mixture.
/// </summary>
public sealed class NetworkHolder
{
    private NetworkSnapshot? _current;
    private int _version;

    /// <summary>The latest published network, or null before the first one is ready.</summary>
    public NetworkSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>Publishes a copy of <paramref name="parameters"/>; later changes to them do not reach the predictions.</summary>
    /// <param name="parameters">All <see cref="LeNet5.ParameterCount"/> weights and biases.</param>
    /// <param name="source">Where the weights come from, for the page.</param>
    /// <returns>The published snapshot.</returns>
    public NetworkSnapshot Publish(ReadOnlySpan<float> parameters, string source)
    {
        var snapshot = NetworkSnapshot.Copy(parameters, Interlocked.Increment(ref _version), source);
        Volatile.Write(ref _current, snapshot);
        return snapshot;
    }
}

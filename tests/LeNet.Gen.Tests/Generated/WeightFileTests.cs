using System;
using System.IO;
using Xunit;

namespace LeNet.Gen.Tests.Generated;

/// <summary>Save and Load on a generated network: round trips, and a file for another network leaves the weights alone.</summary>
public sealed class WeightFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lenet-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Save_then_Load_restores_every_weight_exactly()
    {
        var trained = new LeNet5(1);
        trained.Train(Numerics.RandomInputs(4, 1024, 1), new[] { 1, 2, 3, 4 }, 0.1f);
        string path = Path.Combine(_folder, "lenet5.safetensors");

        trained.Save(path);
        var loaded = new LeNet5(2);
        loaded.Load(path);

        Assert.True(loaded.Parameters.SequenceEqual(trained.Parameters));
        var input = Numerics.RandomInputs(1, 1024, 9);
        Assert.Equal(trained.Predict(input), loaded.Predict(input));
    }

    [Fact]
    public void Stream_overloads_round_trip()
    {
        var network = new DenseOnly(3);
        using var stream = new MemoryStream();

        network.Save(stream);
        stream.Position = 0;
        var other = new DenseOnly(4);
        other.Load(stream);

        Assert.True(other.Parameters.SequenceEqual(network.Parameters));
    }

    [Fact]
    public void A_file_for_another_architecture_is_rejected_and_changes_nothing()
    {
        string path = Path.Combine(_folder, "maxtanh.safetensors");
        new Rgb32(1).Save(path);
        var network = new LeNet5(5);
        var before = network.Parameters.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => network.Load(path));

        Assert.Contains("conv1.weight: shape [6,3,5,5], expected [6,1,5,5]", error.Message);
        Assert.True(network.Parameters.SequenceEqual(before));
    }
}

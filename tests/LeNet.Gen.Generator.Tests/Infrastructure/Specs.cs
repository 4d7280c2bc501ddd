using System.Linq;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>Builds spec models directly, for the pure shape-inference tests.</summary>
internal static class Specs
{
    public static NetworkSpec Network(int channels, int height, int width, params LayerSpec[] layers) =>
        Network(channels, height, width, RoundingMode.Exact, layers);

    public static NetworkSpec Network(int channels, int height, int width, RoundingMode rounding, params LayerSpec[] layers) =>
        new(
            new TypeIdentity("Tests", EquatableArray<ContainingType>.Empty, "Net", "Net", "Tests.Net.g.cs"),
            channels, height, width, rounding,
            layers.Select((l, i) => l with { Index = i }).ToEquatableArray());

    public static ConvSpec Conv(int filters, int kernel, int stride = 1, int padding = 0, ActivationKind activation = ActivationKind.None) =>
        new(0, filters, kernel, stride, padding, activation);

    public static PoolSpec Pool(PoolingKind kind, int size, int? stride = null) => new(0, kind, size, stride);

    public static DenseSpec Dense(int units, ActivationKind activation = ActivationKind.None, int? inputs = null) => new(0, units, activation, inputs);

    public static NetworkSpec LeNet5() => Network(
        1, 32, 32,
        Conv(6, 5, activation: ActivationKind.ReLU),
        Pool(PoolingKind.Average, 2, 2),
        Conv(16, 5, activation: ActivationKind.ReLU),
        Pool(PoolingKind.Average, 2, 2),
        Dense(120, ActivationKind.ReLU),
        Dense(84, ActivationKind.ReLU),
        Dense(10, ActivationKind.Softmax));
}

using System;
using System.Linq;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Xunit;
using static LeNet.Gen.Generator.Tests.Infrastructure.Specs;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>The registry of layer kinds: complete, unambiguous, and the only way a spec becomes a layer.</summary>
public class LayerKindsTests
{
    [Fact]
    public void Every_layer_attribute_of_the_library_has_exactly_one_unit()
    {
        var layerAttributes = typeof(NetworkAttribute).Assembly.GetExportedTypes()
            .Where(t => typeof(Attribute).IsAssignableFrom(t) && t.Namespace == "LeNet.Gen" && t != typeof(NetworkAttribute))
            .Select(t => t.FullName!)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();

        Assert.NotEmpty(layerAttributes);
        Assert.Equal(layerAttributes, LayerKinds.All.Select(k => k.AttributeName).OrderBy(n => n, StringComparer.Ordinal));
        foreach (var name in layerAttributes)
        {
            Assert.Equal(name, LayerKinds.ForAttribute(name)!.AttributeName);
        }
    }

    [Theory]
    [InlineData("LeNet.Gen.NetworkAttribute")]
    [InlineData("System.ObsoleteAttribute")]
    [InlineData("LeNet.Gen.LayerNormAttribute")]
    [InlineData(null)]
    public void Any_other_attribute_is_not_a_layer_kind(string? name) => Assert.Null(LayerKinds.ForAttribute(name));

    [Fact]
    public void Each_spec_belongs_to_one_unit_and_names_are_not_shared()
    {
        LayerSpec[] specs = { Conv(6, 5), Pool(PoolingKind.Max, 2), Dense(10) };
        foreach (var spec in specs)
        {
            Assert.Single(LayerKinds.All, k => k.Owns(spec));
        }

        Assert.Equal(LayerKinds.All.Length, LayerKinds.All.Select(k => k.NamePrefix).Distinct().Count());
        Assert.Equal(new[] { "conv", "pool", "fc" }, specs.Select(s => LayerKinds.Of(s).NamePrefix));
    }

    [Fact]
    public void Layers_are_numbered_per_kind_and_read_the_layer_before_them_by_name()
    {
        var plan = ShapeInference.Infer(LeNet5()).Plan!;

        Assert.Equal(new[] { "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3" }, plan.Layers.Select(l => l.Name));
        Assert.Equal(new string?[] { null, "conv1", "pool1", "conv2", "pool2", "fc1", "fc2" }, plan.Layers.Select(l => l.Source));
    }

    [Fact]
    public void Each_unit_names_its_pytorch_weight_shape()
    {
        var plan = ShapeInference.Infer(LeNet5()).Plan!;

        Assert.Equal(
            new string?[] { "6, 1, 5, 5", null, "16, 6, 5, 5", null, "120, 400", "84, 120", "10, 84" },
            plan.Layers.Select(l => LayerKinds.Of(l.Spec).WeightShape(l)));
    }
}

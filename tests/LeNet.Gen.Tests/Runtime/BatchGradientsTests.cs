using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// BatchGradients, the store of the weight gradients a training step takes over its whole batch: what its parts write
/// against Simd.MultiplyAdd once per example and row (bit for bit), where the other gradient passes still go, and its
/// errors.
/// </summary>
public class BatchGradientsTests
{
    private static float[] Values(Random random, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return v;
    }

    [Fact]
    public void The_parts_write_each_layers_batch_sum_in_example_order_and_nothing_else()
    {
        // Two layers in a vector of 3,000 parameters: 20 × 37 weights at 100 and 9 × 130 at 1,000 (a short last tile each).
        var layers = new[] { new BatchGradientInfo(100, 20, 37), new BatchGradientInfo(1000, 9, 130) };
        const int Parameters = 3000, Count = 5;
        var random = new Random(5);
        var store = new BatchGradients(layers, Parameters);
        store.Begin(Count);
        var kept = new (float[] D, float[] X)[layers.Length, Count];

        // The examples arrive out of order, as they do from several threads; each goes to its own place.
        foreach (int n in new[] { 3, 0, 4, 1, 2 })
        {
            for (int k = 0; k < layers.Length; k++)
            {
                var d = Values(random, layers[k].Rows + 3); // longer spans: only the layer's length is kept
                var x = Values(random, layers[k].Columns + 1);
                kept[k, n] = (d, x);
                store.Keep(layers[k].WeightOffset, n, d, x);
            }
        }

        var gradients = Values(random, Parameters);
        var expected = (float[])gradients.Clone();
        for (int k = 0; k < layers.Length; k++)
        {
            var layer = layers[k];
            for (int o = 0; o < layer.Rows; o++)
            {
                var row = expected.AsSpan(layer.WeightOffset + (o * layer.Columns), layer.Columns);
                row.Clear();
                for (int n = 0; n < Count; n++)
                {
                    Simd.MultiplyAdd(kept[k, n].X.AsSpan(0, layer.Columns), kept[k, n].D[o], row);
                }
            }
        }

        Assert.True(store.Parts >= 2);
        for (int part = store.Parts - 1; part >= 0; part--)
        {
            Assert.True(store.WritePart(part, gradients));
        }

        Assert.Equal(expected, gradients);
    }

    [Fact]
    public void A_part_with_a_non_finite_value_says_so()
    {
        var store = new BatchGradients(new[] { new BatchGradientInfo(0, 2, 3) }, 6);
        store.Begin(1);
        store.Keep(0, 0, new[] { 1f, float.PositiveInfinity }, new[] { 1f, 2f, 3f });
        Assert.False(store.WritePart(0, new float[6]));
    }

    [Fact]
    public void The_ranges_outside_the_layers_cover_every_other_parameter_once_in_order()
    {
        var layers = new[] { new BatchGradientInfo(1000, 10, 10), new BatchGradientInfo(10, 3, 30) }; // 1,000–1,099 and 10–99
        var ranges = BatchGradients.RangesOutside(layers, 1250, 400);
        Assert.Equal(new[] { (0, 10), (100, 400), (500, 400), (900, 100), (1100, 150) }, ranges);
        Assert.Equal(new[] { (0, 7) }, BatchGradients.RangesOutside(Array.Empty<BatchGradientInfo>(), 7, 4096));
        Assert.Equal(new[] { (0, 10), (100, 900), (1100, 150) }, BatchGradients.RangesOutside(layers, 1250, int.MaxValue)); // no overflow
    }

    [Fact]
    public void Layers_that_overlap_or_leave_the_parameters_are_refused_with_their_offsets()
    {
        var overlap = Assert.Throws<ArgumentException>(() => new BatchGradients(new[] { new BatchGradientInfo(0, 4, 4), new BatchGradientInfo(15, 1, 2) }, 100));
        Assert.Contains("overlap", overlap.Message, StringComparison.Ordinal);
        Assert.Contains("15", overlap.Message, StringComparison.Ordinal);
        var outside = Assert.Throws<ArgumentException>(() => new BatchGradients(new[] { new BatchGradientInfo(90, 4, 4) }, 100));
        Assert.Contains("90", outside.Message, StringComparison.Ordinal);
        Assert.Contains("100 parameters", outside.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keeping_for_an_unknown_layer_or_an_example_outside_the_step_is_refused()
    {
        var store = new BatchGradients(new[] { new BatchGradientInfo(8, 2, 3) }, 20);
        store.Begin(2);
        var unknown = Assert.Throws<ArgumentException>(() => store.Keep(9, 0, new float[2], new float[3]));
        Assert.Contains("9", unknown.Message, StringComparison.Ordinal);
        var outside = Assert.Throws<ArgumentException>(() => store.Keep(8, 2, new float[2], new float[3]));
        Assert.Contains("example 2", outside.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Begin(0));
    }
}

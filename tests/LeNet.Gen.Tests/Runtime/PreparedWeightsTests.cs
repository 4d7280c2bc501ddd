using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>The check that lets a layer keep its prepared weights: any change of any byte is seen, the sign of zero included.</summary>
public class PreparedWeightsTests
{
    [Fact]
    public void The_first_call_copies_and_later_calls_see_every_change()
    {
        float[] weights = [1f, 2f, 0f, float.NaN, -3f];
        float[]? copy = null;

        Assert.False(PreparedWeights.Unchanged(weights, ref copy)); // nothing prepared yet
        Assert.Equal(weights, copy);
        Assert.True(PreparedWeights.Unchanged(weights, ref copy));  // NaN compares by its bytes, so it stays unchanged

        weights[2] = -0f; // equal as a float, different bytes: the prepared weights would carry the old sign
        Assert.False(PreparedWeights.Unchanged(weights, ref copy));
        Assert.True(PreparedWeights.Unchanged(weights, ref copy));

        weights[4] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(-3f) + 1); // one unit in the last place
        Assert.False(PreparedWeights.Unchanged(weights, ref copy));
        Assert.Equal(weights, copy);
    }

    [Fact]
    public void A_copy_of_another_length_is_replaced()
    {
        float[]? copy = [1f, 2f];
        float[] weights = [1f, 2f, 3f];

        Assert.False(PreparedWeights.Unchanged(weights, ref copy));
        Assert.Equal(weights, copy);
    }
}

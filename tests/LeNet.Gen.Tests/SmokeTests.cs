using Xunit;

namespace LeNet.Gen.Tests;

public class SmokeTests
{
    [Fact]
    public void TensorInfo_computes_length_from_shape()
    {
        var info = new TensorInfo("conv1.weight", 0, 6, 1, 5, 5);
        Assert.Equal(150, info.Length);
        Assert.Equal("[6,1,5,5]", info.ShapeText);
    }
}

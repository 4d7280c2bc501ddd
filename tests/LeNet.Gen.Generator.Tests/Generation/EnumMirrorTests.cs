using System;
using System.Linq;
using LeNet.Gen.Generator.Model;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Generation;

/// <summary>The generator mirrors the public enums by value (it cannot reference the runtime library); they must agree.</summary>
public class EnumMirrorTests
{
    [Theory]
    [InlineData(typeof(Activation), typeof(ActivationKind))]
    [InlineData(typeof(PoolKind), typeof(PoolingKind))]
    [InlineData(typeof(ShapeRounding), typeof(RoundingMode))]
    public void Generator_enums_match_the_public_enums(Type publicEnum, Type mirror)
    {
        Assert.Equal(
            Enum.GetNames(publicEnum).Select(n => (n, Convert.ToInt32(Enum.Parse(publicEnum, n)))),
            Enum.GetNames(mirror).Select(n => (n, Convert.ToInt32(Enum.Parse(mirror, n)))));
    }
}

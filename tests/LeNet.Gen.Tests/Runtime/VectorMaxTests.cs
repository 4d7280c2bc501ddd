using System;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// <see cref="Simd.Max(Vector256{float}, Vector256{float})"/> and its 16-lane twin against <see cref="MathF.Max"/>, bit
/// for bit, on every pair of a set of special and ordinary values in both orders: NaN from either side, +0 over −0,
/// infinities, subnormals and ties. (The vectorised max pooling relies on them; the package tests run it on .NET 8, whose
/// own <c>Vector256.Max</c> drops a NaN in its first operand.)
/// </summary>
public class VectorMaxTests
{
    private static readonly float[] Values =
    [
        float.NaN, -float.NaN, BitConverter.Int32BitsToSingle(0x7fc0_1234), 0f, -0f, 1f, -1f, 2.5f, -2.5f,
        float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-40f,
    ];

    [Fact]
    public void The_eight_lane_max_is_MathF_Max_bit_for_bit()
    {
        if (!Avx.IsSupported)
        {
            return; // the helper is AVX code, which the runtime calls only with those instructions
        }

        foreach (var (a, b) in Pairs())
        {
            float got = Simd.Max(Vector256.Create(a), Vector256.Create(b)).GetElement(3);
            AssertSame(MathF.Max(a, b), got, a, b);
        }
    }

    [Fact]
    public void The_sixteen_lane_max_is_MathF_Max_bit_for_bit()
    {
        if (!Avx512F.IsSupported)
        {
            return; // the 16-lane helper is AVX-512 code, which the runtime calls only with those instructions
        }

        foreach (var (a, b) in Pairs())
        {
            float got = Simd.Max(Vector512.Create(a), Vector512.Create(b)).GetElement(11);
            AssertSame(MathF.Max(a, b), got, a, b);
        }
    }

    [Fact]
    public void Each_lane_takes_its_own_pair()
    {
        if (!Avx512F.IsSupported)
        {
            return; // the 16-lane helper is AVX-512 code, which the runtime calls only with those instructions
        }

        float[] a = Values, b = Values.Reverse().ToArray();
        var wide = Simd.Max(Vector512.Create(a), Vector512.Create(b));
        var narrow = Simd.Max(Vector256.Create(a), Vector256.Create(b));
        for (int i = 0; i < 16; i++)
        {
            AssertSame(MathF.Max(a[i], b[i]), wide.GetElement(i), a[i], b[i]);
            if (i < 8)
            {
                AssertSame(MathF.Max(a[i], b[i]), narrow.GetElement(i), a[i], b[i]);
            }
        }
    }

    private static (float A, float B)[] Pairs() => Values.SelectMany(a => Values.Select(b => (a, b))).ToArray();

    // NaN payloads may differ (MathF.Max and the vector code may return either operand's); every other result must be exact.
    private static void AssertSame(float expected, float actual, float a, float b)
    {
        if (float.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"max({a:R}, {b:R}) = {actual:R}, expected NaN");
            return;
        }

        Assert.True(
            BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
            $"max({a:R}, {b:R}) = {actual:R} (0x{BitConverter.SingleToInt32Bits(actual):x8}), expected {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):x8})");
    }
}

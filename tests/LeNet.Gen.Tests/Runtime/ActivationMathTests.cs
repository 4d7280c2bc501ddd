using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The runtime's tanh and sigmoid over whole spans (the vector code for sixteen or eight values at a time, the scalar tail)
/// against the same functions in double precision: a sweep over the range where they change, tiny values, and the special
/// values; and the sixteen-lane code against the eight-lane code, bit for bit.
/// </summary>
public class ActivationMathTests
{
    // Every 0.001 from −20 to 20, tiny and huge magnitudes; an odd count so that the scalar tail runs too.
    private static float[] Sweep()
    {
        var values = new List<float>();
        for (int i = -20_000; i <= 20_000; i++)
        {
            values.Add(i * 0.001f);
        }

        foreach (float v in new[] { 1e-30f, 1e-12f, 3e-8f, 1e-4f, 0.2499f, 0.25f, 0.2501f, 8.99f, 9f, 9.01f, 50f, 87f, 87.3f, 88.3f, 89f, 1e30f, float.MaxValue })
        {
            values.Add(v);
            values.Add(-v);
        }

        return values.ToArray();
    }

    [Fact]
    public void Tanh_is_within_a_few_units_in_the_last_place_of_the_double_result()
    {
        float[] x = Sweep();
        float[] y = (float[])x.Clone();

        Simd.Tanh(y);

        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Tanh(x[i]);
            Assert.True(Math.Abs(y[i] - exact) <= 4 * Ulp(exact), $"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}");
            Assert.Equal(Math.Sign(exact), Math.Sign(y[i]));
        }
    }

    [Fact]
    public void Tanh_below_two_is_within_four_units_in_the_last_place_over_a_dense_scan_of_the_floats()
    {
        // Every 307th float from the smallest normal one to 2, both signs: vectors of eight that all lie below 2, which
        // take the rational function, and one value of 2.5 in each vector of a second pass, which sends them all to the
        // exponential.
        var values = new List<float>();
        for (uint bits = 0x0080_0000u; BitConverter.UInt32BitsToSingle(bits) < 2f; bits += 307)
        {
            float v = BitConverter.UInt32BitsToSingle(bits);
            values.Add((values.Count & 1) == 0 ? v : -v);
        }

        foreach (bool mixed in new[] { false, true })
        {
            float[] x = values.ToArray();
            if (mixed)
            {
                for (int i = 0; i < x.Length; i += 8)
                {
                    x[i] = 2.5f;
                }
            }

            float[] y = (float[])x.Clone();
            Simd.Tanh(y);
            for (int i = 0; i < x.Length; i++)
            {
                double exact = Math.Tanh(x[i]);
                Assert.True(Math.Abs(y[i] - exact) <= 4 * Ulp(exact), $"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}");
            }
        }
    }

    [Fact]
    public void Sigmoid_is_within_a_few_units_in_the_last_place_of_the_double_result()
    {
        float[] x = Sweep().Where(v => Math.Abs(v) <= 80f).ToArray(); // below e^−80 the float result is subnormal
        float[] y = (float[])x.Clone();

        Simd.Sigmoid(y);

        for (int i = 0; i < x.Length; i++)
        {
            double exact = 1.0 / (1.0 + Math.Exp(-(double)x[i]));
            Assert.True(Math.Abs(y[i] - exact) <= 4 * Ulp(exact), $"sigmoid({x[i]:R}) = {y[i]:R}, exact {exact:R}");
        }
    }

    [Fact]
    public void Special_values_come_out_as_the_scalar_functions_give_them()
    {
        float[] specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 100f, -100f, 1e30f };
        float[] tanh = Enumerable.Repeat(specials, 2).SelectMany(v => v).ToArray(); // 16 values: two whole vectors
        float[] sigmoid = (float[])tanh.Clone();

        Simd.Tanh(tanh);
        Simd.Sigmoid(sigmoid);

        for (int i = 0; i < tanh.Length; i++)
        {
            float x = specials[i % specials.Length];
            Assert.Equal(MathF.Tanh(x), tanh[i]);
            Assert.Equal(1f / (1f + MathF.Exp(-x)), sigmoid[i]);
        }
    }

    [Fact]
    public void Sixteen_lanes_give_every_value_the_eight_lane_code_gives()
    {
        // A span of 16 runs the 16-lane loop on AVX-512 machines; the same values 8 at a time (spans of 8) run the eight-lane
        // loop. Every 0.01 from −12 to 12 (both of tanh's branches and e^x's range), the special values among them.
        var values = Enumerable.Range(-1200, 2400).Select(i => i * 0.01f).Concat(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 95f, -95f, 1e-30f, 2f, 0.5f, -1.99f, -2f, 9f, -9f, 88.3f, 89f, -87.3f }).ToArray();
        Assert.Equal(0, values.Length % 16);
        foreach (bool tanh in new[] { true, false })
        {
            var sixteen = (float[])values.Clone();
            var eight = (float[])values.Clone();
            for (int i = 0; i < values.Length; i += 16)
            {
                Apply(sixteen.AsSpan(i, 16));
                Apply(eight.AsSpan(i, 8));
                Apply(eight.AsSpan(i + 8, 8));
            }

            for (int i = 0; i < values.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(eight[i]) == BitConverter.SingleToInt32Bits(sixteen[i]), $"{(tanh ? "tanh" : "sigmoid")}({values[i]}): {sixteen[i]} on 16 lanes, {eight[i]} on 8");
            }

            void Apply(Span<float> span)
            {
                if (tanh)
                {
                    Simd.Tanh(span);
                }
                else
                {
                    Simd.Sigmoid(span);
                }
            }
        }
    }

    // The spacing of floats at the magnitude of value (the float one unit above |value|, less |value|).
    private static double Ulp(double value)
    {
        float f = (float)Math.Abs(value);
        return Math.Max(MathF.BitIncrement(f) - f, float.Epsilon);
    }
}

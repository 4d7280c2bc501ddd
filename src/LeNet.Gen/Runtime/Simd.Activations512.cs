using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

// tanh and the sigmoid with AVX-512: the same operations as the eight-lane functions in Simd.cs, on sixteen lanes, so
// every value comes out bit for bit the same. The loops are bound by the length of one value's chain of dependent
// instructions, not by the arithmetic: the scheduler holds only so many waiting instructions, and a vector of sixteen
// takes one place where two of eight take two. On an AMD EPYC (Zen 4, whose AVX-512 runs on 256-bit units), tanh of
// 16,384 values in [−3, 3] took 12.8 µs on eight lanes and 9.6 µs on sixteen.
public static partial class Simd
{
    // Whole vectors of 16 from the start; returns where the eight-lane loop goes on.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Tanh512(ref float v, int length)
    {
        var two = Vector512.Create(2f);
        int i = 0;
        for (; i <= length - 16; i += 16)
        {
            var value = Vector512.LoadUnsafe(ref v, (nuint)i);
            var result = Vector512.LessThanAll(Vector512.Abs(value), two) ? TanhBelowTwo(value) : Tanh(value);
            result.StoreUnsafe(ref v, (nuint)i);
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Sigmoid512(ref float v, int length)
    {
        var one = Vector512<float>.One;
        int i = 0;
        for (; i <= length - 16; i += 16)
        {
            var value = Vector512.LoadUnsafe(ref v, (nuint)i);
            Avx512F.Divide(one, one + Exp(Vector512<float>.Zero - value)).StoreUnsafe(ref v, (nuint)i);
        }

        return i;
    }

    // As Exp(Vector256): the range's ends, then ExpInRange.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Avx512F.Min(Vector512.Create(ExpHighest), Avx512F.Max(Vector512.Create(ExpLowest), x));
        var result = ExpInRange(clamped);
        result = Avx512F.BlendVariable(result, Vector512.Create(float.PositiveInfinity), Avx512F.CompareGreaterThan(x, Vector512.Create(ExpHighest)));
        return Vector512.AndNot(result, Avx512F.CompareLessThan(x, Vector512.Create(ExpLowest)));
    }

    // As ExpInRange(Vector256).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpInRange(Vector512<float> x)
    {
        var magic = Vector512.Create(RoundingMagic);
        var k = Avx512F.FusedMultiplyAdd(x, Vector512.Create(Log2E), magic);
        var n = k - magic;
        var r = Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(Ln2High), x);
        r = Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(Ln2Low), r);
        var r2 = r * r;
        var r4 = r2 * r2;
        var p01 = r + Vector512<float>.One;
        var p23 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1f / 6f), Vector512.Create(0.5f));
        var p45 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1f / 120f), Vector512.Create(1f / 24f));
        var p67 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1f / 5040f), Vector512.Create(1f / 720f));
        var low = Avx512F.FusedMultiplyAdd(p23, r2, p01);
        var high = Avx512F.FusedMultiplyAdd(p67, r2, p45);
        var p = Avx512F.FusedMultiplyAdd(high, r4, low);
        var scale = Avx512F.ShiftLeftLogical(k.AsInt32() + Vector512.Create(127), 23).AsSingle();
        return p * scale;
    }

    // As TanhBelowTwo(Vector256).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TanhBelowTwo(Vector512<float> x)
    {
        var (p, q) = TanhRational(x);
        return Avx512F.Divide(x * p, q);
    }

    // As TanhRational(Vector256).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> P, Vector512<float> Q) TanhRational(Vector512<float> x)
    {
        var u = x * x;
        var p = Avx512F.FusedMultiplyAdd(u, Vector512.Create(TanhP3), Vector512.Create(TanhP2));
        p = Avx512F.FusedMultiplyAdd(p, u, Vector512.Create(TanhP1));
        p = Avx512F.FusedMultiplyAdd(p, u, Vector512.Create(TanhP0));
        var q = Avx512F.FusedMultiplyAdd(u, Vector512.Create(TanhQ2), Vector512.Create(TanhQ1));
        q = Avx512F.FusedMultiplyAdd(q, u, Vector512<float>.One);
        return (p, q);
    }

    // As Tanh(Vector256).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh(Vector512<float> x)
    {
        var sign = Vector512.Create(-0f);
        var magnitude = Vector512.AndNot(x, sign);
        var a = Avx512F.Min(Vector512.Create(TanhCap), magnitude);
        var one = Vector512<float>.One;
        var t = ExpInRange(a * Vector512.Create(-2f));
        var (p, q) = TanhRational(x);
        var small = Avx512F.CompareLessThan(magnitude, Vector512.Create(2f));
        var numerator = Avx512F.BlendVariable((one - t) | (x & sign), x * p, small);
        var denominator = Avx512F.BlendVariable(one + t, q, small);
        return Avx512F.Divide(numerator, denominator);
    }
}

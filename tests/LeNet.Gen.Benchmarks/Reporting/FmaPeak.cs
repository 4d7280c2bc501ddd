using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Benchmarks.Reporting;

/// <summary>
/// The single-thread floating-point peak of this machine, measured in the same process as the benchmarks: <see cref="Chains"/>
/// independent chains of fused multiply-adds (enough to cover the latency of two FMA units) in the widest vector the
/// processor runs, so that "share of peak" compares the network against what this core can do, whatever it is (an
/// AVX-512 machine and an AVX2-only one have twice a different peak).
/// </summary>
/// <param name="GigaflopsPerSecond">The best repeat: <see cref="Chains"/> × <see cref="Lanes"/> × 2 × iterations / seconds, in 1e9 per second.</param>
/// <param name="InstructionSet">The instructions measured, e.g. "AVX-512F, 512-bit FMA".</param>
/// <param name="Lanes">Single-precision values per vector (16, 8, 4 or 1).</param>
/// <param name="Iterations">Iterations of the loop per repeat (each iteration is one operation on every chain).</param>
/// <param name="BestSeconds">The time of the best repeat.</param>
public sealed record FmaPeak(double GigaflopsPerSecond, string InstructionSet, int Lanes, long Iterations, double BestSeconds)
{
    /// <summary>Independent accumulators: a multiply-add may start on each while the others are still in flight.</summary>
    public const int Chains = 12;

    /// <summary>
    /// Timed repeats; the fastest counts. They are short and many because the machine is shared: a short repeat has a
    /// fair chance of running without being preempted, a long one hardly any.
    /// </summary>
    public const int Repeats = 10;

    // Each repeat lasts about this long; with calibration and warm-up the probe takes about a tenth of a second.
    private const double RepeatSeconds = 0.008;

    // Every chain computes s ← s × Factor + Addend, which converges to Addend / (1 − Factor) = 1: no overflow, no
    // subnormals, so the timing is that of the arithmetic alone.
    private const float Factor = 0.999f;
    private const float Addend = 0.001f;

    private enum Kernel
    {
        Avx512,
        Fma256,
        Fma128,
        AdvSimd128,
        Plain128,
        Scalar,
    }

    /// <summary>Measures the peak with the widest vector this processor accelerates (single thread, best of <see cref="Repeats"/>).</summary>
    /// <exception cref="InvalidOperationException">The chains did not converge (the arithmetic went wrong).</exception>
    public static FmaPeak Measure()
    {
        Kernel kernel = Widest();

        // The kernels are compiled fully optimised on their first call (AggressiveOptimization); this call only warms caches.
        Run(kernel, 1 << 12);

        // Calibrate: double the iterations until a run is long enough to time, then scale to RepeatSeconds.
        long iterations = 1 << 16;
        double seconds;
        while ((seconds = Time(kernel, iterations)) < 0.002)
        {
            iterations *= 2;
        }

        // The fastest of three, so that one preempted run does not shorten every repeat.
        seconds = Math.Min(seconds, Math.Min(Time(kernel, iterations), Time(kernel, iterations)));
        iterations = Math.Max(iterations, (long)(iterations * RepeatSeconds / seconds));
        double best = double.MaxValue;
        for (int r = 0; r < Repeats; r++)
        {
            best = Math.Min(best, Time(kernel, iterations));
        }

        int lanes = LanesOf(kernel);
        double flops = (double)Chains * lanes * 2 * iterations;
        return new FmaPeak(flops / best / 1e9, Name(kernel), lanes, iterations, best);
    }

    /// <summary>One line for the console and the saved table.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{GigaflopsPerSecond:0.0} GFLOP/s on one thread ({InstructionSet}; {Chains} chains × {Lanes} lanes × 2 FLOPs × {Iterations:N0} iterations in {BestSeconds * 1e3:0.0} ms, best of {Repeats})");

    private static Kernel Widest()
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            return Kernel.Avx512;
        }

        if (Fma.IsSupported)
        {
            return Vector256.IsHardwareAccelerated ? Kernel.Fma256 : Kernel.Fma128;
        }

        if (AdvSimd.IsSupported)
        {
            return Kernel.AdvSimd128;
        }

        return Vector128.IsHardwareAccelerated ? Kernel.Plain128 : Kernel.Scalar;
    }

    private static int LanesOf(Kernel kernel) => kernel switch
    {
        Kernel.Avx512 => Vector512<float>.Count,
        Kernel.Fma256 => Vector256<float>.Count,
        Kernel.Scalar => 1,
        _ => Vector128<float>.Count,
    };

    private static string Name(Kernel kernel) => kernel switch
    {
        Kernel.Avx512 => "AVX-512F, 512-bit FMA",
        Kernel.Fma256 => "AVX2/FMA3, 256-bit FMA",
        Kernel.Fma128 => "FMA3, 128-bit FMA",
        Kernel.AdvSimd128 => "Arm AdvSIMD, 128-bit FMA",
        Kernel.Plain128 => "128-bit vectors, separate multiply and add (no FMA)",
        _ => "scalar, separate multiply and add",
    };

    private static double Time(Kernel kernel, long iterations)
    {
        long start = Stopwatch.GetTimestamp();
        Run(kernel, iterations);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static void Run(Kernel kernel, long iterations)
    {
        float result = kernel switch
        {
            Kernel.Avx512 => Avx512Chains(iterations),
            Kernel.Fma256 => Fma256Chains(iterations),
            Kernel.Fma128 => Fma128Chains(iterations),
            Kernel.AdvSimd128 => AdvSimdChains(iterations),
            Kernel.Plain128 => Plain128Chains(iterations),
            _ => ScalarChains(iterations),
        };

        // The sum of the chains is used (so the loop cannot be dropped) and checked: each chain ends near 1.
        if (!(Math.Abs(result - Chains) < 0.5f) && iterations >= 1 << 16)
        {
            throw new InvalidOperationException($"FMA probe: the {Chains} chains summed to {result}, not about {Chains}.");
        }
    }

    // Distinct starting values, so that no compiler could merge chains that would otherwise compute the same thing.
    private static float Start(int chain) => 2f + (0.25f * chain);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Avx512Chains(long iterations)
    {
        Vector512<float> f = Vector512.Create(Factor), a = Vector512.Create(Addend);
        Vector512<float> s0 = Vector512.Create(Start(0)), s1 = Vector512.Create(Start(1)), s2 = Vector512.Create(Start(2)), s3 = Vector512.Create(Start(3));
        Vector512<float> s4 = Vector512.Create(Start(4)), s5 = Vector512.Create(Start(5)), s6 = Vector512.Create(Start(6)), s7 = Vector512.Create(Start(7));
        Vector512<float> s8 = Vector512.Create(Start(8)), s9 = Vector512.Create(Start(9)), s10 = Vector512.Create(Start(10)), s11 = Vector512.Create(Start(11));
        for (long i = 0; i < iterations; i++)
        {
            s0 = Avx512F.FusedMultiplyAdd(s0, f, a);
            s1 = Avx512F.FusedMultiplyAdd(s1, f, a);
            s2 = Avx512F.FusedMultiplyAdd(s2, f, a);
            s3 = Avx512F.FusedMultiplyAdd(s3, f, a);
            s4 = Avx512F.FusedMultiplyAdd(s4, f, a);
            s5 = Avx512F.FusedMultiplyAdd(s5, f, a);
            s6 = Avx512F.FusedMultiplyAdd(s6, f, a);
            s7 = Avx512F.FusedMultiplyAdd(s7, f, a);
            s8 = Avx512F.FusedMultiplyAdd(s8, f, a);
            s9 = Avx512F.FusedMultiplyAdd(s9, f, a);
            s10 = Avx512F.FusedMultiplyAdd(s10, f, a);
            s11 = Avx512F.FusedMultiplyAdd(s11, f, a);
        }

        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256Chains(long iterations)
    {
        Vector256<float> f = Vector256.Create(Factor), a = Vector256.Create(Addend);
        Vector256<float> s0 = Vector256.Create(Start(0)), s1 = Vector256.Create(Start(1)), s2 = Vector256.Create(Start(2)), s3 = Vector256.Create(Start(3));
        Vector256<float> s4 = Vector256.Create(Start(4)), s5 = Vector256.Create(Start(5)), s6 = Vector256.Create(Start(6)), s7 = Vector256.Create(Start(7));
        Vector256<float> s8 = Vector256.Create(Start(8)), s9 = Vector256.Create(Start(9)), s10 = Vector256.Create(Start(10)), s11 = Vector256.Create(Start(11));
        for (long i = 0; i < iterations; i++)
        {
            s0 = Fma.MultiplyAdd(s0, f, a);
            s1 = Fma.MultiplyAdd(s1, f, a);
            s2 = Fma.MultiplyAdd(s2, f, a);
            s3 = Fma.MultiplyAdd(s3, f, a);
            s4 = Fma.MultiplyAdd(s4, f, a);
            s5 = Fma.MultiplyAdd(s5, f, a);
            s6 = Fma.MultiplyAdd(s6, f, a);
            s7 = Fma.MultiplyAdd(s7, f, a);
            s8 = Fma.MultiplyAdd(s8, f, a);
            s9 = Fma.MultiplyAdd(s9, f, a);
            s10 = Fma.MultiplyAdd(s10, f, a);
            s11 = Fma.MultiplyAdd(s11, f, a);
        }

        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma128Chains(long iterations)
    {
        Vector128<float> f = Vector128.Create(Factor), a = Vector128.Create(Addend);
        Vector128<float> s0 = Vector128.Create(Start(0)), s1 = Vector128.Create(Start(1)), s2 = Vector128.Create(Start(2)), s3 = Vector128.Create(Start(3));
        Vector128<float> s4 = Vector128.Create(Start(4)), s5 = Vector128.Create(Start(5)), s6 = Vector128.Create(Start(6)), s7 = Vector128.Create(Start(7));
        Vector128<float> s8 = Vector128.Create(Start(8)), s9 = Vector128.Create(Start(9)), s10 = Vector128.Create(Start(10)), s11 = Vector128.Create(Start(11));
        for (long i = 0; i < iterations; i++)
        {
            s0 = Fma.MultiplyAdd(s0, f, a);
            s1 = Fma.MultiplyAdd(s1, f, a);
            s2 = Fma.MultiplyAdd(s2, f, a);
            s3 = Fma.MultiplyAdd(s3, f, a);
            s4 = Fma.MultiplyAdd(s4, f, a);
            s5 = Fma.MultiplyAdd(s5, f, a);
            s6 = Fma.MultiplyAdd(s6, f, a);
            s7 = Fma.MultiplyAdd(s7, f, a);
            s8 = Fma.MultiplyAdd(s8, f, a);
            s9 = Fma.MultiplyAdd(s9, f, a);
            s10 = Fma.MultiplyAdd(s10, f, a);
            s11 = Fma.MultiplyAdd(s11, f, a);
        }

        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).ToScalar();
    }

    // AdvSimd.FusedMultiplyAdd(addend, left, right) = addend + left × right.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float AdvSimdChains(long iterations)
    {
        Vector128<float> f = Vector128.Create(Factor), a = Vector128.Create(Addend);
        Vector128<float> s0 = Vector128.Create(Start(0)), s1 = Vector128.Create(Start(1)), s2 = Vector128.Create(Start(2)), s3 = Vector128.Create(Start(3));
        Vector128<float> s4 = Vector128.Create(Start(4)), s5 = Vector128.Create(Start(5)), s6 = Vector128.Create(Start(6)), s7 = Vector128.Create(Start(7));
        Vector128<float> s8 = Vector128.Create(Start(8)), s9 = Vector128.Create(Start(9)), s10 = Vector128.Create(Start(10)), s11 = Vector128.Create(Start(11));
        for (long i = 0; i < iterations; i++)
        {
            s0 = AdvSimd.FusedMultiplyAdd(a, s0, f);
            s1 = AdvSimd.FusedMultiplyAdd(a, s1, f);
            s2 = AdvSimd.FusedMultiplyAdd(a, s2, f);
            s3 = AdvSimd.FusedMultiplyAdd(a, s3, f);
            s4 = AdvSimd.FusedMultiplyAdd(a, s4, f);
            s5 = AdvSimd.FusedMultiplyAdd(a, s5, f);
            s6 = AdvSimd.FusedMultiplyAdd(a, s6, f);
            s7 = AdvSimd.FusedMultiplyAdd(a, s7, f);
            s8 = AdvSimd.FusedMultiplyAdd(a, s8, f);
            s9 = AdvSimd.FusedMultiplyAdd(a, s9, f);
            s10 = AdvSimd.FusedMultiplyAdd(a, s10, f);
            s11 = AdvSimd.FusedMultiplyAdd(a, s11, f);
        }

        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).ToScalar();
    }

    // Without FMA a multiply and an add are two instructions, still two FLOPs per lane.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Plain128Chains(long iterations)
    {
        Vector128<float> f = Vector128.Create(Factor), a = Vector128.Create(Addend);
        Vector128<float> s0 = Vector128.Create(Start(0)), s1 = Vector128.Create(Start(1)), s2 = Vector128.Create(Start(2)), s3 = Vector128.Create(Start(3));
        Vector128<float> s4 = Vector128.Create(Start(4)), s5 = Vector128.Create(Start(5)), s6 = Vector128.Create(Start(6)), s7 = Vector128.Create(Start(7));
        Vector128<float> s8 = Vector128.Create(Start(8)), s9 = Vector128.Create(Start(9)), s10 = Vector128.Create(Start(10)), s11 = Vector128.Create(Start(11));
        for (long i = 0; i < iterations; i++)
        {
            s0 = (s0 * f) + a;
            s1 = (s1 * f) + a;
            s2 = (s2 * f) + a;
            s3 = (s3 * f) + a;
            s4 = (s4 * f) + a;
            s5 = (s5 * f) + a;
            s6 = (s6 * f) + a;
            s7 = (s7 * f) + a;
            s8 = (s8 * f) + a;
            s9 = (s9 * f) + a;
            s10 = (s10 * f) + a;
            s11 = (s11 * f) + a;
        }

        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float ScalarChains(long iterations)
    {
        float s0 = Start(0), s1 = Start(1), s2 = Start(2), s3 = Start(3), s4 = Start(4), s5 = Start(5);
        float s6 = Start(6), s7 = Start(7), s8 = Start(8), s9 = Start(9), s10 = Start(10), s11 = Start(11);
        for (long i = 0; i < iterations; i++)
        {
            s0 = (s0 * Factor) + Addend;
            s1 = (s1 * Factor) + Addend;
            s2 = (s2 * Factor) + Addend;
            s3 = (s3 * Factor) + Addend;
            s4 = (s4 * Factor) + Addend;
            s5 = (s5 * Factor) + Addend;
            s6 = (s6 * Factor) + Addend;
            s7 = (s7 * Factor) + Addend;
            s8 = (s8 * Factor) + Addend;
            s9 = (s9 * Factor) + Addend;
            s10 = (s10 * Factor) + Addend;
            s11 = (s11 * Factor) + Addend;
        }

        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11;
    }
}

using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Batch normalisation's arithmetic on one channel of one example, vectorised: the sums the runtime reduces over a batch
/// (in double, in a fixed order that depends only on the lengths, so any thread count gives the same bits), the
/// normalisation the generated training code applies, and its input gradient. Not meant to be called directly.
/// </summary>
/// <remarks>
/// A running sum lives in a <see cref="DoubleSum"/>: eight double lanes that take the values eight at a time, in order,
/// plus a scalar that takes the values after the last whole group of eight. Its <see cref="DoubleSum.Total"/> adds
/// them up in a fixed order. Without vector hardware every value goes to the scalar.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BatchNormMath
{
    /// <summary>A sum of doubles kept in eight lanes and a scalar tail; see <see cref="BatchNormMath"/>.</summary>
    public struct DoubleSum
    {
        private Vector256<double> _low;
        private Vector256<double> _high;
        private double _tail;

        /// <summary>The lanes, then the tail, added in a fixed order.</summary>
        public readonly double Total => Vector256.Sum(_low + _high) + _tail;

        /// <summary>Adds <paramref name="x"/>[i] for every i.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void AddValues(ReadOnlySpan<float> x)
        {
            ref float s = ref MemoryMarshal.GetReference(x);
            int n = x.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - 8; i += 8)
                {
                    var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    _low += low;
                    _high += high;
                }
            }

            for (; i < n; i++)
            {
                _tail += Unsafe.Add(ref s, i);
            }
        }

        /// <summary>Adds (<paramref name="x"/>[i] − <paramref name="mean"/>)² for every i.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void AddSquaredDeviations(ReadOnlySpan<float> x, double mean)
        {
            ref float s = ref MemoryMarshal.GetReference(x);
            int n = x.Length, i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Create(mean);
                for (; i <= n - 8; i += 8)
                {
                    var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    low -= m;
                    high -= m;
                    _low += low * low;
                    _high += high * high;
                }
            }

            for (; i < n; i++)
            {
                double d = Unsafe.Add(ref s, i) - mean;
                _tail += d * d;
            }
        }

        /// <summary>
        /// Adds <paramref name="dy"/>[i] to <paramref name="gradients"/> and <paramref name="dy"/>[i] · x̂[i] to this sum, where
        /// x̂[i] = (<paramref name="x"/>[i] − <paramref name="mean"/>) · <paramref name="invstd"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void AddGradientProducts(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, double mean, double invstd, ref DoubleSum gradients)
        {
            ref float g = ref MemoryMarshal.GetReference(dy);
            ref float s = ref MemoryMarshal.GetReference(x);
            int n = Math.Min(dy.Length, x.Length), i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Create(mean);
                var scale = Vector256.Create(invstd);
                for (; i <= n - 8; i += 8)
                {
                    var (gLow, gHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref g, (nuint)i));
                    var (xLow, xHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                    gradients._low += gLow;
                    gradients._high += gHigh;
                    _low += gLow * ((xLow - m) * scale);
                    _high += gHigh * ((xHigh - m) * scale);
                }
            }

            for (; i < n; i++)
            {
                double d = Unsafe.Add(ref g, i);
                gradients._tail += d;
                _tail += d * ((Unsafe.Add(ref s, i) - mean) * invstd);
            }
        }
    }

    /// <summary>
    /// <c>y[i] = γ · (x[i] − mean) · invstd + β</c>, then max(·, 0) when <paramref name="relu"/>: one channel in training,
    /// with the batch's mean and 1 / √(var + ε), in float (x − mean first, then one fused multiply-add).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(ReadOnlySpan<float> x, double mean, double invstd, float gamma, float beta, Span<float> y, bool relu)
    {
        float m = (float)mean, scale = gamma * (float)invstd;
        ref float s = ref MemoryMarshal.GetReference(x);
        ref float d = ref MemoryMarshal.GetReference(y);
        int n = Math.Min(x.Length, y.Length), i = 0;
        if (Simd.Use256)
        {
            var vm = Vector256.Create(m);
            var vs = Vector256.Create(scale);
            var vb = Vector256.Create(beta);
            for (; i <= n - 8; i += 8)
            {
                var v = Simd.MultiplyAdd(Vector256.LoadUnsafe(ref s, (nuint)i) - vm, vs, vb);
                (relu ? Simd.Max(v, Vector256<float>.Zero) : v).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float v = MathF.FusedMultiplyAdd(Unsafe.Add(ref s, i) - m, scale, beta);
            Unsafe.Add(ref d, i) = relu ? MathF.Max(v, 0f) : v;
        }
    }

    /// <summary>
    /// <c>dx[i] = γ · invstd · (dy[i] − meanGradient − x̂[i] · meanProduct)</c> with x̂[i] = (x[i] − mean) · invstd: one
    /// channel's input gradient, in double (the three terms cancel, and float would lose their difference).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, double mean, double invstd, float gamma, double meanGradient, double meanProduct, Span<float> dx)
    {
        double scale = gamma * invstd;
        ref float s = ref MemoryMarshal.GetReference(x);
        ref float g = ref MemoryMarshal.GetReference(dy);
        ref float d = ref MemoryMarshal.GetReference(dx);
        int n = Math.Min(Math.Min(x.Length, dy.Length), dx.Length), i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(mean);
            var vi = Vector256.Create(invstd * meanProduct);
            var vg = Vector256.Create(meanGradient);
            var vs = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
            {
                var (xLow, xHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref s, (nuint)i));
                var (gLow, gHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref g, (nuint)i));
                var low = vs * (gLow - vg - ((xLow - vm) * vi));
                var high = vs * (gHigh - vg - ((xHigh - vm) * vi));
                Vector256.Narrow(low, high).StoreUnsafe(ref d, (nuint)i);
            }
        }

        double product = invstd * meanProduct;
        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = (float)(scale * (Unsafe.Add(ref g, i) - meanGradient - ((Unsafe.Add(ref s, i) - mean) * product)));
        }
    }
}

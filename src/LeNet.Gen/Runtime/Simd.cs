using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Vector helpers shared by the generated networks: fused multiply-add for each vector width, and the element-wise and
/// dot-product loops that gain nothing from being specialised per network. Each loop picks the widest vectors the
/// processor supports (AVX-512, else AVX2 with FMA) and falls back to scalar code elsewhere. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Simd
{
    /// <summary>True when the AVX-512 code paths run (checked once; a constant to the JIT).</summary>
    public static bool Use512 => Avx512F.IsSupported;

    /// <summary>True when the AVX2/FMA code paths run.</summary>
    public static bool Use256 => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>
    /// True when the AVX-512 code paths run (<see cref="Use512"/>) on a processor whose 512-bit multiply-adds retire at
    /// the rate of its 256-bit ones, so that 16 lanes do twice the work of 8: Intel's server processors and AMD's Zen 5.
    /// False on AMD's Zen 4 (family 19h), which splits each 512-bit operation into two halves on its 256-bit units: there
    /// 8 lanes keep up with 16, and a generated network takes a kernel its cost model preferred for AVX2 where the AVX-512
    /// estimate, made for full-rate units, chose another. Read from CPUID once. The environment variable
    /// <c>LENETGEN_AVX512_RATE</c> set to <c>full</c> or <c>half</c> (in any case) overrides it, for a processor CPUID
    /// cannot tell apart, such as an Intel client part with one 512-bit unit, and for tests that run both choices on one
    /// machine; other values are ignored.
    /// </summary>
    public static bool FullRate512 { get; } = Use512 && DetectFullRate512();

    /// <summary><c>a · b + c</c> in one rounding, 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);

    /// <summary><c>a · b + c</c> in one rounding, 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);

    /// <summary>max(x, 0), keeping NaN (a NaN input gives a NaN output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Avx512F.Max(Vector512<float>.Zero, x);

    /// <summary>max(x, 0), keeping NaN (a NaN input gives a NaN output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Avx.Max(Vector256<float>.Zero, x);

    // vrangeps: imm8 bits 1:0 = 01 pick the larger, bits 3:2 = 01 take the sign from that comparison, which orders −0
    // below +0. (With a quiet NaN operand it returns the other one, so the NaN blend stays.)
    private const byte RangeMax = 0b0101;

    /// <summary>
    /// The larger of each pair of lanes with <see cref="MathF.Max(float, float)"/>'s rules on every .NET version: NaN
    /// when either is NaN, and +0 over −0. (<c>Vector256.Max</c> follows them only from .NET 9; on .NET 8, which this
    /// library targets, it is <c>a &gt; b ? a : b</c>, which drops a NaN in <paramref name="a"/>. The processor's own
    /// max returns <paramref name="b"/> for both.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b)
    {
        var larger = Avx512DQ.VL.IsSupported
            ? Avx512DQ.VL.Range(a, b, RangeMax)
            : Avx.BlendVariable(Avx.Max(a, b), Avx.And(a, b), Avx.CompareEqual(a, b)); // equal: +0 & −0 is +0
        return Avx.BlendVariable(larger, Avx.Add(a, b), Avx.CompareUnordered(a, b)); // a NaN operand makes a + b NaN
    }

    /// <summary>The larger of each pair of lanes with <see cref="MathF.Max(float, float)"/>'s rules, as the 8-lane <see cref="Max(Vector256{float}, Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b)
    {
        var larger = Avx512DQ.IsSupported
            ? Avx512DQ.Range(a, b, RangeMax)
            : Vector512.ConditionalSelect(Avx512F.CompareEqual(a, b), a & b, Avx512F.Max(a, b));
        return Vector512.ConditionalSelect(Avx512F.CompareUnordered(a, b), Avx512F.Add(a, b), larger);
    }

    /// <summary>Σ a[i]·b[i] over the common length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = Math.Min(a.Length, b.Length);
        ref float x = ref MemoryMarshal.GetReference(a);
        ref float y = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0f;
        if (Use512 && n >= 16)
        {
            var s0 = Vector512<float>.Zero;
            var s1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                s0 = MultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), s0);
                s1 = MultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), Vector512.LoadUnsafe(ref y, (nuint)(i + 16)), s1);
            }

            for (; i <= n - 16; i += 16)
            {
                s0 = MultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), s0);
            }

            sum = Vector512.Sum(s0 + s1);
        }
        else if (Use256 && n >= 8)
        {
            var s0 = Vector256<float>.Zero;
            var s1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                s0 = MultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), s0);
                s1 = MultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)(i + 8)), Vector256.LoadUnsafe(ref y, (nuint)(i + 8)), s1);
            }

            for (; i <= n - 8; i += 8)
            {
                s0 = MultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), s0);
            }

            sum = Vector256.Sum(s0 + s1);
        }

        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        }

        return sum;
    }

    /// <summary>
    /// <c>output[o] = bias[o] + Σ i weight[o·columns + i] · x[i]</c> for every row o: a dense layer's forward pass.
    /// Four rows at a time share each load of x, and each keeps two accumulators (its even and its odd vectors of columns),
    /// so the sums do not wait on each other. On 8 lanes whatever the processor: the product is bound by reading the
    /// weights, and on Zen 4 the 16-lane version was slower (LeNet-5's fc2: 0.74 µs with a scalar tail of 8 columns per
    /// row, against 0.42 µs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public static void MatrixVector(ReadOnlySpan<float> weight, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> output, int rows, int columns)
    {
        if (weight.Length < rows * columns || x.Length < columns || bias.Length < rows || output.Length < rows)
        {
            throw new ArgumentException("The spans are shorter than rows × columns require.");
        }

        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float v = ref MemoryMarshal.GetReference(x);
        int o = 0;
        if (Use256 && columns >= 8)
        {
            for (; o <= rows - 4; o += 4)
            {
                ref float r0 = ref Unsafe.Add(ref w, o * columns);
                ref float r1 = ref Unsafe.Add(ref r0, columns);
                ref float r2 = ref Unsafe.Add(ref r1, columns);
                ref float r3 = ref Unsafe.Add(ref r2, columns);

                // Two accumulators per row, for the even and the odd vectors of columns: eight sums in flight, so the
                // loop waits on the loads and not on the multiply-adds' latency.
                var s0 = Vector256<float>.Zero;
                var s1 = s0;
                var s2 = s0;
                var s3 = s0;
                var u0 = s0;
                var u1 = s0;
                var u2 = s0;
                var u3 = s0;
                int i = 0;
                for (; i <= columns - 16; i += 16)
                {
                    var xi = Vector256.LoadUnsafe(ref v, (nuint)i);
                    var xj = Vector256.LoadUnsafe(ref v, (nuint)(i + 8));
                    s0 = MultiplyAdd(Vector256.LoadUnsafe(ref r0, (nuint)i), xi, s0);
                    s1 = MultiplyAdd(Vector256.LoadUnsafe(ref r1, (nuint)i), xi, s1);
                    s2 = MultiplyAdd(Vector256.LoadUnsafe(ref r2, (nuint)i), xi, s2);
                    s3 = MultiplyAdd(Vector256.LoadUnsafe(ref r3, (nuint)i), xi, s3);
                    u0 = MultiplyAdd(Vector256.LoadUnsafe(ref r0, (nuint)(i + 8)), xj, u0);
                    u1 = MultiplyAdd(Vector256.LoadUnsafe(ref r1, (nuint)(i + 8)), xj, u1);
                    u2 = MultiplyAdd(Vector256.LoadUnsafe(ref r2, (nuint)(i + 8)), xj, u2);
                    u3 = MultiplyAdd(Vector256.LoadUnsafe(ref r3, (nuint)(i + 8)), xj, u3);
                }

                if (i <= columns - 8)
                {
                    var xi = Vector256.LoadUnsafe(ref v, (nuint)i);
                    s0 = MultiplyAdd(Vector256.LoadUnsafe(ref r0, (nuint)i), xi, s0);
                    s1 = MultiplyAdd(Vector256.LoadUnsafe(ref r1, (nuint)i), xi, s1);
                    s2 = MultiplyAdd(Vector256.LoadUnsafe(ref r2, (nuint)i), xi, s2);
                    s3 = MultiplyAdd(Vector256.LoadUnsafe(ref r3, (nuint)i), xi, s3);
                    i += 8;
                }

                float t0 = Vector256.Sum(s0 + u0), t1 = Vector256.Sum(s1 + u1), t2 = Vector256.Sum(s2 + u2), t3 = Vector256.Sum(s3 + u3);
                for (; i < columns; i++)
                {
                    float xi = Unsafe.Add(ref v, i);
                    t0 += Unsafe.Add(ref r0, i) * xi;
                    t1 += Unsafe.Add(ref r1, i) * xi;
                    t2 += Unsafe.Add(ref r2, i) * xi;
                    t3 += Unsafe.Add(ref r3, i) * xi;
                }

                output[o] = bias[o] + t0;
                output[o + 1] = bias[o + 1] + t1;
                output[o + 2] = bias[o + 2] + t2;
                output[o + 3] = bias[o + 3] + t3;
            }
        }

        for (; o < rows; o++)
        {
            output[o] = bias[o] + Dot(weight.Slice(o * columns, columns), x.Slice(0, columns));
        }
    }

    /// <summary>
    /// <c>result[i] = Σ o weight[o·columns + i] · d[o]</c>: the transposed product a dense layer's backward pass needs for
    /// its input gradient. Blocks of 8 result vectors stay in registers while the rows pass, in order, each contributing
    /// its 8 vectors of that block (contiguous, which the hardware prefetcher follows), so each result takes its terms in
    /// row order and is loaded and stored once per block of rows, where it was loaded and stored for every four rows before
    /// (LeNet-5's one-thread training 29.4k → 29.7k img/s on an AMD EPYC, Zen 4). Rows
    /// whose d is 0 are skipped (a ReLU layer's gradient is 0 wherever its output was not positive, about half of them):
    /// their terms would add +0 to each sum, which changes nothing but the sign of a sum that is exactly −0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposedMatrixVector(ReadOnlySpan<float> weight, ReadOnlySpan<float> d, Span<float> result, int rows, int columns)
    {
        if (weight.Length < rows * columns || d.Length < rows || result.Length < columns)
        {
            throw new ArgumentException("The spans are shorter than rows × columns require.");
        }

        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float r = ref MemoryMarshal.GetReference(result);
        int i = 0;
        if (Use256)
        {
            // Vectors of 16 where AVX-512 runs, then one of 8 for a remainder of 8 or more (fc2's 120 columns: 7 × 16 + 8).
            int wide = Use512 ? columns / 16 * 16 : 0;
            i = columns / 8 * 8;
            result.Slice(0, i).Clear();
            Span<int> live = stackalloc int[LiveRowBlock];
            for (int block = 0; block < rows; block += LiveRowBlock)
            {
                int end = Math.Min(rows, block + LiveRowBlock), count = 0;
                for (int o = block; o < end; o++)
                {
                    if (d[o] != 0f)
                    {
                        live[count++] = o;
                    }
                }

                if (wide > 0)
                {
                    AddLiveRows<Lanes512, Vector512<float>>(ref r, ref w, columns, 0, wide, live.Slice(0, count), d);
                }

                if (i > wide)
                {
                    AddLiveRows<Lanes256, Vector256<float>>(ref r, ref w, columns, wide, i, live.Slice(0, count), d);
                }
            }
        }

        for (; i < columns; i++)
        {
            float sum = 0f;
            for (int o = 0; o < rows; o++)
            {
                sum += Unsafe.Add(ref w, (o * columns) + i) * d[o];
            }

            Unsafe.Add(ref r, i) = sum;
        }
    }

    /// <summary>Rows whose d <see cref="TransposedMatrixVector"/> checks at a time (on the stack).</summary>
    private const int LiveRowBlock = 512;

    // r[c] += Σ w[o·columns + c] · d[o] over the live rows o, in their order, for from ≤ c < to (whole vectors): each block of
    // 8 vectors of r stays in registers while every live row passes, so r is loaded and stored once per block, not once
    // per row (or per four rows); a row's 8 multiply-adds are independent of each other.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddLiveRows<TLanes, TVector>(ref float r, ref float w, int columns, int from, int to, ReadOnlySpan<int> live, ReadOnlySpan<float> d)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        int l = TLanes.Count, c = from, wide = to;
        for (; c + (8 * l) <= wide; c += 8 * l)
        {
            ref float target = ref Unsafe.Add(ref r, c);
            TVector a0 = TLanes.Load(ref target, 0), a1 = TLanes.Load(ref target, (nuint)l);
            TVector a2 = TLanes.Load(ref target, (nuint)(2 * l)), a3 = TLanes.Load(ref target, (nuint)(3 * l));
            TVector a4 = TLanes.Load(ref target, (nuint)(4 * l)), a5 = TLanes.Load(ref target, (nuint)(5 * l));
            TVector a6 = TLanes.Load(ref target, (nuint)(6 * l)), a7 = TLanes.Load(ref target, (nuint)(7 * l));
            foreach (int o in live)
            {
                ref float row = ref Unsafe.Add(ref w, (o * columns) + c);
                TVector v = TLanes.Splat(d[o]);
                a0 = TLanes.MultiplyAdd(TLanes.Load(ref row, 0), v, a0);
                a1 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)l), v, a1);
                a2 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(2 * l)), v, a2);
                a3 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(3 * l)), v, a3);
                a4 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(4 * l)), v, a4);
                a5 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(5 * l)), v, a5);
                a6 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(6 * l)), v, a6);
                a7 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)(7 * l)), v, a7);
            }

            TLanes.Store(a0, ref target, 0);
            TLanes.Store(a1, ref target, (nuint)l);
            TLanes.Store(a2, ref target, (nuint)(2 * l));
            TLanes.Store(a3, ref target, (nuint)(3 * l));
            TLanes.Store(a4, ref target, (nuint)(4 * l));
            TLanes.Store(a5, ref target, (nuint)(5 * l));
            TLanes.Store(a6, ref target, (nuint)(6 * l));
            TLanes.Store(a7, ref target, (nuint)(7 * l));
        }

        // The vectors left over (fewer than 8), two at a time, then one.
        for (; c + (2 * l) <= wide; c += 2 * l)
        {
            ref float target = ref Unsafe.Add(ref r, c);
            TVector a0 = TLanes.Load(ref target, 0), a1 = TLanes.Load(ref target, (nuint)l);
            foreach (int o in live)
            {
                ref float row = ref Unsafe.Add(ref w, (o * columns) + c);
                TVector v = TLanes.Splat(d[o]);
                a0 = TLanes.MultiplyAdd(TLanes.Load(ref row, 0), v, a0);
                a1 = TLanes.MultiplyAdd(TLanes.Load(ref row, (nuint)l), v, a1);
            }

            TLanes.Store(a0, ref target, 0);
            TLanes.Store(a1, ref target, (nuint)l);
        }

        if (c < wide)
        {
            ref float target = ref Unsafe.Add(ref r, c);
            TVector a0 = TLanes.Load(ref target, 0);
            foreach (int o in live)
            {
                a0 = TLanes.MultiplyAdd(TLanes.Load(ref w, (nuint)((o * columns) + c)), TLanes.Splat(d[o]), a0);
            }

            TLanes.Store(a0, ref target, 0);
        }
    }

    /// <summary><c>y[i] += a · x[i]</c> over the common length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(ReadOnlySpan<float> x, float a, Span<float> y)
    {
        int n = Math.Min(x.Length, y.Length);
        ref float s = ref MemoryMarshal.GetReference(x);
        ref float d = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Use512)
        {
            var va = Vector512.Create(a);
            for (; i <= n - 16; i += 16)
            {
                MultiplyAdd(Vector512.LoadUnsafe(ref s, (nuint)i), va, Vector512.LoadUnsafe(ref d, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Use256)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
            {
                MultiplyAdd(Vector256.LoadUnsafe(ref s, (nuint)i), va, Vector256.LoadUnsafe(ref d, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) += a * Unsafe.Add(ref s, i);
        }
    }

    /// <summary>Columns per panel of <see cref="PackColumns"/>: two vectors of 8, the width of a tile of <see cref="OuterProducts"/>.</summary>
    public const int PanelWidth = 16;

    /// <summary>
    /// Copies example <paramref name="example"/>'s <paramref name="columns"/> values (of <paramref name="count"/>) into
    /// <paramref name="packed"/>, the column factors of <see cref="OuterProducts"/> in panels: the first columns − columns
    /// mod 16 go in panels of 16 columns, each panel holding its columns for every example in turn (so a tile reads them
    /// in one sequential run rather than one cache line per example); the rest follow, example by example.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackColumns(ReadOnlySpan<float> values, int example, int count, int columns, Span<float> packed)
    {
        if ((uint)example >= (uint)count || values.Length < columns || packed.Length < (long)count * columns)
        {
            throw new ArgumentException($"Packing example {example} of {count} × {columns} columns: {values.Length} values, {packed.Length} packed.");
        }

        int wide = columns - (columns % PanelWidth);
        for (int c = 0; c < wide; c += PanelWidth)
        {
            values.Slice(c, PanelWidth).CopyTo(packed.Slice((c * count) + (example * PanelWidth), PanelWidth));
        }

        int tail = columns - wide;
        values.Slice(wide, tail).CopyTo(packed.Slice((wide * count) + (example * tail), tail));
    }

    /// <summary>
    /// Writes rows <paramref name="firstRow"/> … <paramref name="endRow"/> − 1 of
    /// <c>target[o·columns + i] = Σ n rowFactors[n·rows + o] · x[n, i]</c> for n = 0 … count − 1, the weight gradient of
    /// a dense layer over a batch, with the column factors x packed by <see cref="PackColumns"/>. Each value gets its terms
    /// in example order with the arithmetic of <see cref="MultiplyAdd(ReadOnlySpan{float}, float, Span{float})"/> from
    /// zero, so the result is bit-identical to calling that once per example and row on zeroed rows. Rows outside the range
    /// are neither read nor written, so threads may each take their own range of one target.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OuterProducts(ReadOnlySpan<float> rowFactors, ReadOnlySpan<float> packedColumns, int count, int rows, int columns, int firstRow, int endRow, Span<float> target)
    {
        if (count < 0 || rows < 0 || columns < 0 || rowFactors.Length < (long)count * rows || packedColumns.Length < (long)count * columns || target.Length < (long)rows * columns
            || firstRow < 0 || endRow < firstRow || endRow > rows)
        {
            throw new ArgumentException($"Outer products of {count} × ({rows} by {columns}), rows {firstRow} to {endRow}: {rowFactors.Length} row factors, {packedColumns.Length} packed column factors, {target.Length} targets.");
        }

        ref float a = ref MemoryMarshal.GetReference(rowFactors);
        ref float x = ref MemoryMarshal.GetReference(packedColumns);
        ref float t = ref MemoryMarshal.GetReference(target);
        int wide = columns - (columns % PanelWidth), tail = columns - wide;
        int done = 0;
        if (Use256)
        {
            // Tiles of 6 rows × one panel: twelve chains side by side, each load of the column factors serving six rows.
            // With AVX-512 too: a lane's fused multiply-add is the same in a vector of 8 as in one of 16.
            for (int o = firstRow; o < endRow; o += OuterProductTileRows)
            {
                OuterProductTile(ref a, ref x, count, rows, columns, o, Math.Min(OuterProductTileRows, endRow - o), wide, ref t);
            }

            done = wide;
        }

        // The columns the tiles left (all of them without vectors), row by row, where MultiplyAdd's own vector steps end
        // in the same place: steps of 8 with AVX2; none past the panels with AVX-512, whose steps are 16 wide.
        int vectorEnd = Use256 && !Use512 ? columns - (columns % 8) : done;
        ref float rest = ref Unsafe.Add(ref x, wide * count);
        for (int o = firstRow; o < endRow; o++)
        {
            ref float d = ref Unsafe.Add(ref t, o * columns);
            int i = done;
            for (; i < vectorEnd; i += 8)
            {
                var sum = Vector256<float>.Zero;
                for (int n = 0; n < count; n++)
                {
                    sum = MultiplyAdd(Vector256.LoadUnsafe(ref rest, (nuint)((n * tail) + (i - wide))), Vector256.Create(Unsafe.Add(ref a, (n * rows) + o)), sum);
                }

                sum.StoreUnsafe(ref d, (nuint)i);
            }

            for (; i < columns; i++)
            {
                // Where PackColumns put example n's column i: in its panel, or after the panels.
                int start = i < wide ? ((i - (i % PanelWidth)) * count) + (i % PanelWidth) : (wide * count) + (i - wide);
                int stride = i < wide ? PanelWidth : tail;
                float sum = 0f;
                for (int n = 0; n < count; n++)
                {
                    sum += Unsafe.Add(ref a, (n * rows) + o) * Unsafe.Add(ref x, start + (n * stride));
                }

                Unsafe.Add(ref d, i) = sum;
            }
        }
    }

    /// <summary>Rows per tile of <see cref="OuterProducts"/>; a part of a batch gradient takes a multiple of it.</summary>
    internal const int OuterProductTileRows = 6;

    // Rows o … o + height − 1 (height 1 to 6) of OuterProducts over the panels' columns [0, wide). A tile of fewer than six
    // rows computes its last row again in place of the missing ones and stores only its own rows' sums.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OuterProductTile(ref float a, ref float x, int count, int rows, int columns, int o, int height, int wide, ref float t)
    {
        int last = height - 1;
        int o1 = o + Math.Min(1, last), o2 = o + Math.Min(2, last), o3 = o + Math.Min(3, last), o4 = o + Math.Min(4, last), o5 = o + Math.Min(5, last);
        ref float d0 = ref Unsafe.Add(ref t, o * columns);
        ref float d1 = ref Unsafe.Add(ref t, o1 * columns);
        ref float d2 = ref Unsafe.Add(ref t, o2 * columns);
        ref float d3 = ref Unsafe.Add(ref t, o3 * columns);
        ref float d4 = ref Unsafe.Add(ref t, o4 * columns);
        ref float d5 = ref Unsafe.Add(ref t, o5 * columns);
        for (int i = 0; i < wide; i += PanelWidth)
        {
            ref float panel = ref Unsafe.Add(ref x, i * count);
            var s00 = Vector256<float>.Zero;
            var s01 = s00;
            var s10 = s00;
            var s11 = s00;
            var s20 = s00;
            var s21 = s00;
            var s30 = s00;
            var s31 = s00;
            var s40 = s00;
            var s41 = s00;
            var s50 = s00;
            var s51 = s00;
            ref float factors = ref a;
            for (int n = 0; n < count; n++)
            {
                var x0 = Vector256.LoadUnsafe(ref panel);
                var x1 = Vector256.LoadUnsafe(ref panel, 8);
                var f = Vector256.Create(Unsafe.Add(ref factors, o));
                s00 = MultiplyAdd(x0, f, s00);
                s01 = MultiplyAdd(x1, f, s01);
                f = Vector256.Create(Unsafe.Add(ref factors, o1));
                s10 = MultiplyAdd(x0, f, s10);
                s11 = MultiplyAdd(x1, f, s11);
                f = Vector256.Create(Unsafe.Add(ref factors, o2));
                s20 = MultiplyAdd(x0, f, s20);
                s21 = MultiplyAdd(x1, f, s21);
                f = Vector256.Create(Unsafe.Add(ref factors, o3));
                s30 = MultiplyAdd(x0, f, s30);
                s31 = MultiplyAdd(x1, f, s31);
                f = Vector256.Create(Unsafe.Add(ref factors, o4));
                s40 = MultiplyAdd(x0, f, s40);
                s41 = MultiplyAdd(x1, f, s41);
                f = Vector256.Create(Unsafe.Add(ref factors, o5));
                s50 = MultiplyAdd(x0, f, s50);
                s51 = MultiplyAdd(x1, f, s51);
                panel = ref Unsafe.Add(ref panel, PanelWidth);
                factors = ref Unsafe.Add(ref factors, rows);
            }

            // The missing rows of a short tile alias its last row, whose sums they repeat.
            nuint at = (nuint)i;
            s50.StoreUnsafe(ref d5, at);
            s51.StoreUnsafe(ref d5, at + 8);
            s40.StoreUnsafe(ref d4, at);
            s41.StoreUnsafe(ref d4, at + 8);
            s30.StoreUnsafe(ref d3, at);
            s31.StoreUnsafe(ref d3, at + 8);
            s20.StoreUnsafe(ref d2, at);
            s21.StoreUnsafe(ref d2, at + 8);
            s10.StoreUnsafe(ref d1, at);
            s11.StoreUnsafe(ref d1, at + 8);
            s00.StoreUnsafe(ref d0, at);
            s01.StoreUnsafe(ref d0, at + 8);
        }
    }

    /// <summary><c>y[i] += x[i]</c> over the common length.</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> y) => Add(x, y, clear: false);

    /// <summary>
    /// <c>y[i] += x[i]</c>, then <c>x[i] = 0</c>, in one pass: a partial sum added on and left zeroed for its next use while
    /// its values are still in cache. The sums are those of <see cref="Add(ReadOnlySpan{float}, Span{float})"/>.
    /// </summary>
    public static void AddAndClear(Span<float> x, Span<float> y) => Add(x, y, clear: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(ReadOnlySpan<float> x, Span<float> y, bool clear)
    {
        int n = Math.Min(x.Length, y.Length);
        ref float s = ref MemoryMarshal.GetReference(x);
        ref float d = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                (Vector256.LoadUnsafe(ref s, (nuint)i) + Vector256.LoadUnsafe(ref d, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
                if (clear)
                {
                    Vector256<float>.Zero.StoreUnsafe(ref s, (nuint)i);
                }
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) += Unsafe.Add(ref s, i);
            if (clear)
            {
                Unsafe.Add(ref s, i) = 0f;
            }
        }
    }

    /// <summary>ReLU backward, in place: <c>g[i] = y[i] &gt; 0 ? g[i] : 0</c> (0 where the output is 0 or NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward(ReadOnlySpan<float> y, Span<float> g)
    {
        int n = Math.Min(y.Length, g.Length);
        ref float o = ref MemoryMarshal.GetReference(y);
        ref float d = ref MemoryMarshal.GetReference(g);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref o, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref d, (nuint)i) & mask).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            if (!(Unsafe.Add(ref o, i) > 0f))
            {
                Unsafe.Add(ref d, i) = 0f;
            }
        }
    }

    /// <summary>tanh backward, in place: <c>g[i] *= 1 − y[i]²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TanhBackward(ReadOnlySpan<float> y, Span<float> g)
    {
        int n = Math.Min(y.Length, g.Length);
        ref float o = ref MemoryMarshal.GetReference(y);
        ref float d = ref MemoryMarshal.GetReference(g);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref o, (nuint)i);
                (Vector256.LoadUnsafe(ref d, (nuint)i) * (Vector256<float>.One - (v * v))).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref o, i);
            Unsafe.Add(ref d, i) *= 1f - (v * v);
        }
    }

    /// <summary>Sigmoid backward, in place: <c>g[i] *= y[i] · (1 − y[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SigmoidBackward(ReadOnlySpan<float> y, Span<float> g)
    {
        int n = Math.Min(y.Length, g.Length);
        ref float o = ref MemoryMarshal.GetReference(y);
        ref float d = ref MemoryMarshal.GetReference(g);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref o, (nuint)i);
                (Vector256.LoadUnsafe(ref d, (nuint)i) * (v * (Vector256<float>.One - v))).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref o, i);
            Unsafe.Add(ref d, i) *= v * (1f - v);
        }
    }

    /// <summary>Σ x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x)
    {
        ref float s = ref MemoryMarshal.GetReference(x);
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                acc += Vector256.LoadUnsafe(ref s, (nuint)i);
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            sum += Unsafe.Add(ref s, i);
        }

        return sum;
    }

    /// <summary>
    /// Copies the first <paramref name="length"/> values of each of <paramref name="channels"/> planes, <paramref name="plane"/>
    /// apart in <paramref name="source"/>, into <paramref name="output"/> back to back: a convolution's outputs computed
    /// on planes rounded up to whole register tiles, into its C×H×W output.
    /// </summary>
    public static void CompactPlanes(ReadOnlySpan<float> source, int plane, int channels, int length, Span<float> output)
    {
        for (int c = 0; c < channels; c++)
        {
            source.Slice(c * plane, length).CopyTo(output.Slice(c * length, length));
        }
    }

    /// <summary>
    /// Copies <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/> values out of a "wide" buffer,
    /// where channel c's row y starts at <c>c·plane + y·rowStride</c>, into a compact C×H×W tensor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compact(ReadOnlySpan<float> wide, int plane, int rowStride, int channels, int height, int width, Span<float> output)
    {
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                wide.Slice((c * plane) + (y * rowStride), width).CopyTo(output.Slice(((c * height) + y) * width, width));
            }
        }
    }

    /// <summary>
    /// <c>target[c·rows + r] = source[r·columns + c]</c>: the transpose of a <paramref name="rows"/> × <paramref name="columns"/>
    /// row-major matrix. With AVX2, 8×8 blocks at a time (eight row loads, three rounds of shuffles, eight stores); the
    /// edges one value at a time.
    /// </summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> target) => Transpose(source, rows, columns, target, add: false);

    /// <summary>
    /// <c>target[c·rows + r] += source[r·columns + c]</c>: adds the transpose of a <paramref name="rows"/> × <paramref name="columns"/>
    /// row-major matrix, as <see cref="Transpose(ReadOnlySpan{float}, int, int, Span{float})"/> moves the values. A convolution's
    /// weight gradient, kept with the filters adjacent over a chunk of examples, goes into the gradient this way.
    /// </summary>
    public static void AddTransposed(ReadOnlySpan<float> source, int rows, int columns, Span<float> target) => Transpose(source, rows, columns, target, add: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> target, bool add)
    {
        if (rows < 0 || columns < 0 || source.Length < (long)rows * columns || target.Length < (long)rows * columns)
        {
            throw new ArgumentException($"Transpose of {rows} × {columns}: source has {source.Length} values and target {target.Length}.");
        }

        ref float s = ref MemoryMarshal.GetReference(source);
        ref float t = ref MemoryMarshal.GetReference(target);
        int fullRows = 0, fullColumns = 0;
        if (Use256)
        {
            fullRows = rows / 8 * 8;
            fullColumns = columns / 8 * 8;
            for (int r = 0; r < fullRows; r += 8)
            {
                for (int c = 0; c < fullColumns; c += 8)
                {
                    ref float from = ref Unsafe.Add(ref s, (r * columns) + c);
                    nuint stride = (nuint)columns;
                    Transpose8x8(
                        Vector256.LoadUnsafe(ref from), Vector256.LoadUnsafe(ref from, stride), Vector256.LoadUnsafe(ref from, 2 * stride), Vector256.LoadUnsafe(ref from, 3 * stride),
                        Vector256.LoadUnsafe(ref from, 4 * stride), Vector256.LoadUnsafe(ref from, 5 * stride), Vector256.LoadUnsafe(ref from, 6 * stride), Vector256.LoadUnsafe(ref from, 7 * stride),
                        out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                    ref float to = ref Unsafe.Add(ref t, (c * rows) + r);
                    nuint step = (nuint)rows;
                    if (add)
                    {
                        c0 += Vector256.LoadUnsafe(ref to); c1 += Vector256.LoadUnsafe(ref to, step); c2 += Vector256.LoadUnsafe(ref to, 2 * step); c3 += Vector256.LoadUnsafe(ref to, 3 * step);
                        c4 += Vector256.LoadUnsafe(ref to, 4 * step); c5 += Vector256.LoadUnsafe(ref to, 5 * step); c6 += Vector256.LoadUnsafe(ref to, 6 * step); c7 += Vector256.LoadUnsafe(ref to, 7 * step);
                    }

                    c0.StoreUnsafe(ref to); c1.StoreUnsafe(ref to, step); c2.StoreUnsafe(ref to, 2 * step); c3.StoreUnsafe(ref to, 3 * step);
                    c4.StoreUnsafe(ref to, 4 * step); c5.StoreUnsafe(ref to, 5 * step); c6.StoreUnsafe(ref to, 6 * step); c7.StoreUnsafe(ref to, 7 * step);
                }
            }
        }

        // The columns right of the blocks in the blocks' rows, then every column of the rows below them.
        for (int r = 0; r < rows; r++)
        {
            for (int c = r < fullRows ? fullColumns : 0; c < columns; c++)
            {
                ref float to = ref Unsafe.Add(ref t, (c * rows) + r);
                to = add ? to + Unsafe.Add(ref s, (r * columns) + c) : Unsafe.Add(ref s, (r * columns) + c);
            }
        }
    }

    /// <summary>The columns of the 8×8 matrix with rows <paramref name="r0"/> … <paramref name="r7"/>: <c>c_j[k] = r_k[j]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)] // the JIT may decline to inline it; then it must not start as tier-0 code
    internal static void Transpose8x8(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves exchanged.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(u0, u4, 0x20); c4 = Avx.Permute2x128(u0, u4, 0x31);
        c1 = Avx.Permute2x128(u1, u5, 0x20); c5 = Avx.Permute2x128(u1, u5, 0x31);
        c2 = Avx.Permute2x128(u2, u6, 0x20); c6 = Avx.Permute2x128(u2, u6, 0x31);
        c3 = Avx.Permute2x128(u3, u7, 0x20); c7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// The reverse of <see cref="Compact"/>: writes a compact C×H×W tensor into a wide buffer, row y of channel c at
    /// <c>c·plane + (y + top)·rowStride + left</c>. Everything else in the wide buffer is left as it is (zero, by design).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Expand(ReadOnlySpan<float> compact, int channels, int height, int width, Span<float> wide, int plane, int rowStride, int top, int left)
    {
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                compact.Slice(((c * height) + y) * width, width).CopyTo(wide.Slice((c * plane) + ((y + top) * rowStride) + left, width));
            }
        }
    }

    /// <summary>
    /// tanh, in place. With AVX2 and FMA, eight values at a time: below 2 in magnitude a rational function x·P(x²)/Q(x²)
    /// of degrees 7 and 4 (a relative error under 10⁻⁹ before rounding; within 3.4 units in the last place over every float
    /// there), from 2 on (1 − e^−2|x|) / (1 + e^−2|x|) with the sign of x, |x| capped at 9 where tanh rounds to 1. When all
    /// eight values lie below 2, as most pre-activations of a working network do, the exponential is skipped. Within a few
    /// units in the last place of <see cref="MathF.Tanh"/>, which the tail and the machines without those instructions
    /// use; NaN stays NaN and ±∞ gives ±1, as there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(Span<float> x)
    {
        ref float v = ref MemoryMarshal.GetReference(x);
        int i = 0;
        if (Use512)
        {
            i = Tanh512(ref v, x.Length);
        }

        if (Use256)
        {
            var two = Vector256.Create(2f);
            for (; i <= x.Length - 8; i += 8)
            {
                var value = Vector256.LoadUnsafe(ref v, (nuint)i);
                var result = Vector256.LessThanAll(Vector256.Abs(value), two) ? TanhBelowTwo(value) : Tanh(value);
                result.StoreUnsafe(ref v, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref v, i) = MathF.Tanh(Unsafe.Add(ref v, i));
        }
    }

    /// <summary>
    /// The logistic sigmoid 1 / (1 + e^−x), in place; with AVX2 and FMA eight values at a time through this class's
    /// vector e^x (within a few units in the last place of <see cref="MathF.Exp"/>), otherwise with <see cref="MathF.Exp"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(Span<float> x)
    {
        ref float v = ref MemoryMarshal.GetReference(x);
        int i = 0;
        if (Use512)
        {
            i = Sigmoid512(ref v, x.Length);
        }

        if (Use256)
        {
            var one = Vector256<float>.One;
            for (; i <= x.Length - 8; i += 8)
            {
                var value = Vector256.LoadUnsafe(ref v, (nuint)i);
                Avx.Divide(one, Avx.Add(one, Exp(Avx.Subtract(Vector256<float>.Zero, value)))).StoreUnsafe(ref v, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref v, i) = 1f / (1f + MathF.Exp(-Unsafe.Add(ref v, i)));
        }
    }

    // These vector functions are written for throughput: a loop over a span keeps only as many iterations in flight as the
    // processor's reorder buffer holds, so the length of one value's chain of dependent instructions sets the speed. Hence
    // fused multiply-adds, Estrin's scheme for the polynomial, and rounding by adding 1.5·2²³ (no round or convert).

    // The constants of e^x and tanh, one home for both vector widths (Simd.Activations512.cs runs the same operations on
    // 16 lanes, bit for bit).
    private const float ExpHighest = 88.3f;           // above: +∞
    private const float ExpLowest = -87.3f;           // below: 0
    private const float RoundingMagic = 12582912f;    // 1.5·2²³: adding it leaves round(x·log₂e) in the low bits
    private const float Log2E = 1.44269504f;
    private const float Ln2High = 0.693359375f;       // ln 2 in two parts, so that n·ln 2 stays exact
    private const float Ln2Low = -2.12194440e-4f;
    private const float TanhP3 = -5.5565754554578616e-6f; // tanh x ≈ x·P(x²) / Q(x²) below 2 in magnitude
    private const float TanhP2 = 0.0013024289249740079f;
    private const float TanhP1 = 0.11451965504192384f;
    private const float TanhP0 = 0.99999999905620388f;
    private const float TanhQ2 = 0.017253506794233265f;
    private const float TanhQ1 = 0.44785296561411567f;
    private const float TanhCap = 9f;                 // tanh rounds to 1 from here

    // e^x, eight lanes: x = n·ln 2 + r with n whole and |r| ≤ ½ ln 2 (ln 2 split in two parts so n·ln 2 stays exact),
    // e^r by its Taylor series to r⁷ (the next term is under 6·10⁻⁹ of the result), times 2^n built in the exponent bits.
    // Above 88.3 the result is +∞ and below −87.3 it is 0, as the float function's range ends; NaN stays NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Avx.Min(Vector256.Create(ExpHighest), Avx.Max(Vector256.Create(ExpLowest), x));
        var result = ExpInRange(clamped);
        result = Avx.BlendVariable(result, Vector256.Create(float.PositiveInfinity), Avx.CompareGreaterThan(x, Vector256.Create(ExpHighest)));
        return Avx.AndNot(Avx.CompareLessThan(x, Vector256.Create(ExpLowest)), result);
    }

    // e^x for x in [−87.3, 88.3], where 2^n is a normal float; NaN gives NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpInRange(Vector256<float> x)
    {
        var magic = Vector256.Create(RoundingMagic);
        var k = Fma.MultiplyAdd(x, Vector256.Create(Log2E), magic);
        var n = Avx.Subtract(k, magic);
        var r = Fma.MultiplyAddNegated(n, Vector256.Create(Ln2High), x);
        r = Fma.MultiplyAddNegated(n, Vector256.Create(Ln2Low), r);
        var r2 = Avx.Multiply(r, r);
        var r4 = Avx.Multiply(r2, r2);
        var p01 = Avx.Add(r, Vector256<float>.One);
        var p23 = Fma.MultiplyAdd(r, Vector256.Create(1f / 6f), Vector256.Create(0.5f));
        var p45 = Fma.MultiplyAdd(r, Vector256.Create(1f / 120f), Vector256.Create(1f / 24f));
        var p67 = Fma.MultiplyAdd(r, Vector256.Create(1f / 5040f), Vector256.Create(1f / 720f));
        var low = Fma.MultiplyAdd(p23, r2, p01);
        var high = Fma.MultiplyAdd(p67, r2, p45);
        var p = Fma.MultiplyAdd(high, r4, low);

        // k's bits are those of 1.5·2²³ plus n; shifted by 23, the constant's bits leave the word and n + 127 lands in the exponent.
        var scale = Avx2.ShiftLeftLogical(Avx2.Add(k.AsInt32(), Vector256.Create(127)), 23).AsSingle();
        return Avx.Multiply(p, scale);
    }

    // tanh for |x| < 2: x·P(u)/Q(u) with u = x², P of degree 3 and Q of degree 2 in u, fitted to tanh(x)/x on [0, 2] for
    // the least largest relative error (9.5·10⁻¹⁰) by reweighted least squares (this project's own fit, done with mpmath).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TanhBelowTwo(Vector256<float> x)
    {
        var (p, q) = TanhRational(x);
        return Avx.Divide(Avx.Multiply(x, p), q);
    }

    // P(x²) and Q(x²) of TanhBelowTwo: tanh x ≈ x·P / Q below 2 in magnitude.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> P, Vector256<float> Q) TanhRational(Vector256<float> x)
    {
        var u = Avx.Multiply(x, x);
        var p = Fma.MultiplyAdd(u, Vector256.Create(TanhP3), Vector256.Create(TanhP2));
        p = Fma.MultiplyAdd(p, u, Vector256.Create(TanhP1));
        p = Fma.MultiplyAdd(p, u, Vector256.Create(TanhP0));
        var q = Fma.MultiplyAdd(u, Vector256.Create(TanhQ2), Vector256.Create(TanhQ1));
        q = Fma.MultiplyAdd(q, u, Vector256<float>.One);
        return (p, q);
    }

    // tanh for any x: the rational function below 2 in magnitude, and (1 − e^−2|x|) / (1 + e^−2|x|) with the sign of x
    // from there, where e^−2|x| ≤ 0.02 leaves no cancellation; |x| is capped at 9, where tanh rounds to 1. Each lane's
    // numerator and denominator are chosen first and divided once: the same quotients as two divisions and a blend (the
    // sign goes on the numerator, the denominator is positive), for one division.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x)
    {
        var sign = Vector256.Create(-0f);
        var magnitude = Avx.AndNot(sign, x);
        var a = Avx.Min(Vector256.Create(TanhCap), magnitude); // minps returns its second operand, so NaN stays
        var one = Vector256<float>.One;
        var t = ExpInRange(Avx.Multiply(a, Vector256.Create(-2f)));
        var (p, q) = TanhRational(x);
        var small = Avx.CompareLessThan(magnitude, Vector256.Create(2f));
        var numerator = Avx.BlendVariable(Avx.Or(Avx.Subtract(one, t), Avx.And(x, sign)), Avx.Multiply(x, p), small);
        var denominator = Avx.BlendVariable(Avx.Add(one, t), q, small);
        return Avx.Divide(numerator, denominator);
    }

    /// <summary>Plain SGD: <c>p[i] −= rate · g[i]</c>.</summary>
    public static void Descend(Span<float> parameters, ReadOnlySpan<float> gradients, float rate) => MultiplyAdd(gradients, -rate, parameters);

    // Zen 4 is AMD's only family with AVX-512 on 256-bit units: family 19h (Zen 3, also 19h, has no AVX-512).
    private static bool DetectFullRate512()
    {
        // Any other value (or none) leaves the choice to CPUID, as the runtime's own DOTNET_ switches do with values they do not know.
        switch (Environment.GetEnvironmentVariable("LENETGEN_AVX512_RATE")?.Trim().ToLowerInvariant())
        {
            case "full":
                return true;
            case "half":
                return false;
        }

        if (!X86Base.IsSupported)
        {
            return true;
        }

        (_, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        bool amd = ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163; // "AuthenticAMD"
        int signature = X86Base.CpuId(1, 0).Eax;
        int family = (signature >> 8) & 0xF;
        if (family == 0xF)
        {
            family += (signature >> 20) & 0xFF;
        }

        return !(amd && family == 0x19);
    }
}

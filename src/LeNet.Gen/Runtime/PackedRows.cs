using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static LeNet.Gen.Runtime.Simd;

namespace LeNet.Gen.Runtime;

/// <summary>
/// A dense layer's weights rearranged so that its single-image forward pass (<see cref="Simd.MatrixVector"/>) reads them
/// in one sequential stream. <see cref="Simd.MatrixVector"/> takes four rows at a time and walks them side by side: four
/// interleaved streams, each a few hundred bytes long, which the hardware prefetchers follow poorly when the weights come
/// from the level-2 cache. Packed, the four rows' first vectors lie next to each other, then their second vectors, and
/// so on. <see cref="MatrixVector"/> computes the same sums in the same order as <see cref="Simd.MatrixVector"/>, so its
/// outputs are bit for bit the same. Not meant to be called directly.
/// </summary>
/// <remarks>
/// The layout, with AVX2 or AVX-512 (8 lanes either way, as <see cref="Simd.MatrixVector"/> runs), in each group of four
/// rows: for every whole vector of columns, the four rows' 8 values one row after the other; then the four rows'
/// remaining columns (fewer than 8), one row after the other. The last <c>rows mod 4</c> rows follow
/// whole, as does every row when the columns fill no vector or the processor has no vector code.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PackedRows
{
    // The vector width Simd.MatrixVector uses for this many columns, or 0 where it runs row by row.
    private static int Lanes(int columns) => Use256 && columns >= 8 ? 8 : 0;

    /// <summary>Writes the <paramref name="rows"/> × <paramref name="columns"/> row-major <paramref name="weight"/> into <paramref name="packed"/> in the layout above.</summary>
    /// <exception cref="ArgumentException">A span is shorter than <paramref name="rows"/> × <paramref name="columns"/>.</exception>
    public static void Pack(ReadOnlySpan<float> weight, int rows, int columns, Span<float> packed)
    {
        long length = (long)rows * columns;
        if (rows < 0 || columns < 0 || weight.Length < length || packed.Length < length)
        {
            throw new ArgumentException($"The spans ({weight.Length} and {packed.Length} values) are shorter than {rows} × {columns} require.");
        }

        int lanes = Lanes(columns);
        int o = 0, at = 0;
        if (lanes > 0)
        {
            int whole = columns / lanes * lanes, rest = columns - whole;
            for (; o <= rows - 4; o += 4)
            {
                for (int i = 0; i < whole; i += lanes)
                {
                    for (int r = 0; r < 4; r++)
                    {
                        weight.Slice(((o + r) * columns) + i, lanes).CopyTo(packed.Slice(at));
                        at += lanes;
                    }
                }

                for (int r = 0; r < 4; r++)
                {
                    weight.Slice(((o + r) * columns) + whole, rest).CopyTo(packed.Slice(at));
                    at += rest;
                }
            }
        }

        weight.Slice(o * columns, (rows - o) * columns).CopyTo(packed.Slice(at));
    }

    /// <summary>
    /// <c>output[o] = bias[o] + Σ i weight[o·columns + i] · x[i]</c> for every row o, from the weights as
    /// <see cref="Pack"/> wrote them: the same values as <see cref="Simd.MatrixVector"/> on the unpacked weights.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than <paramref name="rows"/> and <paramref name="columns"/> require.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatrixVector(ReadOnlySpan<float> packed, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> output, int rows, int columns)
    {
        if (rows < 0 || columns < 0 || packed.Length < (long)rows * columns || x.Length < columns || bias.Length < rows || output.Length < rows)
        {
            throw new ArgumentException($"The spans are shorter than {rows} × {columns} require.");
        }

        ref float p = ref MemoryMarshal.GetReference(packed);
        ref float v = ref MemoryMarshal.GetReference(x);
        int lanes = Lanes(columns);
        int o = 0;
        if (lanes == 8)
        {
            int whole = columns / 8 * 8, rest = columns - whole;
            for (; o <= rows - 4; o += 4)
            {
                // The even and the odd vectors of columns in separate accumulators, as Simd.MatrixVector adds them.
                var s0 = Vector256<float>.Zero;
                var s1 = s0;
                var s2 = s0;
                var s3 = s0;
                var u0 = s0;
                var u1 = s0;
                var u2 = s0;
                var u3 = s0;
                int i = 0;
                for (; i <= whole - 16; i += 16)
                {
                    var xi = Vector256.LoadUnsafe(ref v, (nuint)i);
                    var xj = Vector256.LoadUnsafe(ref v, (nuint)(i + 8));
                    s0 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 0), xi, s0);
                    s1 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 8), xi, s1);
                    s2 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 16), xi, s2);
                    s3 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 24), xi, s3);
                    u0 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 32), xj, u0);
                    u1 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 40), xj, u1);
                    u2 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 48), xj, u2);
                    u3 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 56), xj, u3);
                    p = ref Unsafe.Add(ref p, 64);
                }

                if (i < whole)
                {
                    var xi = Vector256.LoadUnsafe(ref v, (nuint)i);
                    s0 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 0), xi, s0);
                    s1 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 8), xi, s1);
                    s2 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 16), xi, s2);
                    s3 = MultiplyAdd(Vector256.LoadUnsafe(ref p, 24), xi, s3);
                    p = ref Unsafe.Add(ref p, 32);
                }

                float t0 = Vector256.Sum(s0 + u0), t1 = Vector256.Sum(s1 + u1), t2 = Vector256.Sum(s2 + u2), t3 = Vector256.Sum(s3 + u3);
                Tails(ref p, ref Unsafe.Add(ref v, whole), rest, ref t0, ref t1, ref t2, ref t3);
                p = ref Unsafe.Add(ref p, 4 * rest);
                Store(bias, output, o, t0, t1, t2, t3);
            }
        }

        // The rows left over (or all of them without vectors), whole, as Simd.MatrixVector takes them.
        int done = o * columns;
        for (; o < rows; o++)
        {
            output[o] = bias[o] + Dot(packed.Slice(done, columns), x.Slice(0, columns));
            done += columns;
        }
    }

    // The group's columns past the last whole vector, four rows of `rest` one after the other: added to each row's sum
    // column by column, as Simd.MatrixVector does. The next group starts 4·rest values after p.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tails(ref float p, ref float x, int rest, ref float t0, ref float t1, ref float t2, ref float t3)
    {
        for (int i = 0; i < rest; i++)
        {
            float xi = Unsafe.Add(ref x, i);
            t0 += Unsafe.Add(ref p, i) * xi;
            t1 += Unsafe.Add(ref p, rest + i) * xi;
            t2 += Unsafe.Add(ref p, (2 * rest) + i) * xi;
            t3 += Unsafe.Add(ref p, (3 * rest) + i) * xi;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ReadOnlySpan<float> bias, Span<float> output, int o, float t0, float t1, float t2, float t3)
    {
        output[o] = bias[o] + t0;
        output[o + 1] = bias[o + 1] + t1;
        output[o + 2] = bias[o + 2] + t2;
        output[o + 3] = bias[o + 3] + t3;
    }
}

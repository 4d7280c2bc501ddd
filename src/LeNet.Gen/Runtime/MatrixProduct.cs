using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

/// <summary>
/// C = A · B with AVX-512 or AVX2 and FMA, for the runtime's kernels that are matrix products: Winograd's 16 products per layer
/// (filters × channels by channels × tiles) and <see cref="ColumnGradient"/>'s (kernel taps × filters by filters ×
/// positions). A is read through two strides, so either kind of A needs no copy: element (row, k) is at
/// <c>row·rowStride + k·depthStride</c>. B is depth × (vectors · 8) and C rows × (vectors · 8), row after row.
/// </summary>
/// <remarks>
/// With AVX-512, register tiles of 8 rows × 2 registers of 16 floats (16 × 1, then 8 × 1, for a last odd register), the rest as
/// with AVX2. With AVX2, register tiles of 4 rows × 3 vectors (or 6 × 2 and then 4 × 2 when the vectors come in pairs), each A value broadcast
/// and each B vector loaded once per tile; the vectors left over go eight rows at a time, and the rows left over four
/// vectors at a time. Every C
/// value is the fused multiply-adds of its terms in k order from zero, whichever tile computes it.
/// </remarks>
internal static class MatrixProduct
{
    private const int Lanes = 8;

    // Optimized at the first call (the JIT's quick first tier makes each vector helper a call; see Code.Hot in the
    // generator), and inlined, with the tiles, into a caller that passes the shape as constants (a generated layer), where
    // the JIT folds the shape into the loops (2–4% on vgg-cifar and strided batches).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public static void Multiply(ReadOnlySpan<float> a, int rowStride, int depthStride, ReadOnlySpan<float> b, Span<float> c, int rows, int depth, int vectors)
    {
        ref float u = ref MemoryMarshal.GetReference(a);
        ref float v = ref MemoryMarshal.GetReference(b);
        ref float m = ref MemoryMarshal.GetReference(c);
        int stride = vectors * Lanes;
        int f = 0, done = 0;
        if (Simd.Use512 && vectors >= 2 && rows >= 8)
        {
            // 512-bit registers: a pair of vectors is one register, and the 32 registers hold tiles of 8 rows × 2 pairs
            // (sixteen sums, each load of B serving eight rows) or 8 rows × 1 pair when only one pair is left.
            int pairs = vectors / 2, even = pairs - (pairs % 2);
            for (; f + 8 <= rows; f += 8)
            {
                for (int j = 0; j < even; j += 2)
                {
                    Tile8x2Wide(ref Unsafe.Add(ref u, f * rowStride), rowStride, depthStride, ref Unsafe.Add(ref v, j * 2 * Lanes), ref Unsafe.Add(ref m, (f * stride) + (j * 2 * Lanes)), depth, stride);
                }
            }

            if (even < pairs)
            {
                // The last pair: sixteen rows at a time while they last (sixteen sums in flight), then eight.
                ref float last = ref Unsafe.Add(ref v, even * 2 * Lanes);
                int row = 0;
                for (; row + 16 <= f; row += 16)
                {
                    Tile16x1Wide(ref Unsafe.Add(ref u, row * rowStride), rowStride, depthStride, ref last, ref Unsafe.Add(ref m, (row * stride) + (even * 2 * Lanes)), depth, stride);
                }

                for (; row < f; row += 8)
                {
                    Tile8x1Wide(ref Unsafe.Add(ref u, row * rowStride), rowStride, depthStride, ref last, ref Unsafe.Add(ref m, (row * stride) + (even * 2 * Lanes)), depth, stride);
                }
            }

            done = pairs * 2;
        }
        else if (vectors % 3 == 0 || vectors % 2 != 0)
        {
            int wide = vectors - (vectors % 3);
            for (; f + 4 <= rows; f += 4)
            {
                for (int j = 0; j < wide; j += 3)
                {
                    Tile4x3(ref Unsafe.Add(ref u, f * rowStride), rowStride, depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (f * stride) + (j * Lanes)), depth, stride);
                }
            }

            done = wide;
        }
        else
        {
            for (; f + 6 <= rows; f += 6)
            {
                for (int j = 0; j < vectors; j += 2)
                {
                    Tile6x2(ref Unsafe.Add(ref u, f * rowStride), rowStride, depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (f * stride) + (j * Lanes)), depth, stride);
                }
            }

            for (; f + 4 <= rows; f += 4)
            {
                for (int j = 0; j < vectors; j += 2)
                {
                    Tile4x2(ref Unsafe.Add(ref u, f * rowStride), rowStride, depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (f * stride) + (j * Lanes)), depth, stride);
                }
            }

            done = vectors;
        }

        // What the tiles left, in strips that still keep eight or four sums in flight (one sum at a time would wait on each
        // fused multiply-add's latency): the vectors from done on for the rows before f, eight rows at a time; then the
        // rows from f on for every vector, four vectors at a time.
        for (int j = done; j < vectors; j++)
        {
            int row = 0;
            for (; row + 8 <= f; row += 8)
            {
                Column8(ref Unsafe.Add(ref u, row * rowStride), rowStride, depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (row * stride) + (j * Lanes)), depth, stride);
            }

            for (; row < f; row++)
            {
                Single(ref Unsafe.Add(ref u, row * rowStride), depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (row * stride) + (j * Lanes)), depth, stride);
            }
        }

        for (int row = f; row < rows; row++)
        {
            int j = 0;
            for (; j + 4 <= vectors; j += 4)
            {
                Row4(ref Unsafe.Add(ref u, row * rowStride), depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (row * stride) + (j * Lanes)), depth, stride);
            }

            for (; j < vectors; j++)
            {
                Single(ref Unsafe.Add(ref u, row * rowStride), depthStride, ref Unsafe.Add(ref v, j * Lanes), ref Unsafe.Add(ref m, (row * stride) + (j * Lanes)), depth, stride);
            }
        }
    }

    // One row by one vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Single(ref float u, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        var sum = Vector256<float>.Zero;
        for (int k = 0; k < depth; k++)
        {
            sum = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref u, k * depthStride)), Vector256.LoadUnsafe(ref v, (nuint)(k * stride)), sum);
        }

        sum.StoreUnsafe(ref m);
    }

    // Eight rows by one vector: each B vector loaded once for the eight.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Column8(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int k = 0; k < depth; k++)
        {
            var b = Vector256.LoadUnsafe(ref v, (nuint)(k * stride));
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            s0 = Fma.MultiplyAdd(Vector256.Create(uk), b, s0);
            s1 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, rowStride)), b, s1);
            s2 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 2 * rowStride)), b, s2);
            s3 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 3 * rowStride)), b, s3);
            s4 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 4 * rowStride)), b, s4);
            s5 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 5 * rowStride)), b, s5);
            s6 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 6 * rowStride)), b, s6);
            s7 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref uk, 7 * rowStride)), b, s7);
        }

        nuint r = (nuint)stride;
        s0.StoreUnsafe(ref m, 0); s1.StoreUnsafe(ref m, r); s2.StoreUnsafe(ref m, 2 * r); s3.StoreUnsafe(ref m, 3 * r);
        s4.StoreUnsafe(ref m, 4 * r); s5.StoreUnsafe(ref m, 5 * r); s6.StoreUnsafe(ref m, 6 * r); s7.StoreUnsafe(ref m, 7 * r);
    }

    // One row by four vectors: each A value broadcast once for the four.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row4(ref float u, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int k = 0; k < depth; k++)
        {
            nuint o = (nuint)(k * stride);
            var w = Vector256.Create(Unsafe.Add(ref u, k * depthStride));
            s0 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref v, o), s0);
            s1 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref v, o + 8), s1);
            s2 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref v, o + 16), s2);
            s3 = Fma.MultiplyAdd(w, Vector256.LoadUnsafe(ref v, o + 24), s3);
        }

        s0.StoreUnsafe(ref m, 0); s1.StoreUnsafe(ref m, 8); s2.StoreUnsafe(ref m, 16); s3.StoreUnsafe(ref m, 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile4x3(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
        Vector256<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
        for (int k = 0; k < depth; k++)
        {
            nuint o = (nuint)(k * stride);
            var v0 = Vector256.LoadUnsafe(ref v, o);
            var v1 = Vector256.LoadUnsafe(ref v, o + 8);
            var v2 = Vector256.LoadUnsafe(ref v, o + 16);
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            var w = Vector256.Create(uk);
            s00 = Fma.MultiplyAdd(w, v0, s00); s01 = Fma.MultiplyAdd(w, v1, s01); s02 = Fma.MultiplyAdd(w, v2, s02);
            w = Vector256.Create(Unsafe.Add(ref uk, rowStride));
            s10 = Fma.MultiplyAdd(w, v0, s10); s11 = Fma.MultiplyAdd(w, v1, s11); s12 = Fma.MultiplyAdd(w, v2, s12);
            w = Vector256.Create(Unsafe.Add(ref uk, 2 * rowStride));
            s20 = Fma.MultiplyAdd(w, v0, s20); s21 = Fma.MultiplyAdd(w, v1, s21); s22 = Fma.MultiplyAdd(w, v2, s22);
            w = Vector256.Create(Unsafe.Add(ref uk, 3 * rowStride));
            s30 = Fma.MultiplyAdd(w, v0, s30); s31 = Fma.MultiplyAdd(w, v1, s31); s32 = Fma.MultiplyAdd(w, v2, s32);
        }

        nuint r = (nuint)stride;
        s00.StoreUnsafe(ref m, 0); s01.StoreUnsafe(ref m, 8); s02.StoreUnsafe(ref m, 16);
        s10.StoreUnsafe(ref m, r); s11.StoreUnsafe(ref m, r + 8); s12.StoreUnsafe(ref m, r + 16);
        s20.StoreUnsafe(ref m, 2 * r); s21.StoreUnsafe(ref m, (2 * r) + 8); s22.StoreUnsafe(ref m, (2 * r) + 16);
        s30.StoreUnsafe(ref m, 3 * r); s31.StoreUnsafe(ref m, (3 * r) + 8); s32.StoreUnsafe(ref m, (3 * r) + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile4x2(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        for (int k = 0; k < depth; k++)
        {
            nuint o = (nuint)(k * stride);
            var v0 = Vector256.LoadUnsafe(ref v, o);
            var v1 = Vector256.LoadUnsafe(ref v, o + 8);
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            var w = Vector256.Create(uk);
            s00 = Fma.MultiplyAdd(w, v0, s00); s01 = Fma.MultiplyAdd(w, v1, s01);
            w = Vector256.Create(Unsafe.Add(ref uk, rowStride));
            s10 = Fma.MultiplyAdd(w, v0, s10); s11 = Fma.MultiplyAdd(w, v1, s11);
            w = Vector256.Create(Unsafe.Add(ref uk, 2 * rowStride));
            s20 = Fma.MultiplyAdd(w, v0, s20); s21 = Fma.MultiplyAdd(w, v1, s21);
            w = Vector256.Create(Unsafe.Add(ref uk, 3 * rowStride));
            s30 = Fma.MultiplyAdd(w, v0, s30); s31 = Fma.MultiplyAdd(w, v1, s31);
        }

        nuint r = (nuint)stride;
        s00.StoreUnsafe(ref m, 0); s01.StoreUnsafe(ref m, 8);
        s10.StoreUnsafe(ref m, r); s11.StoreUnsafe(ref m, r + 8);
        s20.StoreUnsafe(ref m, 2 * r); s21.StoreUnsafe(ref m, (2 * r) + 8);
        s30.StoreUnsafe(ref m, 3 * r); s31.StoreUnsafe(ref m, (3 * r) + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile6x2(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default;
        Vector256<float> s30 = default, s31 = default, s40 = default, s41 = default, s50 = default, s51 = default;
        for (int k = 0; k < depth; k++)
        {
            nuint o = (nuint)(k * stride);
            var v0 = Vector256.LoadUnsafe(ref v, o);
            var v1 = Vector256.LoadUnsafe(ref v, o + 8);
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            var w = Vector256.Create(uk);
            s00 = Fma.MultiplyAdd(w, v0, s00); s01 = Fma.MultiplyAdd(w, v1, s01);
            w = Vector256.Create(Unsafe.Add(ref uk, rowStride));
            s10 = Fma.MultiplyAdd(w, v0, s10); s11 = Fma.MultiplyAdd(w, v1, s11);
            w = Vector256.Create(Unsafe.Add(ref uk, 2 * rowStride));
            s20 = Fma.MultiplyAdd(w, v0, s20); s21 = Fma.MultiplyAdd(w, v1, s21);
            w = Vector256.Create(Unsafe.Add(ref uk, 3 * rowStride));
            s30 = Fma.MultiplyAdd(w, v0, s30); s31 = Fma.MultiplyAdd(w, v1, s31);
            w = Vector256.Create(Unsafe.Add(ref uk, 4 * rowStride));
            s40 = Fma.MultiplyAdd(w, v0, s40); s41 = Fma.MultiplyAdd(w, v1, s41);
            w = Vector256.Create(Unsafe.Add(ref uk, 5 * rowStride));
            s50 = Fma.MultiplyAdd(w, v0, s50); s51 = Fma.MultiplyAdd(w, v1, s51);
        }

        nuint r = (nuint)stride;
        s00.StoreUnsafe(ref m, 0); s01.StoreUnsafe(ref m, 8);
        s10.StoreUnsafe(ref m, r); s11.StoreUnsafe(ref m, r + 8);
        s20.StoreUnsafe(ref m, 2 * r); s21.StoreUnsafe(ref m, (2 * r) + 8);
        s30.StoreUnsafe(ref m, 3 * r); s31.StoreUnsafe(ref m, (3 * r) + 8);
        s40.StoreUnsafe(ref m, 4 * r); s41.StoreUnsafe(ref m, (4 * r) + 8);
        s50.StoreUnsafe(ref m, 5 * r); s51.StoreUnsafe(ref m, (5 * r) + 8);
    }

    // Eight rows by two 512-bit registers (four vectors): each A value broadcast once for two registers, each B register
    // loaded once for eight rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile8x2Wide(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        Vector512<float> s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        for (int k = 0; k < depth; k++)
        {
            nuint o = (nuint)(k * stride);
            var v0 = Vector512.LoadUnsafe(ref v, o);
            var v1 = Vector512.LoadUnsafe(ref v, o + 16);
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            var w = Vector512.Create(uk);
            s00 = Avx512F.FusedMultiplyAdd(w, v0, s00); s01 = Avx512F.FusedMultiplyAdd(w, v1, s01);
            w = Vector512.Create(Unsafe.Add(ref uk, rowStride));
            s10 = Avx512F.FusedMultiplyAdd(w, v0, s10); s11 = Avx512F.FusedMultiplyAdd(w, v1, s11);
            w = Vector512.Create(Unsafe.Add(ref uk, 2 * rowStride));
            s20 = Avx512F.FusedMultiplyAdd(w, v0, s20); s21 = Avx512F.FusedMultiplyAdd(w, v1, s21);
            w = Vector512.Create(Unsafe.Add(ref uk, 3 * rowStride));
            s30 = Avx512F.FusedMultiplyAdd(w, v0, s30); s31 = Avx512F.FusedMultiplyAdd(w, v1, s31);
            w = Vector512.Create(Unsafe.Add(ref uk, 4 * rowStride));
            s40 = Avx512F.FusedMultiplyAdd(w, v0, s40); s41 = Avx512F.FusedMultiplyAdd(w, v1, s41);
            w = Vector512.Create(Unsafe.Add(ref uk, 5 * rowStride));
            s50 = Avx512F.FusedMultiplyAdd(w, v0, s50); s51 = Avx512F.FusedMultiplyAdd(w, v1, s51);
            w = Vector512.Create(Unsafe.Add(ref uk, 6 * rowStride));
            s60 = Avx512F.FusedMultiplyAdd(w, v0, s60); s61 = Avx512F.FusedMultiplyAdd(w, v1, s61);
            w = Vector512.Create(Unsafe.Add(ref uk, 7 * rowStride));
            s70 = Avx512F.FusedMultiplyAdd(w, v0, s70); s71 = Avx512F.FusedMultiplyAdd(w, v1, s71);
        }

        nuint r = (nuint)stride;
        s00.StoreUnsafe(ref m, 0); s01.StoreUnsafe(ref m, 16);
        s10.StoreUnsafe(ref m, r); s11.StoreUnsafe(ref m, r + 16);
        s20.StoreUnsafe(ref m, 2 * r); s21.StoreUnsafe(ref m, (2 * r) + 16);
        s30.StoreUnsafe(ref m, 3 * r); s31.StoreUnsafe(ref m, (3 * r) + 16);
        s40.StoreUnsafe(ref m, 4 * r); s41.StoreUnsafe(ref m, (4 * r) + 16);
        s50.StoreUnsafe(ref m, 5 * r); s51.StoreUnsafe(ref m, (5 * r) + 16);
        s60.StoreUnsafe(ref m, 6 * r); s61.StoreUnsafe(ref m, (6 * r) + 16);
        s70.StoreUnsafe(ref m, 7 * r); s71.StoreUnsafe(ref m, (7 * r) + 16);
    }

    // Eight rows by one 512-bit register (two vectors).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile8x1Wide(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int k = 0; k < depth; k++)
        {
            var b = Vector512.LoadUnsafe(ref v, (nuint)(k * stride));
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            s0 = Avx512F.FusedMultiplyAdd(Vector512.Create(uk), b, s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, rowStride)), b, s1);
            s2 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 2 * rowStride)), b, s2);
            s3 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 3 * rowStride)), b, s3);
            s4 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 4 * rowStride)), b, s4);
            s5 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 5 * rowStride)), b, s5);
            s6 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 6 * rowStride)), b, s6);
            s7 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 7 * rowStride)), b, s7);
        }

        nuint r = (nuint)stride;
        s0.StoreUnsafe(ref m, 0); s1.StoreUnsafe(ref m, r); s2.StoreUnsafe(ref m, 2 * r); s3.StoreUnsafe(ref m, 3 * r);
        s4.StoreUnsafe(ref m, 4 * r); s5.StoreUnsafe(ref m, 5 * r); s6.StoreUnsafe(ref m, 6 * r); s7.StoreUnsafe(ref m, 7 * r);
    }

    // Sixteen rows by one 512-bit register (two vectors).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Tile16x1Wide(ref float u, int rowStride, int depthStride, ref float v, ref float m, int depth, int stride)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector512<float> s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (int k = 0; k < depth; k++)
        {
            var b = Vector512.LoadUnsafe(ref v, (nuint)(k * stride));
            ref float uk = ref Unsafe.Add(ref u, k * depthStride);
            s0 = Avx512F.FusedMultiplyAdd(Vector512.Create(uk), b, s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, rowStride)), b, s1);
            s2 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 2 * rowStride)), b, s2);
            s3 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 3 * rowStride)), b, s3);
            s4 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 4 * rowStride)), b, s4);
            s5 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 5 * rowStride)), b, s5);
            s6 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 6 * rowStride)), b, s6);
            s7 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk, 7 * rowStride)), b, s7);
            ref float uk8 = ref Unsafe.Add(ref uk, 8 * rowStride);
            s8 = Avx512F.FusedMultiplyAdd(Vector512.Create(uk8), b, s8);
            s9 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, rowStride)), b, s9);
            s10 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 2 * rowStride)), b, s10);
            s11 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 3 * rowStride)), b, s11);
            s12 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 4 * rowStride)), b, s12);
            s13 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 5 * rowStride)), b, s13);
            s14 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 6 * rowStride)), b, s14);
            s15 = Avx512F.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref uk8, 7 * rowStride)), b, s15);
        }

        nuint r = (nuint)stride;
        s0.StoreUnsafe(ref m, 0); s1.StoreUnsafe(ref m, r); s2.StoreUnsafe(ref m, 2 * r); s3.StoreUnsafe(ref m, 3 * r);
        s4.StoreUnsafe(ref m, 4 * r); s5.StoreUnsafe(ref m, 5 * r); s6.StoreUnsafe(ref m, 6 * r); s7.StoreUnsafe(ref m, 7 * r);
        ref float m8 = ref Unsafe.Add(ref m, 8 * r);
        s8.StoreUnsafe(ref m8, 0); s9.StoreUnsafe(ref m8, r); s10.StoreUnsafe(ref m8, 2 * r); s11.StoreUnsafe(ref m8, 3 * r);
        s12.StoreUnsafe(ref m8, 4 * r); s13.StoreUnsafe(ref m8, 5 * r); s14.StoreUnsafe(ref m8, 6 * r); s15.StoreUnsafe(ref m8, 7 * r);
    }
}

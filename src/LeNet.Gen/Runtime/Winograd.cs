using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

/// <summary>
/// The forward pass of a 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2015),
/// for layers with enough channels that the direct kernels are bound by multiply-adds. Not meant to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// The output is cut into 2×2 tiles. Each tile needs a 4×4 patch d of the (padded) input, and
/// <c>Y = Aᵀ [ Σ_c (G g G ᵀ) ⊙ (Bᵀ d B) ] A</c>: 16 products per tile and channel pair instead of 36, so 2.25 times fewer
/// multiply-adds, at the price of three transforms made only of additions (and halvings for the weights). The 16 sums
/// over channels are 16 independent matrix products, <c>M[ξ] = U[ξ] · V[ξ]</c> with U[ξ] filters × channels and V[ξ]
/// channels × tiles, which run at the speed of the machine's fused multiply-adds.
/// </para>
/// <para>
/// The matrices, for out[f, y, x] = Σ c,i,j w[f, c, i, j] · in[c, y + i, x + j] (PyTorch's convolution):
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// The sums are the same as the direct convolution's, in another order and through values up to about 4 times larger,
/// so results differ from it by a few units in the last place of the largest terms (the tests bound it).
/// </para>
/// <para>
/// Buffers: the transformed weights (<see cref="WeightsLength"/>, made by <see cref="TransformWeights"/> once for as many
/// images as share them) and a scratch buffer (<see cref="ScratchLength"/>) for the padded input, the transformed tiles
/// and the products. The transforms run on 256-bit vectors with FMA (<see cref="Simd.Use256"/>; callers check that
/// first), the products on 512-bit ones where the processor has them (<see cref="MatrixProduct"/>).
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Winograd
{
    private const int Lanes = 8;

    // Floats added after each of the 16 blocks (one per ξ) of the transformed weights, tiles and products. The transforms
    // touch all 16 blocks at once, and blocks a multiple of 4 KB apart would all fall in one set of the L1 cache and
    // evict each other; 64 bytes more per block spreads them over 16 sets.
    private const int Skew = 16;

    /// <summary>Floats in the transformed weights of a layer: 16 × filters × channels.</summary>
    public static int WeightsLength(int filters, int channels) => 16 * ((filters * channels) + Skew);

    /// <summary>Floats of scratch <see cref="Forward"/> needs for one image.</summary>
    public static int ScratchLength(int channels, int filters, int height, int width, int padding) => GroupScratchLength(channels, filters, height, width, padding, 1);

    /// <summary>
    /// Floats of scratch a group of <paramref name="images"/> images needs (<see cref="GroupInput"/>, <see cref="GroupProducts"/>,
    /// <see cref="GroupOutput"/>): one padded input plane, and the transformed tiles and the products of every image.
    /// </summary>
    public static int GroupScratchLength(int channels, int filters, int height, int width, int padding, int images) =>
        ScratchFloats(new Geometry(height, width, padding), channels, filters, images);

    private static int ScratchFloats(in Geometry g, int channels, int filters, int images)
    {
        long columns = (long)g.TileStride * images;
        long length = ((long)channels * g.PaddedHeight * g.PaddedWidth) + (16 * ((channels * columns) + Skew)) + (16 * ((filters * columns) + Skew));
        if (images < 1 || channels < 1 || filters < 1 || length > int.MaxValue)
        {
            throw new ArgumentException($"Winograd: {images} images of {channels} channels ({g.Height}×{g.Width}, padding {g.Padding}) to {filters} filters is not a group these kernels run.");
        }

        return (int)length;
    }

    /// <summary>
    /// U[ξ, f, c] = (G · w[f, c] · Gᵀ)[ξ] for every filter f and channel c, ξ = 4·row + column of the 4×4 result;
    /// <paramref name="weight"/> is PyTorch's filters × channels × 3 × 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformWeights(ReadOnlySpan<float> weight, int filters, int channels, Span<float> transformed)
    {
        int pairs = filters * channels, block = pairs + Skew;
        if (weight.Length < pairs * 9 || transformed.Length < WeightsLength(filters, channels))
        {
            throw new ArgumentException($"Winograd weights: {weight.Length} weights and {transformed.Length} transformed values for {filters} filters × {channels} channels.");
        }

        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float u = ref MemoryMarshal.GetReference(transformed);
        int p = 0;
        if (Avx2.IsSupported)
        {
            // Eight consecutive pairs at a time: taps 0…7 of each pair are one load, and an 8×8 transpose turns the eight
            // loads into one vector per tap; tap 8 is gathered at a stride of 9. The 16 results of the eight pairs are 16
            // vectors, one per ξ block.
            var taps = Vector256.Create(0, 9, 18, 27, 36, 45, 54, 63);
            var half = Vector256.Create(0.5f);
            for (; p + Lanes <= pairs; p += Lanes)
            {
                ref float g = ref Unsafe.Add(ref w, p * 9);
                Simd.Transpose8x8(
                    Vector256.LoadUnsafe(ref g, 0), Vector256.LoadUnsafe(ref g, 9), Vector256.LoadUnsafe(ref g, 18), Vector256.LoadUnsafe(ref g, 27),
                    Vector256.LoadUnsafe(ref g, 36), Vector256.LoadUnsafe(ref g, 45), Vector256.LoadUnsafe(ref g, 54), Vector256.LoadUnsafe(ref g, 63),
                    out var g00, out var g01, out var g02, out var g10, out var g11, out var g12, out var g20, out var g21);
                var g22 = Gather(ref g, taps, 8);

                // t = G · g, row by row (4×3).
                var t10 = half * (g00 + g10 + g20); var t11 = half * (g01 + g11 + g21); var t12 = half * (g02 + g12 + g22);
                var t20 = half * (g00 - g10 + g20); var t21 = half * (g01 - g11 + g21); var t22 = half * (g02 - g12 + g22);

                // U = t · Gᵀ, each row of t giving four values.
                StoreWeightRow(ref u, (nuint)p, 0, block, g00, g01, g02, half);
                StoreWeightRow(ref u, (nuint)p, 4, block, t10, t11, t12, half);
                StoreWeightRow(ref u, (nuint)p, 8, block, t20, t21, t22, half);
                StoreWeightRow(ref u, (nuint)p, 12, block, g20, g21, g22, half);
            }
        }

        Span<float> t = stackalloc float[12];
        for (; p < pairs; p++)
        {
            ref float g = ref Unsafe.Add(ref w, p * 9);

            // t = G · g (4×3), then U = t · Gᵀ (4×4).
            for (int j = 0; j < 3; j++)
            {
                float g0 = Unsafe.Add(ref g, j), g1 = Unsafe.Add(ref g, 3 + j), g2 = Unsafe.Add(ref g, 6 + j);
                t[j] = g0;
                t[3 + j] = 0.5f * (g0 + g1 + g2);
                t[6 + j] = 0.5f * (g0 - g1 + g2);
                t[9 + j] = g2;
            }

            for (int a = 0; a < 4; a++)
            {
                float t0 = t[3 * a], t1 = t[(3 * a) + 1], t2 = t[(3 * a) + 2];
                int xi = 4 * a;
                Unsafe.Add(ref u, ((xi + 0) * block) + p) = t0;
                Unsafe.Add(ref u, ((xi + 1) * block) + p) = 0.5f * (t0 + t1 + t2);
                Unsafe.Add(ref u, ((xi + 2) * block) + p) = 0.5f * (t0 - t1 + t2);
                Unsafe.Add(ref u, ((xi + 3) * block) + p) = t2;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Gather(ref float g, Vector256<int> taps, int tap)
    {
        fixed (float* at = &Unsafe.Add(ref g, tap))
        {
            return Avx2.GatherVector256(at, taps, 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWeightRow(ref float u, nuint p, int first, int block, Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, Vector256<float> half)
    {
        t0.StoreUnsafe(ref u, p + (nuint)(first * block));
        (half * (t0 + t1 + t2)).StoreUnsafe(ref u, p + (nuint)((first + 1) * block));
        (half * (t0 - t1 + t2)).StoreUnsafe(ref u, p + (nuint)((first + 2) * block));
        t2.StoreUnsafe(ref u, p + (nuint)((first + 3) * block));
    }

    /// <summary>
    /// out[f] = activation(bias[f] + the 3×3 convolution of the input, zero-padded by <paramref name="padding"/>, with filter
    /// f), for a <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/> input; the output is
    /// filters × (height + 2·padding − 2) × (width + 2·padding − 2). <paramref name="relu"/> applies max(0, ·). An empty
    /// <paramref name="bias"/> stands for zeros (the input gradient of a convolution has none).
    /// </summary>
    /// <remarks>The three steps of a group of one image: <see cref="GroupInput"/>, <see cref="GroupProducts"/>, <see cref="GroupOutput"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public static void Forward(
        ReadOnlySpan<float> input, int channels, int height, int width, int padding,
        ReadOnlySpan<float> transformedWeights, ReadOnlySpan<float> bias, int filters, bool relu,
        Span<float> output, Span<float> scratch)
    {
        GroupInput(input, channels, height, width, padding, filters, 0, 1, scratch);
        GroupProducts(transformedWeights, channels, height, width, padding, filters, 1, scratch);
        GroupOutput(bias, channels, height, width, padding, filters, relu, 0, 1, scratch, output);
    }

    /// <summary>
    /// The first step of <see cref="Forward"/> for image <paramref name="image"/> of a group of <paramref name="images"/>
    /// that share one scratch buffer (<see cref="GroupScratchLength"/>): its input tiles, transformed, in the image's own
    /// columns. Once every image of the group has its tiles, <see cref="GroupProducts"/> multiplies them all at once, so that
    /// each transformed weight loaded serves the tiles of every image; <see cref="GroupOutput"/> then gives each image its
    /// output. Each image's outputs are exactly those <see cref="Forward"/> gives it alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GroupInput(ReadOnlySpan<float> input, int channels, int height, int width, int padding, int filters, int image, int images, Span<float> scratch)
    {
        var g = new Geometry(height, width, padding);
        var group = new Group(g, channels, filters, image, images, input.Length, scratch.Length);
        Span<float> v = scratch.Slice(group.Padded, 16 * group.TileBlock);

        // The generated code passes inputs it has already zero-padded (padding 0): when the output's sides are even, such
        // an input is the plane the tiles read, and it is read in place instead of copied.
        ReadOnlySpan<float> plane = input;
        if (padding != 0 || g.PaddedHeight != height || g.PaddedWidth != width)
        {
            Span<float> copy = scratch.Slice(0, group.Padded);
            Pad(input, channels, height, width, padding, g, copy);
            plane = copy;
        }

        TransformInput(plane, channels, g, group.Columns, group.First, v);
    }

    /// <summary>
    /// The second step of a group's forward pass (<see cref="GroupInput"/>): for each ξ, M = U · V over the tiles of all
    /// <paramref name="images"/> images at once. Images the group was not given tiles for this time are multiplied too, from
    /// whatever their columns hold; their products are never read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    public static void GroupProducts(ReadOnlySpan<float> transformedWeights, int channels, int height, int width, int padding, int filters, int images, Span<float> scratch)
    {
        var g = new Geometry(height, width, padding);
        var group = new Group(g, channels, filters, 0, images, channels * height * width, scratch.Length);
        if (transformedWeights.Length < WeightsLength(filters, channels))
        {
            throw new ArgumentException($"Winograd products: {transformedWeights.Length} transformed weights for {filters} filters × {channels} channels, which need {WeightsLength(filters, channels)}.");
        }

        Span<float> v = scratch.Slice(group.Padded, 16 * group.TileBlock);
        Span<float> m = scratch.Slice(group.Padded + (16 * group.TileBlock), 16 * group.ProductBlock);
        for (int xi = 0; xi < 16; xi++)
        {
            // M = U · V for one ξ: U is filters × channels (row after row), V channels × tiles, M filters × tiles.
            MatrixProduct.Multiply(
                transformedWeights.Slice(xi * ((filters * channels) + Skew), filters * channels), channels, 1,
                v.Slice(xi * group.TileBlock, channels * group.Columns),
                m.Slice(xi * group.ProductBlock, filters * group.Columns),
                filters, channels, group.Columns / Lanes);
        }
    }

    /// <summary>
    /// The last step of a group's forward pass (<see cref="GroupInput"/>): image <paramref name="image"/>'s output, from its
    /// columns of the products, with the bias (an empty <paramref name="bias"/> stands for zeros) and ReLU when
    /// <paramref name="relu"/> is set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GroupOutput(ReadOnlySpan<float> bias, int channels, int height, int width, int padding, int filters, bool relu, int image, int images, ReadOnlySpan<float> scratch, Span<float> output)
    {
        var g = new Geometry(height, width, padding);
        var group = new Group(g, channels, filters, image, images, channels * height * width, scratch.Length);
        if ((!bias.IsEmpty && bias.Length < filters) || output.Length < filters * g.OutHeight * g.OutWidth)
        {
            throw new ArgumentException($"Winograd output: {bias.Length} biases and {output.Length} outputs for {filters}×{g.OutHeight}×{g.OutWidth}.");
        }

        ReadOnlySpan<float> m = scratch.Slice(group.Padded + (16 * group.TileBlock), 16 * group.ProductBlock);
        TransformOutput(m, bias, filters, relu, g, group.Columns, group.First, output);
    }

    // Copies the input into a zero-bordered plane of (2·tile rows + 2) × (2·tile columns + 2), the input at (padding, padding).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(ReadOnlySpan<float> input, int channels, int height, int width, int padding, in Geometry g, Span<float> plane)
    {
        plane.Clear();
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                input.Slice(((c * height) + y) * width, width)
                    .CopyTo(plane.Slice((((c * g.PaddedHeight) + y + padding) * g.PaddedWidth) + padding, width));
            }
        }
    }

    // V[ξ, c, t] = (Bᵀ d B)[ξ] for the 4×4 patch d of tile t = ty·tilesWide + tx, at rows 2ty…2ty+3, columns 2tx…2tx+3 of
    // the padded plane. The lanes past the last tile hold zeros, so that they stay finite from call to call.
    // V's rows are `columns` long (the tiles of every image of the group); this image's tiles start at column `firstColumn`.
    private static void TransformInput(ReadOnlySpan<float> plane, int channels, in Geometry g, int columns, int firstColumn, Span<float> v)
    {
        int across = g.TilesWide;
        if (across >= Lanes || across % 4 == 0)
        {
            TransformInputByRows(plane, channels, g, columns, firstColumn, v);
        }
        else
        {
            TransformInputGathered(plane, channels, g, columns, firstColumn, v);
        }
    }

    // A row of tiles at a time, 8 (or 4) tiles per vector: patch column j of 8 neighbouring tiles is every other value of a
    // plane row from column 2·tx + j, which two loads and a shuffle deliver. A last group of 8 that would reach past the
    // row is moved back to end at the last tile (those tiles are computed twice, to the same values).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputByRows(ReadOnlySpan<float> plane, int channels, in Geometry g, int columns, int firstColumn, Span<float> v)
    {
        int stride = g.TileStride, across = g.TilesWide, block = (channels * columns) + Skew, width = g.PaddedWidth;
        int used = g.TilesHigh * across;
        ref float p = ref MemoryMarshal.GetReference(plane);
        ref float d = ref MemoryMarshal.GetReference(v);
        for (int c = 0; c < channels; c++)
        {
            ref float channel = ref Unsafe.Add(ref p, c * g.PaddedHeight * width);
            for (int ty = 0; ty < g.TilesHigh; ty++)
            {
                ref float r0 = ref Unsafe.Add(ref channel, 2 * ty * width);
                ref float r1 = ref Unsafe.Add(ref r0, width);
                ref float r2 = ref Unsafe.Add(ref r1, width);
                ref float r3 = ref Unsafe.Add(ref r2, width);
                nuint at = (nuint)((c * columns) + firstColumn + (ty * across));
                if (across >= Lanes)
                {
                    for (int tx = 0; tx < across; tx += Lanes)
                    {
                        int first = Math.Min(tx, across - Lanes);
                        Patches256(ref r0, ref r1, ref r2, ref r3, 2 * first, ref d, at + (nuint)first, block);
                    }
                }
                else
                {
                    for (int tx = 0; tx < across; tx += 4)
                    {
                        Patches128(ref r0, ref r1, ref r2, ref r3, 2 * tx, ref d, at + (nuint)tx, block);
                    }
                }
            }

            for (int xi = 0; xi < 16; xi++)
            {
                v.Slice((xi * block) + (c * columns) + firstColumn + used, stride - used).Clear();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Patches256(ref float r0, ref float r1, ref float r2, ref float r3, int column, ref float d, nuint at, int block)
    {
        Columns256(ref r0, column, out var d00, out var d01, out var d02, out var d03);
        Columns256(ref r1, column, out var d10, out var d11, out var d12, out var d13);
        Columns256(ref r2, column, out var d20, out var d21, out var d22, out var d23);
        Columns256(ref r3, column, out var d30, out var d31, out var d32, out var d33);
        StoreColumns(ref d, at, 0, block, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
        StoreColumns(ref d, at, 4, block, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
        StoreColumns(ref d, at, 8, block, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
        StoreColumns(ref d, at, 12, block, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
    }

    // Patch columns 0…3 of 8 tiles whose first column is at row[column]: row[column + 2k + j] for k = 0…7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns256(ref float row, int column, out Vector256<float> j0, out Vector256<float> j1, out Vector256<float> j2, out Vector256<float> j3)
    {
        nuint at = (nuint)column;
        var a = Vector256.LoadUnsafe(ref row, at);
        var b = Vector256.LoadUnsafe(ref row, at + 8);
        var c = Vector256.LoadUnsafe(ref row, at + 2);
        var e = Vector256.LoadUnsafe(ref row, at + 10);
        j0 = Even(a, b);
        j1 = Odd(a, b);
        j2 = Even(c, e);
        j3 = Odd(c, e);
    }

    // a0 a2 a4 a6 b0 b2 b4 b6: the shuffle takes the even values of each 128-bit half, the permute puts the halves in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<float> a, Vector256<float> b) => Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<float> a, Vector256<float> b) => Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Patches128(ref float r0, ref float r1, ref float r2, ref float r3, int column, ref float d, nuint at, int block)
    {
        Columns128(ref r0, column, out var d00, out var d01, out var d02, out var d03);
        Columns128(ref r1, column, out var d10, out var d11, out var d12, out var d13);
        Columns128(ref r2, column, out var d20, out var d21, out var d22, out var d23);
        Columns128(ref r3, column, out var d30, out var d31, out var d32, out var d33);
        StoreColumns(ref d, at, 0, block, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
        StoreColumns(ref d, at, 4, block, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
        StoreColumns(ref d, at, 8, block, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
        StoreColumns(ref d, at, 12, block, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns128(ref float row, int column, out Vector128<float> j0, out Vector128<float> j1, out Vector128<float> j2, out Vector128<float> j3)
    {
        nuint at = (nuint)column;
        var a = Vector128.LoadUnsafe(ref row, at);
        var b = Vector128.LoadUnsafe(ref row, at + 4);
        var c = Vector128.LoadUnsafe(ref row, at + 2);
        var e = Vector128.LoadUnsafe(ref row, at + 6);
        j0 = Sse.Shuffle(a, b, 0b10_00_10_00);
        j1 = Sse.Shuffle(a, b, 0b11_01_11_01);
        j2 = Sse.Shuffle(c, e, 0b10_00_10_00);
        j3 = Sse.Shuffle(c, e, 0b11_01_11_01);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns(ref float d, nuint offset, int first, int block, Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3)
    {
        (r0 - r2).StoreUnsafe(ref d, offset + (nuint)(first * block));
        (r1 + r2).StoreUnsafe(ref d, offset + (nuint)((first + 1) * block));
        (r2 - r1).StoreUnsafe(ref d, offset + (nuint)((first + 2) * block));
        (r1 - r3).StoreUnsafe(ref d, offset + (nuint)((first + 3) * block));
    }

    // The general case: the patches are gathered one value at a time into V itself (value (i, j) of the patch at
    // ξ = 4i + j), then transformed in place eight tiles at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputGathered(ReadOnlySpan<float> plane, int channels, in Geometry g, int columns, int firstColumn, Span<float> v)
    {
        int stride = g.TileStride, across = g.TilesWide, block = (channels * columns) + Skew;
        ref float p = ref MemoryMarshal.GetReference(plane);
        ref float d = ref MemoryMarshal.GetReference(v);
        for (int c = 0; c < channels; c++)
        {
            ref float channel = ref Unsafe.Add(ref p, c * g.PaddedHeight * g.PaddedWidth);
            for (int ty = 0; ty < g.TilesHigh; ty++)
            {
                for (int i = 0; i < 4; i++)
                {
                    ref float row = ref Unsafe.Add(ref channel, ((2 * ty) + i) * g.PaddedWidth);
                    for (int j = 0; j < 4; j++)
                    {
                        ref float target = ref Unsafe.Add(ref d, (((4 * i) + j) * block) + (c * columns) + firstColumn + (ty * across));
                        for (int tx = 0; tx < across; tx++)
                        {
                            Unsafe.Add(ref target, tx) = Unsafe.Add(ref row, (2 * tx) + j);
                        }
                    }
                }
            }

            // The lanes past the last tile hold zeros, so that they stay finite from call to call.
            for (int xi = 0; xi < 16; xi++)
            {
                v.Slice((xi * block) + (c * columns) + firstColumn + (g.TilesHigh * across), stride - (g.TilesHigh * across)).Clear();
            }
        }

        for (int c = 0; c < channels; c++)
        {
            for (int t = 0; t < stride; t += Lanes)
            {
                nuint o = (nuint)((c * columns) + firstColumn + t);
                var d00 = Load(ref d, o, 0, block); var d01 = Load(ref d, o, 1, block); var d02 = Load(ref d, o, 2, block); var d03 = Load(ref d, o, 3, block);
                var d10 = Load(ref d, o, 4, block); var d11 = Load(ref d, o, 5, block); var d12 = Load(ref d, o, 6, block); var d13 = Load(ref d, o, 7, block);
                var d20 = Load(ref d, o, 8, block); var d21 = Load(ref d, o, 9, block); var d22 = Load(ref d, o, 10, block); var d23 = Load(ref d, o, 11, block);
                var d30 = Load(ref d, o, 12, block); var d31 = Load(ref d, o, 13, block); var d32 = Load(ref d, o, 14, block); var d33 = Load(ref d, o, 15, block);

                // Rows: r = Bᵀ d.
                var r00 = Avx.Subtract(d00, d20); var r01 = Avx.Subtract(d01, d21); var r02 = Avx.Subtract(d02, d22); var r03 = Avx.Subtract(d03, d23);
                var r10 = Avx.Add(d10, d20); var r11 = Avx.Add(d11, d21); var r12 = Avx.Add(d12, d22); var r13 = Avx.Add(d13, d23);
                var r20 = Avx.Subtract(d20, d10); var r21 = Avx.Subtract(d21, d11); var r22 = Avx.Subtract(d22, d12); var r23 = Avx.Subtract(d23, d13);
                var r30 = Avx.Subtract(d10, d30); var r31 = Avx.Subtract(d11, d31); var r32 = Avx.Subtract(d12, d32); var r33 = Avx.Subtract(d13, d33);

                // Columns: V = r B.
                StoreColumns(ref d, o, 0, block, r00, r01, r02, r03);
                StoreColumns(ref d, o, 4, block, r10, r11, r12, r13);
                StoreColumns(ref d, o, 8, block, r20, r21, r22, r23);
                StoreColumns(ref d, o, 12, block, r30, r31, r32, r33);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(ref float d, nuint offset, int xi, int block) => Vector256.LoadUnsafe(ref d, offset + (nuint)(xi * block));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns(ref float d, nuint offset, int first, int block, Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3)
    {
        Avx.Subtract(r0, r2).StoreUnsafe(ref d, offset + (nuint)(first * block));
        Avx.Add(r1, r2).StoreUnsafe(ref d, offset + (nuint)((first + 1) * block));
        Avx.Subtract(r2, r1).StoreUnsafe(ref d, offset + (nuint)((first + 2) * block));
        Avx.Subtract(r1, r3).StoreUnsafe(ref d, offset + (nuint)((first + 3) * block));
    }

    // out[f, 2ty + a, 2tx + b] = (Aᵀ M[·, f, t] A)[a, b] + bias[f]; with an odd output size, the rows and columns past the
    // edge are dropped.
    // M's rows are `columns` long (the tiles of every image of the group); this image's tiles start at column `firstColumn`.
    private static void TransformOutput(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, int filters, bool relu, in Geometry g, int columns, int firstColumn, Span<float> output)
    {
        int across = g.TilesWide;
        if (g.OutHeight % 2 == 0 && g.OutWidth % 2 == 0 && (across >= Lanes || across % 4 == 0))
        {
            TransformOutputByRows(products, bias, filters, relu, g, columns, firstColumn, output);
        }
        else
        {
            TransformOutputScattered(products, bias, filters, relu, g, columns, firstColumn, output);
        }
    }

    // For even output sizes: a row of tiles at a time, 8 (or 4) tiles per vector, each pair of result vectors interleaved
    // into 16 (or 8) neighbouring outputs of one output row. A last group of 8 is moved back as in TransformInputByRows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputByRows(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, int filters, bool relu, in Geometry g, int columns, int firstColumn, Span<float> output)
    {
        int block = (filters * columns) + Skew, across = g.TilesWide, width = g.OutWidth;
        ref float m = ref MemoryMarshal.GetReference(products);
        ref float o = ref MemoryMarshal.GetReference(output);
        for (int f = 0; f < filters; f++)
        {
            float b = bias.IsEmpty ? 0f : bias[f];
            ref float plane = ref Unsafe.Add(ref o, f * g.OutHeight * width);
            for (int ty = 0; ty < g.TilesHigh; ty++)
            {
                ref float top = ref Unsafe.Add(ref plane, 2 * ty * width);
                ref float bottom = ref Unsafe.Add(ref top, width);
                nuint at = (nuint)((f * columns) + firstColumn + (ty * across));
                if (across >= Lanes)
                {
                    var bias256 = Vector256.Create(b);
                    for (int tx = 0; tx < across; tx += Lanes)
                    {
                        int first = Math.Min(tx, across - Lanes);
                        nuint t = at + (nuint)first;
                        var m00 = Load(ref m, t, 0, block); var m01 = Load(ref m, t, 1, block); var m02 = Load(ref m, t, 2, block); var m03 = Load(ref m, t, 3, block);
                        var m10 = Load(ref m, t, 4, block); var m11 = Load(ref m, t, 5, block); var m12 = Load(ref m, t, 6, block); var m13 = Load(ref m, t, 7, block);
                        var m20 = Load(ref m, t, 8, block); var m21 = Load(ref m, t, 9, block); var m22 = Load(ref m, t, 10, block); var m23 = Load(ref m, t, 11, block);
                        var m30 = Load(ref m, t, 12, block); var m31 = Load(ref m, t, 13, block); var m32 = Load(ref m, t, 14, block); var m33 = Load(ref m, t, 15, block);
                        var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
                        var d0 = m10 - m20 - m30; var d1 = m11 - m21 - m31; var d2 = m12 - m22 - m32; var d3 = m13 - m23 - m33;
                        var y00 = s0 + s1 + s2 + bias256; var y01 = s1 - s2 - s3 + bias256;
                        var y10 = d0 + d1 + d2 + bias256; var y11 = d1 - d2 - d3 + bias256;
                        if (relu)
                        {
                            y00 = Simd.Relu(y00); y01 = Simd.Relu(y01); y10 = Simd.Relu(y10); y11 = Simd.Relu(y11);
                        }

                        StoreInterleaved(ref top, 2 * first, y00, y01);
                        StoreInterleaved(ref bottom, 2 * first, y10, y11);
                    }
                }
                else
                {
                    var bias128 = Vector128.Create(b);
                    for (int tx = 0; tx < across; tx += 4)
                    {
                        nuint t = at + (nuint)tx;
                        var m00 = Load128(ref m, t, 0, block); var m01 = Load128(ref m, t, 1, block); var m02 = Load128(ref m, t, 2, block); var m03 = Load128(ref m, t, 3, block);
                        var m10 = Load128(ref m, t, 4, block); var m11 = Load128(ref m, t, 5, block); var m12 = Load128(ref m, t, 6, block); var m13 = Load128(ref m, t, 7, block);
                        var m20 = Load128(ref m, t, 8, block); var m21 = Load128(ref m, t, 9, block); var m22 = Load128(ref m, t, 10, block); var m23 = Load128(ref m, t, 11, block);
                        var m30 = Load128(ref m, t, 12, block); var m31 = Load128(ref m, t, 13, block); var m32 = Load128(ref m, t, 14, block); var m33 = Load128(ref m, t, 15, block);
                        var s0 = m00 + m10 + m20; var s1 = m01 + m11 + m21; var s2 = m02 + m12 + m22; var s3 = m03 + m13 + m23;
                        var d0 = m10 - m20 - m30; var d1 = m11 - m21 - m31; var d2 = m12 - m22 - m32; var d3 = m13 - m23 - m33;
                        var y00 = s0 + s1 + s2 + bias128; var y01 = s1 - s2 - s3 + bias128;
                        var y10 = d0 + d1 + d2 + bias128; var y11 = d1 - d2 - d3 + bias128;
                        if (relu)
                        {
                            y00 = Sse.Max(Vector128<float>.Zero, y00); y01 = Sse.Max(Vector128<float>.Zero, y01);
                            y10 = Sse.Max(Vector128<float>.Zero, y10); y11 = Sse.Max(Vector128<float>.Zero, y11);
                        }

                        nuint column = (nuint)(2 * tx);
                        Sse.UnpackLow(y00, y01).StoreUnsafe(ref top, column);
                        Sse.UnpackHigh(y00, y01).StoreUnsafe(ref top, column + 4);
                        Sse.UnpackLow(y10, y11).StoreUnsafe(ref bottom, column);
                        Sse.UnpackHigh(y10, y11).StoreUnsafe(ref bottom, column + 4);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Load128(ref float d, nuint offset, int xi, int block) => Vector128.LoadUnsafe(ref d, offset + (nuint)(xi * block));

    // row[column …] = a0 b0 a1 b1 … a7 b7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(ref float row, int column, Vector256<float> a, Vector256<float> b)
    {
        var low = Avx.UnpackLow(a, b);   // a0 b0 a1 b1 | a4 b4 a5 b5
        var high = Avx.UnpackHigh(a, b); // a2 b2 a3 b3 | a6 b6 a7 b7
        Avx.Permute2x128(low, high, 0x20).StoreUnsafe(ref row, (nuint)column);
        Avx.Permute2x128(low, high, 0x31).StoreUnsafe(ref row, (nuint)column + 8);
    }

    // Any output size: the transform eight tiles at a time, each result written to its place one value at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputScattered(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, int filters, bool relu, in Geometry g, int columns, int firstColumn, Span<float> output)
    {
        int block = (filters * columns) + Skew, across = g.TilesWide, tiles = g.TilesHigh * g.TilesWide;
        int outHeight = g.OutHeight, outWidth = g.OutWidth;
        ref float m = ref MemoryMarshal.GetReference(products);
        ref float o = ref MemoryMarshal.GetReference(output);
        Span<float> lanes = stackalloc float[4 * Lanes];
        ref float y = ref MemoryMarshal.GetReference(lanes);
        for (int f = 0; f < filters; f++)
        {
            var b = Vector256.Create(bias.IsEmpty ? 0f : bias[f]);
            ref float plane = ref Unsafe.Add(ref o, f * outHeight * outWidth);
            for (int t = 0; t < tiles; t += Lanes)
            {
                nuint at = (nuint)((f * columns) + firstColumn + t);
                var m00 = Load(ref m, at, 0, block); var m01 = Load(ref m, at, 1, block); var m02 = Load(ref m, at, 2, block); var m03 = Load(ref m, at, 3, block);
                var m10 = Load(ref m, at, 4, block); var m11 = Load(ref m, at, 5, block); var m12 = Load(ref m, at, 6, block); var m13 = Load(ref m, at, 7, block);
                var m20 = Load(ref m, at, 8, block); var m21 = Load(ref m, at, 9, block); var m22 = Load(ref m, at, 10, block); var m23 = Load(ref m, at, 11, block);
                var m30 = Load(ref m, at, 12, block); var m31 = Load(ref m, at, 13, block); var m32 = Load(ref m, at, 14, block); var m33 = Load(ref m, at, 15, block);

                // Rows: s = first row of Aᵀ M, d = second.
                var s0 = Avx.Add(Avx.Add(m00, m10), m20); var s1 = Avx.Add(Avx.Add(m01, m11), m21);
                var s2 = Avx.Add(Avx.Add(m02, m12), m22); var s3 = Avx.Add(Avx.Add(m03, m13), m23);
                var d0 = Avx.Subtract(Avx.Subtract(m10, m20), m30); var d1 = Avx.Subtract(Avx.Subtract(m11, m21), m31);
                var d2 = Avx.Subtract(Avx.Subtract(m12, m22), m32); var d3 = Avx.Subtract(Avx.Subtract(m13, m23), m33);

                var y00 = Avx.Add(Avx.Add(Avx.Add(s0, s1), s2), b);
                var y01 = Avx.Add(Avx.Subtract(Avx.Subtract(s1, s2), s3), b);
                var y10 = Avx.Add(Avx.Add(Avx.Add(d0, d1), d2), b);
                var y11 = Avx.Add(Avx.Subtract(Avx.Subtract(d1, d2), d3), b);
                if (relu)
                {
                    y00 = Simd.Relu(y00); y01 = Simd.Relu(y01); y10 = Simd.Relu(y10); y11 = Simd.Relu(y11);
                }

                y00.StoreUnsafe(ref y, 0); y01.StoreUnsafe(ref y, 8); y10.StoreUnsafe(ref y, 16); y11.StoreUnsafe(ref y, 24);
                int count = Math.Min(Lanes, tiles - t);
                for (int lane = 0; lane < count; lane++)
                {
                    int tile = t + lane, ty = tile / across, tx = tile - (ty * across);
                    int row = 2 * ty, column = 2 * tx;
                    ref float top = ref Unsafe.Add(ref plane, (row * outWidth) + column);
                    top = Unsafe.Add(ref y, lane);
                    bool right = column + 1 < outWidth;
                    if (right)
                    {
                        Unsafe.Add(ref top, 1) = Unsafe.Add(ref y, 8 + lane);
                    }

                    if (row + 1 < outHeight)
                    {
                        ref float bottom = ref Unsafe.Add(ref top, outWidth);
                        bottom = Unsafe.Add(ref y, 16 + lane);
                        if (right)
                        {
                            Unsafe.Add(ref bottom, 1) = Unsafe.Add(ref y, 24 + lane);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Where a group's buffers lie in its scratch (<see cref="GroupScratchLength"/>): the padded plane, then the 16 blocks of
    /// transformed tiles (channels × <see cref="Columns"/> each), then the 16 blocks of products (filters × columns). Checks
    /// the image numbers and the lengths.
    /// </summary>
    private readonly struct Group
    {
        public Group(in Geometry g, int channels, int filters, int image, int images, int inputLength, int scratchLength)
        {
            if (channels < 1 || filters < 1 || images < 1 || image < 0 || image >= images)
            {
                throw new ArgumentException($"Winograd: image {image} of a group of {images}, {channels} channels to {filters} filters, is not a group these kernels run.");
            }

            Columns = g.TileStride * images;
            First = g.TileStride * image;
            Padded = channels * g.PaddedHeight * g.PaddedWidth;
            TileBlock = (channels * Columns) + Skew;
            ProductBlock = (filters * Columns) + Skew;
            int input = channels * g.Height * g.Width, needed = ScratchFloats(g, channels, filters, images);
            if (inputLength < input || scratchLength < needed)
            {
                throw new ArgumentException($"Winograd: {inputLength} input values and {scratchLength} of scratch for a group of {images} images of {channels}×{g.Height}×{g.Width} → {filters}×{g.OutHeight}×{g.OutWidth}, which need {input} and {needed}.");
            }
        }

        /// <summary>The length of a row of V and M: every image's tiles, rounded up to whole vectors each.</summary>
        public int Columns { get; }

        /// <summary>This image's first column.</summary>
        public int First { get; }

        /// <summary>Floats of the padded plane at the start of the scratch.</summary>
        public int Padded { get; }

        /// <summary>Floats from one ξ's block of V to the next.</summary>
        public int TileBlock { get; }

        /// <summary>Floats from one ξ's block of M to the next.</summary>
        public int ProductBlock { get; }
    }

    /// <summary>The sizes of one layer's tiling.</summary>
    private readonly struct Geometry
    {
        public Geometry(int height, int width, int padding)
        {
            Height = height;
            Width = width;
            Padding = padding;
            OutHeight = height + (2 * padding) - 2;
            OutWidth = width + (2 * padding) - 2;
            if (OutHeight < 1 || OutWidth < 1)
            {
                throw new ArgumentException($"Winograd: a 3×3 window does not fit a {height}×{width} input with padding {padding}.");
            }

            TilesHigh = (OutHeight + 1) / 2;
            TilesWide = (OutWidth + 1) / 2;
            TileStride = ((TilesHigh * TilesWide) + Lanes - 1) / Lanes * Lanes;
            PaddedHeight = (2 * TilesHigh) + 2;
            PaddedWidth = (2 * TilesWide) + 2;
        }

        public int Height { get; }

        public int Width { get; }

        public int Padding { get; }

        public int OutHeight { get; }

        public int OutWidth { get; }

        public int TilesHigh { get; }

        public int TilesWide { get; }

        /// <summary>Tiles rounded up to whole vectors: the row length of V and M.</summary>
        public int TileStride { get; }

        public int PaddedHeight { get; }

        public int PaddedWidth { get; }
    }
}

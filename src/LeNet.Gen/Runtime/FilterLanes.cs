using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// A convolution of one image with the filters across the lanes of a vector (the blocked layout of oneDNN and NN-512):
/// each vector holds one output position of <see cref="Lanes"/> consecutive filters, an input value is broadcast to all
/// of them, and the weights are read as vectors of filters. No lane waits on a padding column or a zero tap, whatever the
/// stride, padding or plane size, which is where the wide-row kernels lose: small planes (where the columns between rows
/// are a large share), and strides above 1 (whose phase planes add zero taps). A generated network whose cost model chose
/// this family for a layer calls <see cref="PackWeights"/> when the weights changed (<see cref="PreparedWeights"/>) and then <see cref="Convolve"/>.
/// </summary>
/// <remarks>
/// <para>
/// The register tile is six output positions, counted over the whole output plane (a tile may span two rows), by two
/// blocks of filters: twelve accumulators, two weight vectors and one broadcast input, fifteen registers with AVX2. The
/// biases are read when a tile is stored, not held across its loop: with AVX-512's 32 registers the JIT otherwise keeps
/// them in two of the first sixteen and broadcasts into ymm16, whose EVEX encoding made the loop 15% slower on Zen 4
/// (LeNet-5's conv2 on 8 lanes, 5.3 against 4.6 µs). With
/// AVX-512's 32 registers, filters by 64 run in tiles of four blocks of 16 first (24 accumulators), so that each broadcast
/// input serves four multiply-adds instead of two: strided's 32 → 64, stride-2 layer took 12.5 µs an image against 14.5
/// (88% of the FMA peak against 76%) on an AMD EPYC (Zen 5). A tile at the end of the plane repeats its last position
/// instead of running short; it stores the same values twice. The filters left over run in a tile of two blocks, then one.
/// </para>
/// <para>
/// Each output adds its taps (channel, row, column) by fused multiply-adds from zero, then the bias, so it does not
/// depend on the instruction set. The kernels write the outputs position by position into a scratch buffer, which one
/// transpose turns into the usual filters × rows × columns order.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FilterLanes
{
    private const int Positions = 6;

    /// <summary>
    /// Filters per vector: 16 with AVX-512 when they make at least two blocks of 16 (32, 48, 64, …), else 8; 0 without
    /// AVX2 and FMA. A single block of 16 runs as two blocks of 8, so that each broadcast input still serves two
    /// multiply-adds: LeNet-5's conv2 (6 → 16, 5×5, 10×10) took 4.6 µs that way, against 6.2 µs as one block of 16, on an AMD EPYC (Zen 4).
    /// </summary>
    /// <param name="filters">The layer's output channels.</param>
    public static int Lanes(int filters) => Simd.Use512 && filters % 16 == 0 && filters >= 32 ? 16 : Simd.Use256 ? 8 : 0;

    /// <summary>
    /// True when the kernels can run a layer with <paramref name="filters"/> output channels on this machine: AVX2 and FMA
    /// (or AVX-512), and a multiple of 8 filters.
    /// </summary>
    public static bool Supports(int filters) => Simd.Use256 && filters > 0 && filters % 8 == 0;

    /// <summary>
    /// Rearranges a layer's weights (filters × taps, as PyTorch stores them, with taps = channels · kernel²) into taps ×
    /// filters, the order <see cref="Convolve"/> reads: the filters of one tap side by side.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> weight, int filters, int taps, Span<float> packed)
    {
        if (filters <= 0 || taps <= 0 || weight.Length < (long)filters * taps || packed.Length < (long)filters * taps)
        {
            throw new ArgumentException($"FilterLanes.PackWeights({filters} filters, {taps} taps): the weights have {weight.Length} values and the target {packed.Length}; each needs {(long)filters * taps}.");
        }

        Simd.Transpose(weight, filters, taps, packed);
    }

    /// <summary>
    /// The convolution <c>out[f, y, x] = bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, s·y + i, s·x + j]</c> of one image
    /// (already padded: every window lies inside <paramref name="input"/>), then ReLU when <paramref name="relu"/> is set.
    /// </summary>
    /// <param name="input">channels × height × width values.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Rows of an input plane.</param>
    /// <param name="width">Columns of an input plane.</param>
    /// <param name="packed">The weights as <see cref="PackWeights"/> leaves them: taps × filters.</param>
    /// <param name="bias">filters values.</param>
    /// <param name="filters">Output channels, a multiple of 8 (<see cref="Supports"/>).</param>
    /// <param name="kernel">The window's side.</param>
    /// <param name="stride">The window's step.</param>
    /// <param name="outHeight">Rows of an output plane.</param>
    /// <param name="outWidth">Columns of an output plane.</param>
    /// <param name="relu">True to store max(0, value).</param>
    /// <param name="scratch">outHeight · outWidth · filters values: the outputs position by position.</param>
    /// <param name="output">Receives filters × outHeight × outWidth values.</param>
    public static void Convolve(
        ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias,
        int filters, int kernel, int stride, int outHeight, int outWidth, bool relu, Span<float> scratch, Span<float> output)
    {
        long plane = (long)outHeight * outWidth, taps = (long)channels * kernel * kernel;
        if (!Supports(filters) || channels <= 0 || kernel <= 0 || stride <= 0 || outHeight <= 0 || outWidth <= 0
            || ((outHeight - 1) * (long)stride) + kernel > height || ((outWidth - 1) * (long)stride) + kernel > width)
        {
            throw new ArgumentException($"FilterLanes.Convolve: {filters} filters of {channels}×{kernel}×{kernel} at stride {stride} from {height}×{width} to {outHeight}×{outWidth} is not a shape these kernels run (the filters must be a multiple of 8 and every window inside the input, on a machine with AVX2 and FMA).");
        }

        if (input.Length < (long)channels * height * width || packed.Length < taps * filters || bias.Length < filters
            || scratch.Length < plane * filters || output.Length < plane * filters)
        {
            throw new ArgumentException($"FilterLanes.Convolve: a span is shorter than {filters} filters of {channels}×{kernel}×{kernel} from {height}×{width} to {outHeight}×{outWidth} require.");
        }

        var shape = new Shape(channels, height, width, filters, kernel, stride, outHeight, outWidth);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float s = ref MemoryMarshal.GetReference(scratch);
        if (Lanes(filters) == 16)
        {
            if (relu)
            {
                Convolve<Lanes512, Vector512<float>, Rectified>(ref x, ref w, ref b, shape, ref s);
            }
            else
            {
                Convolve<Lanes512, Vector512<float>, Identity>(ref x, ref w, ref b, shape, ref s);
            }
        }
        else if (relu)
        {
            Convolve<Lanes256, Vector256<float>, Rectified>(ref x, ref w, ref b, shape, ref s);
        }
        else
        {
            Convolve<Lanes256, Vector256<float>, Identity>(ref x, ref w, ref b, shape, ref s);
        }

        Simd.Transpose(scratch, (int)plane, filters, output);
    }

    private readonly record struct Shape(int Channels, int Height, int Width, int Filters, int Kernel, int Stride, int OutHeight, int OutWidth);

    private static void Convolve<TLanes, TVector, TActivation>(ref float input, ref float packed, ref float bias, Shape s, ref float scratch)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        int l = TLanes.Count, first = 0;
        if (l == 16)
        {
            for (; first + (4 * l) <= s.Filters; first += 4 * l)
            {
                Tiles<TLanes, TVector, TActivation, Four>(ref input, ref packed, ref bias, s, first, ref scratch);
            }
        }

        for (; first + (2 * l) <= s.Filters; first += 2 * l)
        {
            Tiles<TLanes, TVector, TActivation, Two>(ref input, ref packed, ref bias, s, first, ref scratch);
        }

        if (first < s.Filters)
        {
            Tiles<TLanes, TVector, TActivation, One>(ref input, ref packed, ref bias, s, first, ref scratch);
        }
    }

    // Filters first … first + blocks · lanes − 1 at every output position, six positions a tile; blocks is 1, 2 or 4 (the
    // JIT drops the accumulators and multiply-adds of the blocks a tile does not have).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles<TLanes, TVector, TActivation, TBlocks>(ref float input, ref float packed, ref float bias, Shape s, int first, ref float scratch)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
        where TBlocks : struct, ICount
    {
        int l = TLanes.Count, f = s.Filters, k = s.Kernel, plane = s.OutHeight * s.OutWidth;
        bool two = TBlocks.Value >= 2, four = TBlocks.Value == 4;
        ref float bias01 = ref Unsafe.Add(ref bias, first);
        ref float bias23 = ref Unsafe.Add(ref bias, first + (2 * l));
        ref float weights = ref Unsafe.Add(ref packed, first);
        nint channelStep = s.Height * s.Width, rowStep = s.Width;
        int y = 0, x = 0;
        for (int p = 0; p < plane; p += Positions)
        {
            // Where each of the tile's windows starts in a channel's plane; past the plane's end, its last position.
            int last = Math.Min(Positions, plane - p) - 1;
            nint o0 = Corner(ref y, ref x, s);
            nint o1 = 1 <= last ? Corner(ref y, ref x, s) : o0;
            nint o2 = 2 <= last ? Corner(ref y, ref x, s) : o1;
            nint o3 = 3 <= last ? Corner(ref y, ref x, s) : o2;
            nint o4 = 4 <= last ? Corner(ref y, ref x, s) : o3;
            nint o5 = 5 <= last ? Corner(ref y, ref x, s) : o4;

            TVector a0 = TLanes.Zero, a1 = TLanes.Zero, a2 = TLanes.Zero, a3 = TLanes.Zero, a4 = TLanes.Zero, a5 = TLanes.Zero;
            TVector b0 = TLanes.Zero, b1 = TLanes.Zero, b2 = TLanes.Zero, b3 = TLanes.Zero, b4 = TLanes.Zero, b5 = TLanes.Zero;
            TVector c0 = TLanes.Zero, c1 = TLanes.Zero, c2 = TLanes.Zero, c3 = TLanes.Zero, c4 = TLanes.Zero, c5 = TLanes.Zero;
            TVector d0 = TLanes.Zero, d1 = TLanes.Zero, d2 = TLanes.Zero, d3 = TLanes.Zero, d4 = TLanes.Zero, d5 = TLanes.Zero;
            ref float w = ref weights;
            for (int c = 0; c < s.Channels; c++)
            {
                ref float channel = ref Unsafe.Add(ref input, c * channelStep);
                for (int i = 0; i < k; i++)
                {
                    ref float row = ref Unsafe.Add(ref channel, i * rowStep);
                    for (int j = 0; j < k; j++)
                    {
                        ref float tap = ref Unsafe.Add(ref row, j);
                        TVector w0 = TLanes.Load(ref w, 0);
                        TVector w1 = two ? TLanes.Load(ref w, (nuint)l) : TLanes.Zero;
                        TVector w2 = four ? TLanes.Load(ref w, (nuint)(2 * l)) : TLanes.Zero;
                        TVector w3 = four ? TLanes.Load(ref w, (nuint)(3 * l)) : TLanes.Zero;
                        w = ref Unsafe.Add(ref w, f);
                        TVector v = TLanes.Splat(Unsafe.Add(ref tap, o0));
                        a0 = TLanes.MultiplyAdd(v, w0, a0);
                        if (two)
                        {
                            b0 = TLanes.MultiplyAdd(v, w1, b0);
                        }

                        if (four)
                        {
                            c0 = TLanes.MultiplyAdd(v, w2, c0);
                            d0 = TLanes.MultiplyAdd(v, w3, d0);
                        }

                        v = TLanes.Splat(Unsafe.Add(ref tap, o1));
                        a1 = TLanes.MultiplyAdd(v, w0, a1);
                        if (two)
                        {
                            b1 = TLanes.MultiplyAdd(v, w1, b1);
                        }

                        if (four)
                        {
                            c1 = TLanes.MultiplyAdd(v, w2, c1);
                            d1 = TLanes.MultiplyAdd(v, w3, d1);
                        }

                        v = TLanes.Splat(Unsafe.Add(ref tap, o2));
                        a2 = TLanes.MultiplyAdd(v, w0, a2);
                        if (two)
                        {
                            b2 = TLanes.MultiplyAdd(v, w1, b2);
                        }

                        if (four)
                        {
                            c2 = TLanes.MultiplyAdd(v, w2, c2);
                            d2 = TLanes.MultiplyAdd(v, w3, d2);
                        }

                        v = TLanes.Splat(Unsafe.Add(ref tap, o3));
                        a3 = TLanes.MultiplyAdd(v, w0, a3);
                        if (two)
                        {
                            b3 = TLanes.MultiplyAdd(v, w1, b3);
                        }

                        if (four)
                        {
                            c3 = TLanes.MultiplyAdd(v, w2, c3);
                            d3 = TLanes.MultiplyAdd(v, w3, d3);
                        }

                        v = TLanes.Splat(Unsafe.Add(ref tap, o4));
                        a4 = TLanes.MultiplyAdd(v, w0, a4);
                        if (two)
                        {
                            b4 = TLanes.MultiplyAdd(v, w1, b4);
                        }

                        if (four)
                        {
                            c4 = TLanes.MultiplyAdd(v, w2, c4);
                            d4 = TLanes.MultiplyAdd(v, w3, d4);
                        }

                        v = TLanes.Splat(Unsafe.Add(ref tap, o5));
                        a5 = TLanes.MultiplyAdd(v, w0, a5);
                        if (two)
                        {
                            b5 = TLanes.MultiplyAdd(v, w1, b5);
                        }

                        if (four)
                        {
                            c5 = TLanes.MultiplyAdd(v, w2, c5);
                            d5 = TLanes.MultiplyAdd(v, w3, d5);
                        }
                    }
                }
            }

            // Position p + q of the tile, or the plane's last for q past it, at scratch[position · filters + filter].
            ref float target = ref Unsafe.Add(ref scratch, first);
            Put<TLanes, TVector, TActivation>(a0, b0, ref bias01, two, ref target, (nuint)(p * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c0, d0, ref bias23, true, ref target, (nuint)(p * f) + (nuint)(2 * l), (nuint)l);
            }

            Put<TLanes, TVector, TActivation>(a1, b1, ref bias01, two, ref target, (nuint)((p + Math.Min(1, last)) * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c1, d1, ref bias23, true, ref target, (nuint)((p + Math.Min(1, last)) * f) + (nuint)(2 * l), (nuint)l);
            }

            Put<TLanes, TVector, TActivation>(a2, b2, ref bias01, two, ref target, (nuint)((p + Math.Min(2, last)) * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c2, d2, ref bias23, true, ref target, (nuint)((p + Math.Min(2, last)) * f) + (nuint)(2 * l), (nuint)l);
            }

            Put<TLanes, TVector, TActivation>(a3, b3, ref bias01, two, ref target, (nuint)((p + Math.Min(3, last)) * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c3, d3, ref bias23, true, ref target, (nuint)((p + Math.Min(3, last)) * f) + (nuint)(2 * l), (nuint)l);
            }

            Put<TLanes, TVector, TActivation>(a4, b4, ref bias01, two, ref target, (nuint)((p + Math.Min(4, last)) * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c4, d4, ref bias23, true, ref target, (nuint)((p + Math.Min(4, last)) * f) + (nuint)(2 * l), (nuint)l);
            }

            Put<TLanes, TVector, TActivation>(a5, b5, ref bias01, two, ref target, (nuint)((p + Math.Min(5, last)) * f), (nuint)l);
            if (four)
            {
                Put<TLanes, TVector, TActivation>(c5, d5, ref bias23, true, ref target, (nuint)((p + Math.Min(5, last)) * f) + (nuint)(2 * l), (nuint)l);
            }
        }
    }

    // The offset of the window at output position (y, x) in an input plane; then steps to the next position.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Corner(ref int y, ref int x, Shape s)
    {
        nint offset = ((nint)y * s.Stride * s.Width) + ((nint)x * s.Stride);
        if (++x == s.OutWidth)
        {
            x = 0;
            y++;
        }

        return offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TLanes, TVector, TActivation>(TVector a, TVector b, ref float bias, bool two, ref float target, nuint at, nuint lanes)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        a = TLanes.Add(a, TLanes.Load(ref bias, 0));
        TLanes.Store(TActivation.Rectifies ? TLanes.Relu(a) : a, ref target, at);
        if (two)
        {
            b = TLanes.Add(b, TLanes.Load(ref bias, lanes));
            TLanes.Store(TActivation.Rectifies ? TLanes.Relu(b) : b, ref target, at + lanes);
        }
    }
}

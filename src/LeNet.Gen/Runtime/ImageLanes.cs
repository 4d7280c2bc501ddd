using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Batched inference with one image in each lane of a vector: the layers of a batch <c>Predict</c> call run on a group of
/// <see cref="Count"/> images at once, and every weight a kernel loads serves all of them. A generated network whose cost
/// model chose this pass calls these functions, with its shapes as literals, from its <c>ForwardImages</c> method.
/// </summary>
/// <remarks>
/// <para>
/// Layout: a tensor of <c>length</c> values per image is stored as <c>length</c> vectors of <see cref="Count"/> floats,
/// value <c>v</c> of image <c>n</c> at <c>[v · Count + n]</c>. Channels stay outermost, so a convolution's tap, a pooling
/// window and a dense layer's input are vector loads whatever the channel count, stride or window; and a per-channel
/// operation sees each channel's plane as <c>plane · Count</c> values in a row.
/// </para>
/// <para>
/// Every lane runs the same scalar arithmetic in the same order: a convolution starts from the bias and adds its taps
/// (channel, row, column) by fused multiply-adds; a dense layer its inputs in order; pooling is the scalar layers' own
/// order. So an image's outputs do not depend on the instruction set (8 or 16 lanes), on which images share its group,
/// or on the thread count. Against the single-image kernels the sums run in another order, so they differ by rounding.
/// </para>
/// <para>
/// The kernels are compiled fully optimised on their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>):
/// a process's first batch calls would otherwise run their loops unoptimised until tiered compilation caught up.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ImageLanes
{
    /// <summary>Images per group: 16 with AVX-512, 8 with AVX2 and FMA, 0 without (the pass does not run then).</summary>
    public static int Count => Simd.Use512 ? 16 : Simd.Use256 ? 8 : 0;

    /// <summary>
    /// The most images one <c>ForwardImages</c> call takes: four groups. Its convolutions and pooling run group by group,
    /// and its dense layers then run on all of them at once, so that their weights (LeNet-5's are 236 KB, more than a
    /// core's second-level cache holds beside the images) are read once per call rather than once per group.
    /// </summary>
    public static int Batch => 4 * Count;

    /// <summary>
    /// <paramref name="length"/> floats of <paramref name="buffer"/> from a 64-byte boundary, the buffer created zeroed on
    /// first use (or when too short) and pinned, so the boundary stays where it is. The lanes kernels' buffers come from
    /// here: a vector loaded from an array's own start (8-byte aligned) would often straddle two cache lines, which costs
    /// a second access; LeNet-5's convolution backward kernels ran 10–15% faster on aligned buffers (Zen 4).
    /// </summary>
    public static unsafe Span<float> Aligned(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length + 15)
        {
            buffer = GC.AllocateArray<float>(length + 15, pinned: true);
        }

        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return buffer.AsSpan((int)((64 - (address & 63)) & 63) / sizeof(float), length);
    }

    /// <summary>
    /// Copies <paramref name="count"/> images of <paramref name="length"/> values each (one after another in
    /// <paramref name="inputs"/>) into the lanes of <paramref name="lanes"/>, and zeros the lanes of a group's missing images.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> inputs, int count, int length, Span<float> lanes) => GatherInto(inputs, count, length, lanes, Count);

    /// <summary>
    /// <see cref="Gather"/> for the layers after the images are flat: up to <see cref="Batch"/> inputs into as many lanes
    /// (<paramref name="batch"/> holds <see cref="Batch"/> floats per value).
    /// </summary>
    public static void GatherBatch(ReadOnlySpan<float> inputs, int count, int length, Span<float> batch) => GatherInto(inputs, count, length, batch, Batch);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GatherInto(ReadOnlySpan<float> inputs, int count, int length, Span<float> lanes, int width)
    {
        Check(count >= 1 && count <= width && inputs.Length >= count * length && lanes.Length >= length * width, "Gather", count, length);
        if (count < width)
        {
            lanes.Slice(0, length * width).Clear();
        }

        // Eight images at a time, eight values of each: an 8 × 8 transpose in registers. (Image by image, the writes
        // would miss the first-level cache; and the images sit a power of two apart, so reading many of them a value at a
        // time would evict each other's lines.)
        ref float target = ref MemoryMarshal.GetReference(lanes);
        ref float source = ref MemoryMarshal.GetReference(inputs);
        int n = 0;
        for (; n <= count - 8; n += 8)
        {
            ref float images = ref Unsafe.Add(ref source, n * length);
            int v = 0;
            for (; v <= length - 8; v += 8)
            {
                Transpose8(ref Unsafe.Add(ref images, v), length, ref Unsafe.Add(ref target, (v * width) + n), width);
            }

            for (; v < length; v++)
            {
                for (int k = 0; k < 8; k++)
                {
                    Unsafe.Add(ref target, (v * width) + n + k) = Unsafe.Add(ref images, (k * length) + v);
                }
            }
        }

        for (; n < count; n++)
        {
            ref float image = ref Unsafe.Add(ref source, n * length);
            for (int v = 0; v < length; v++)
            {
                Unsafe.Add(ref target, (v * width) + n) = Unsafe.Add(ref image, v);
            }
        }
    }

    /// <summary>
    /// Copies a group's <paramref name="length"/> values per lane (<see cref="Count"/> lanes) into lanes
    /// <paramref name="first"/> … <paramref name="first"/> + <see cref="Count"/> − 1 of <paramref name="batch"/>
    /// (<see cref="Batch"/> lanes): from the layers on images to the dense layers, which run on the whole call at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Widen(ReadOnlySpan<float> lanes, int length, int first, Span<float> batch)
    {
        int l = Count, b = Batch;
        Check(first >= 0 && first + l <= b && lanes.Length >= length * l && batch.Length >= length * b, "Widen", length, first);
        ref float source = ref MemoryMarshal.GetReference(lanes);
        ref float target = ref Unsafe.Add(ref MemoryMarshal.GetReference(batch), first);
        for (int v = 0; v < length; v++)
        {
            // A value's lanes are one or two vectors: copied as such, not through a general copy per value.
            for (int k = 0; k < l; k += 8)
            {
                Vector256.LoadUnsafe(ref source, (nuint)((v * l) + k)).StoreUnsafe(ref target, (nuint)((v * b) + k));
            }
        }
    }

    // Rows r = 0..7 of 8 values (row r at source + r · sourceStride) become columns: value v of row r goes to target[v · targetStride + r].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(ref float source, int sourceStride, ref float target, int targetStride)
    {
        nuint from = (nuint)sourceStride, to = (nuint)targetStride;
        Simd.Transpose8x8(
            Vector256.LoadUnsafe(ref source), Vector256.LoadUnsafe(ref source, from), Vector256.LoadUnsafe(ref source, 2 * from), Vector256.LoadUnsafe(ref source, 3 * from),
            Vector256.LoadUnsafe(ref source, 4 * from), Vector256.LoadUnsafe(ref source, 5 * from), Vector256.LoadUnsafe(ref source, 6 * from), Vector256.LoadUnsafe(ref source, 7 * from),
            out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        c0.StoreUnsafe(ref target);
        c1.StoreUnsafe(ref target, to);
        c2.StoreUnsafe(ref target, 2 * to);
        c3.StoreUnsafe(ref target, 3 * to);
        c4.StoreUnsafe(ref target, 4 * to);
        c5.StoreUnsafe(ref target, 5 * to);
        c6.StoreUnsafe(ref target, 6 * to);
        c7.StoreUnsafe(ref target, 7 * to);
    }

    /// <summary>
    /// Copies the first <paramref name="count"/> of the <see cref="Batch"/> lanes of <paramref name="batch"/>
    /// (<paramref name="length"/> values each) out into <paramref name="outputs"/>, one input after another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scatter(ReadOnlySpan<float> batch, int count, int length, Span<float> outputs)
    {
        int b = Batch;
        Check(count >= 1 && count <= b && outputs.Length >= count * length && batch.Length >= length * b, "Scatter", count, length);
        ref float source = ref MemoryMarshal.GetReference(batch);
        for (int n = 0; n < count; n++)
        {
            ref float target = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputs), n * length);
            ref float lane = ref Unsafe.Add(ref source, n);
            for (int v = 0; v < length; v++)
            {
                Unsafe.Add(ref target, v) = Unsafe.Add(ref lane, v * b);
            }
        }
    }

    /// <summary>
    /// A convolution on a group: <c>out[f, y, x] = bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, s·y + i − p, s·x + j − p]</c>,
    /// reading zeros outside the input, then ReLU when <paramref name="relu"/> is set.
    /// </summary>
    /// <param name="input">channels × height × width vectors.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Rows of an input plane.</param>
    /// <param name="width">Columns of an input plane.</param>
    /// <param name="weight">filters × channels × kernel × kernel values, as PyTorch stores them.</param>
    /// <param name="bias">filters values.</param>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernel">The window's side.</param>
    /// <param name="stride">The window's step.</param>
    /// <param name="padding">Zero rows and columns around the input.</param>
    /// <param name="outHeight">Rows of an output plane.</param>
    /// <param name="outWidth">Columns of an output plane.</param>
    /// <param name="relu">True to store max(0, value).</param>
    /// <param name="padded">
    /// Scratch for a copy of the input with its zero border, when <paramref name="padding"/> is above 0 or a window hangs
    /// over the edge: channels × ((outHeight − 1)·stride + kernel) × ((outWidth − 1)·stride + kernel) vectors; otherwise unused.
    /// </param>
    /// <param name="output">Receives filters × outHeight × outWidth vectors.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Convolve(
        ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int filters, int kernel, int stride, int padding, int outHeight, int outWidth, bool relu, Span<float> padded, Span<float> output)
    {
        Check(output.Length >= filters * outHeight * outWidth * Count, "Convolve", channels, filters);
        var shape = Padded(ref input, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, padded, "Convolve", Count);
        ref float x = ref MemoryMarshal.GetReference(input), w = ref MemoryMarshal.GetReference(weight), b = ref MemoryMarshal.GetReference(bias), o = ref MemoryMarshal.GetReference(output);
        if (Simd.Use512)
        {
            if (relu)
            {
                Convolve<Lanes512, Vector512<float>, Rectified>(ref x, ref w, ref b, shape, ref o);
            }
            else
            {
                Convolve<Lanes512, Vector512<float>, Identity>(ref x, ref w, ref b, shape, ref o);
            }
        }
        else if (relu)
        {
            Convolve<Lanes256, Vector256<float>, Rectified>(ref x, ref w, ref b, shape, ref o);
        }
        else
        {
            Convolve<Lanes256, Vector256<float>, Identity>(ref x, ref w, ref b, shape, ref o);
        }
    }

    /// <summary>
    /// <see cref="Convolve"/> followed by 2 × 2 pooling with stride 2, in one pass: each register tile computes one pooling
    /// window of three filters and stores only its pooled value, so the convolution's output is never written out. The
    /// values are those of <see cref="Convolve"/> then <see cref="Pool"/>, bit for bit: the same sums, then ReLU when
    /// <paramref name="relu"/> is set, then the window's maximum or average in <see cref="Pool"/>'s order.
    /// </summary>
    /// <param name="input">channels × height × width vectors.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Rows of an input plane.</param>
    /// <param name="width">Columns of an input plane.</param>
    /// <param name="weight">filters × channels × kernel × kernel values, as PyTorch stores them.</param>
    /// <param name="bias">filters values.</param>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernel">The convolution window's side.</param>
    /// <param name="stride">The convolution window's step.</param>
    /// <param name="padding">Zero rows and columns around the input.</param>
    /// <param name="outHeight">Rows of the convolution's output plane: even, so the pooling windows tile it.</param>
    /// <param name="outWidth">Columns of the convolution's output plane: even.</param>
    /// <param name="relu">True to apply max(0, value) before pooling.</param>
    /// <param name="max">True for max pooling, false for average pooling.</param>
    /// <param name="padded">Scratch for the padded input, as for <see cref="Convolve"/>.</param>
    /// <param name="output">Receives filters × (outHeight / 2) × (outWidth / 2) vectors.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConvolvePool(
        ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int filters, int kernel, int stride, int padding, int outHeight, int outWidth, bool relu, bool max, Span<float> padded, Span<float> output)
    {
        Check(outHeight % 2 == 0 && outWidth % 2 == 0 && output.Length >= filters * (outHeight / 2) * (outWidth / 2) * Count, "ConvolvePool", outHeight, outWidth);
        var shape = Padded(ref input, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, padded, "ConvolvePool", Count);
        ref float x = ref MemoryMarshal.GetReference(input), w = ref MemoryMarshal.GetReference(weight), b = ref MemoryMarshal.GetReference(bias), o = ref MemoryMarshal.GetReference(output);
        if (Simd.Use512)
        {
            if (relu)
            {
                ConvolvePool<Lanes512, Vector512<float>, Rectified>(ref x, ref w, ref b, shape, max, ref o);
            }
            else
            {
                ConvolvePool<Lanes512, Vector512<float>, Identity>(ref x, ref w, ref b, shape, max, ref o);
            }
        }
        else if (relu)
        {
            ConvolvePool<Lanes256, Vector256<float>, Rectified>(ref x, ref w, ref b, shape, max, ref o);
        }
        else
        {
            ConvolvePool<Lanes256, Vector256<float>, Identity>(ref x, ref w, ref b, shape, max, ref o);
        }
    }

    // The checks Convolve and ConvolvePool share, and the copy of the input into its zero border when the windows need
    // one (input then points at the copy): the shape the kernels run on.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ConvShape Padded(
        ref ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int filters, int kernel, int stride, int padding, int outHeight, int outWidth, Span<float> padded, string function, int l)
    {
        int paddedHeight = ((outHeight - 1) * stride) + kernel, paddedWidth = ((outWidth - 1) * stride) + kernel;
        bool copies = padding > 0 || paddedHeight > height || paddedWidth > width;
        Check(
            input.Length >= channels * height * width * l && weight.Length >= filters * channels * kernel * kernel && bias.Length >= filters
            && (!copies || padded.Length >= channels * paddedHeight * paddedWidth * l),
            function, channels, filters);
        if (copies)
        {
            Pad(input, channels, height, width, padding, paddedHeight, paddedWidth, padded, l);
            input = padded;
            height = paddedHeight;
            width = paddedWidth;
        }

        return new ConvShape(channels, height, width, filters, kernel, stride, outHeight, outWidth);
    }

    /// <summary>
    /// A dense layer on a call's inputs, after the images are flat, one input per lane of <see cref="Batch"/> (as
    /// <see cref="GatherBatch"/> and <see cref="Widen"/> leave them): <c>out[o] = bias[o] + Σ i weight[o, i] · in[i]</c>,
    /// then ReLU when <paramref name="relu"/> is set.
    /// </summary>
    /// <param name="input">columns × <see cref="Batch"/> values.</param>
    /// <param name="weight">rows × columns values, as PyTorch stores them.</param>
    /// <param name="bias">rows values.</param>
    /// <param name="rows">Outputs per input.</param>
    /// <param name="columns">Values per input.</param>
    /// <param name="relu">True to store max(0, value).</param>
    /// <param name="output">Receives rows × <see cref="Batch"/> values.</param>
    /// <remarks>
    /// A matrix product with the inputs in lanes: six weight rows × two vectors of inputs in registers, each weight
    /// broadcast once for all of them, so the weights are read twice per call (once per half of the lanes). Each sum adds its inputs in order by fused
    /// multiply-adds from zero, then the bias.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dense(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int rows, int columns, bool relu, Span<float> output)
    {
        int b = Batch;
        Check(b > 0 && input.Length >= columns * b && weight.Length >= rows * columns && bias.Length >= rows && output.Length >= rows * b, "Dense", rows, columns);
        if (Simd.Use512)
        {
            Dense<Lanes512, Vector512<float>>(ref MemoryMarshal.GetReference(input), ref MemoryMarshal.GetReference(weight), ref MemoryMarshal.GetReference(bias), rows, columns, relu, ref MemoryMarshal.GetReference(output));
        }
        else
        {
            Dense<Lanes256, Vector256<float>>(ref MemoryMarshal.GetReference(input), ref MemoryMarshal.GetReference(weight), ref MemoryMarshal.GetReference(bias), rows, columns, relu, ref MemoryMarshal.GetReference(output));
        }
    }

    // Batch = 4 vectors of lanes, taken two at a time: six rows × two vectors is twelve accumulators, with the two input
    // vectors and the broadcast weight fifteen registers (three rows × four vectors would need seventeen of AVX2's
    // sixteen, and a spilled accumulator waits on memory every step). The last tile of rows repeats the last row. The
    // columns go in slices of 64, whose inputs (8 KB with AVX2) stay in the first-level cache while every row passes over
    // them; a row's sums wait in the output between slices (a float stored and loaded back is the same float, so the
    // order of the additions is kept).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dense<TLanes, TVector>(ref float input, ref float weight, ref float bias, int rows, int columns, bool relu, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        const int Slice = 64;
        int l = TLanes.Count, b = 4 * l;
        for (int start = 0; start < columns; start += Slice)
        {
            int end = Math.Min(start + Slice, columns);
            bool first = start == 0, last = end == columns;
            for (int o = 0; o < rows; o += 6)
            {
                var r = new SixRows(o, rows);
                for (int half = 0; half < b; half += 2 * l)
                {
                    TVector s00 = TLanes.Zero, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
                    if (!first)
                    {
                        (s00, s01) = Kept<TLanes, TVector>(ref output, (r.O0 * b) + half);
                        (s10, s11) = Kept<TLanes, TVector>(ref output, (r.O1 * b) + half);
                        (s20, s21) = Kept<TLanes, TVector>(ref output, (r.O2 * b) + half);
                        (s30, s31) = Kept<TLanes, TVector>(ref output, (r.O3 * b) + half);
                        (s40, s41) = Kept<TLanes, TVector>(ref output, (r.O4 * b) + half);
                        (s50, s51) = Kept<TLanes, TVector>(ref output, (r.O5 * b) + half);
                    }

                    ref float x = ref Unsafe.Add(ref input, (start * b) + half);
                    ref float w0 = ref Unsafe.Add(ref weight, (r.O0 * columns) + start);
                    ref float w1 = ref Unsafe.Add(ref weight, (r.O1 * columns) + start);
                    ref float w2 = ref Unsafe.Add(ref weight, (r.O2 * columns) + start);
                    ref float w3 = ref Unsafe.Add(ref weight, (r.O3 * columns) + start);
                    ref float w4 = ref Unsafe.Add(ref weight, (r.O4 * columns) + start);
                    ref float w5 = ref Unsafe.Add(ref weight, (r.O5 * columns) + start);
                    for (int i = 0; i < end - start; i++)
                    {
                        TVector v0 = TLanes.Load(ref x, 0), v1 = TLanes.Load(ref x, (nuint)l);
                        TVector k = TLanes.Splat(Unsafe.Add(ref w0, i));
                        s00 = TLanes.MultiplyAdd(k, v0, s00);
                        s01 = TLanes.MultiplyAdd(k, v1, s01);
                        k = TLanes.Splat(Unsafe.Add(ref w1, i));
                        s10 = TLanes.MultiplyAdd(k, v0, s10);
                        s11 = TLanes.MultiplyAdd(k, v1, s11);
                        k = TLanes.Splat(Unsafe.Add(ref w2, i));
                        s20 = TLanes.MultiplyAdd(k, v0, s20);
                        s21 = TLanes.MultiplyAdd(k, v1, s21);
                        k = TLanes.Splat(Unsafe.Add(ref w3, i));
                        s30 = TLanes.MultiplyAdd(k, v0, s30);
                        s31 = TLanes.MultiplyAdd(k, v1, s31);
                        k = TLanes.Splat(Unsafe.Add(ref w4, i));
                        s40 = TLanes.MultiplyAdd(k, v0, s40);
                        s41 = TLanes.MultiplyAdd(k, v1, s41);
                        k = TLanes.Splat(Unsafe.Add(ref w5, i));
                        s50 = TLanes.MultiplyAdd(k, v0, s50);
                        s51 = TLanes.MultiplyAdd(k, v1, s51);
                        x = ref Unsafe.Add(ref x, b);
                    }

                    Put<TLanes, TVector>(s00, s01, last, Unsafe.Add(ref bias, r.O0), relu, ref output, (r.O0 * b) + half);
                    Put<TLanes, TVector>(s10, s11, last, Unsafe.Add(ref bias, r.O1), relu, ref output, (r.O1 * b) + half);
                    Put<TLanes, TVector>(s20, s21, last, Unsafe.Add(ref bias, r.O2), relu, ref output, (r.O2 * b) + half);
                    Put<TLanes, TVector>(s30, s31, last, Unsafe.Add(ref bias, r.O3), relu, ref output, (r.O3 * b) + half);
                    Put<TLanes, TVector>(s40, s41, last, Unsafe.Add(ref bias, r.O4), relu, ref output, (r.O4 * b) + half);
                    Put<TLanes, TVector>(s50, s51, last, Unsafe.Add(ref bias, r.O5), relu, ref output, (r.O5 * b) + half);
                }
            }
        }
    }

    // Rows o … o + 5 of a dense tile, the last row repeated past the end.
    private readonly struct SixRows(int o, int rows)
    {
        public readonly int O0 = o, O1 = Math.Min(o + 1, rows - 1), O2 = Math.Min(o + 2, rows - 1), O3 = Math.Min(o + 3, rows - 1), O4 = Math.Min(o + 4, rows - 1), O5 = Math.Min(o + 5, rows - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TVector, TVector) Kept<TLanes, TVector>(ref float output, int at)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct =>
        (TLanes.Load(ref output, (nuint)at), TLanes.Load(ref output, (nuint)(at + TLanes.Count)));

    // Two vectors of a row's sums: with the bias (and ReLU) after the last slice of columns, as they are before it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TLanes, TVector>(TVector s0, TVector s1, bool last, float bias, bool relu, ref float output, int at)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        if (last)
        {
            TVector b = TLanes.Splat(bias);
            Store<TLanes, TVector>(TLanes.Add(s0, b), relu, ref output, (nuint)at);
            Store<TLanes, TVector>(TLanes.Add(s1, b), relu, ref output, (nuint)(at + TLanes.Count));
        }
        else
        {
            TLanes.Store(s0, ref output, (nuint)at);
            TLanes.Store(s1, ref output, (nuint)(at + TLanes.Count));
        }
    }

    /// <summary>
    /// Max or average pooling on a group, with the scalar layer's arithmetic: a window that hangs over the edge (ceiling
    /// rounding) covers only what is inside; a full average window sums row by row and multiplies by 1 / size², a clipped
    /// one sums value by value and divides by its count; a maximum is <see cref="MathF.Max(float, float)"/>'s (NaN wins).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pool(ReadOnlySpan<float> input, int channels, int height, int width, int size, int stride, int outHeight, int outWidth, bool max, Span<float> output)
    {
        int l = Count;
        Check(input.Length >= channels * height * width * l && output.Length >= channels * outHeight * outWidth * l, "Pool", channels, size);
        var shape = new ConvShape(channels, height, width, channels, size, stride, outHeight, outWidth);
        if (Simd.Use512)
        {
            Pool<Lanes512, Vector512<float>>(ref MemoryMarshal.GetReference(input), shape, max, ref MemoryMarshal.GetReference(output));
        }
        else
        {
            Pool<Lanes256, Vector256<float>>(ref MemoryMarshal.GetReference(input), shape, max, ref MemoryMarshal.GetReference(output));
        }
    }

    /// <summary>Global average pooling on a group: <c>out[c] = (Σ over the plane, in order) · (1 / plane)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverage(ReadOnlySpan<float> input, int channels, int plane, Span<float> output)
    {
        int l = Count;
        Check(input.Length >= channels * plane * l && output.Length >= channels * l, "GlobalAverage", channels, plane);
        if (Simd.Use512)
        {
            GlobalAverage<Lanes512, Vector512<float>>(ref MemoryMarshal.GetReference(input), channels, plane, ref MemoryMarshal.GetReference(output));
        }
        else
        {
            GlobalAverage<Lanes256, Vector256<float>>(ref MemoryMarshal.GetReference(input), channels, plane, ref MemoryMarshal.GetReference(output));
        }
    }

    /// <summary>
    /// Batch norm with the running statistics on a group, as <c>Predict</c> computes it: for each channel
    /// <c>scale = γ / √(running_var + ε)</c> and <c>shift = β − running_mean · scale</c> in float, then
    /// <c>out = in · scale + shift</c> (a multiply and an add, not fused), then ReLU when <paramref name="relu"/> is set.
    /// </summary>
    /// <param name="input">channels × plane vectors.</param>
    /// <param name="weight">γ, channels values.</param>
    /// <param name="bias">β, channels values.</param>
    /// <param name="state">The running means, then the running variances: 2 × channels values.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="plane">Values per channel of one image.</param>
    /// <param name="relu">True to store max(0, value).</param>
    /// <param name="output">Receives channels × plane vectors.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> state, float epsilon, int channels, int plane, bool relu, Span<float> output)
    {
        int l = Count;
        Check(
            input.Length >= channels * plane * l && weight.Length >= channels && bias.Length >= channels && state.Length >= 2 * channels && output.Length >= channels * plane * l,
            "Normalize", channels, plane);
        NormalizeChannels(input, weight, bias, state, epsilon, channels, plane * l, relu, output);
    }

    /// <summary>
    /// <see cref="Normalize"/> after a dense layer, on a call's inputs in the lanes of <see cref="Batch"/>: each input's
    /// <paramref name="channels"/> values are its channels.
    /// </summary>
    /// <param name="input">channels × <see cref="Batch"/> values.</param>
    /// <param name="weight">γ, channels values.</param>
    /// <param name="bias">β, channels values.</param>
    /// <param name="state">The running means, then the running variances: 2 × channels values.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="channels">Values per input.</param>
    /// <param name="relu">True to store max(0, value).</param>
    /// <param name="output">Receives channels × <see cref="Batch"/> values.</param>
    public static void NormalizeBatch(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> state, float epsilon, int channels, bool relu, Span<float> output)
    {
        int b = Batch;
        Check(
            b > 0 && input.Length >= channels * b && weight.Length >= channels && bias.Length >= channels && state.Length >= 2 * channels && output.Length >= channels * b,
            "NormalizeBatch", channels, b);
        NormalizeChannels(input, weight, bias, state, epsilon, channels, b, relu, output);
    }

    // Each channel's values (a whole number of vectors) through its scale and shift, computed in float as Predict does.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeChannels(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> state, float epsilon, int channels, int values, bool relu, Span<float> output)
    {
        for (int c = 0; c < channels; c++)
        {
            float scale = weight[c] / MathF.Sqrt(state[channels + c] + epsilon);
            float shift = bias[c] - (state[c] * scale);
            Affine(input.Slice(c * values, values), scale, shift, relu, output.Slice(c * values, values));
        }
    }

    // output = input · scale + shift (then ReLU), eight values at a time; the length is a whole number of vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Affine(ReadOnlySpan<float> input, float scale, float shift, bool relu, Span<float> output)
    {
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float target = ref MemoryMarshal.GetReference(output);
        var a = Vector256.Create(scale);
        var b = Vector256.Create(shift);
        for (int i = 0; i < input.Length; i += 8)
        {
            var value = Avx.Add(Avx.Multiply(Vector256.LoadUnsafe(ref source, (nuint)i), a), b);
            (relu ? Simd.Relu(value) : value).StoreUnsafe(ref target, (nuint)i);
        }
    }

    private static void Check(bool holds, string function, int first, int second)
    {
        if (!holds)
        {
            throw new ArgumentException($"ImageLanes.{function}({first}, {second}, …): a span is shorter than the shapes require, the group is empty or larger than {Count} images, or a pooled convolution's output side is odd.");
        }
    }

    // The input into the middle of a zeroed plane of paddedHeight × paddedWidth per channel, p rows and columns in.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Pad(ReadOnlySpan<float> input, int channels, int height, int width, int p, int paddedHeight, int paddedWidth, Span<float> padded, int l)
    {
        padded.Slice(0, channels * paddedHeight * paddedWidth * l).Clear();
        int rows = Math.Min(height, paddedHeight - p), columns = Math.Min(width, paddedWidth - p);
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < rows; y++)
            {
                input.Slice(((c * height) + y) * width * l, columns * l)
                    .CopyTo(padded.Slice(((((c * paddedHeight) + y + p) * paddedWidth) + p) * l));
            }
        }
    }

    // A thread's convolution weights rearranged for the register tiles (Convolve), a few layers' worth. Each is kept with
    // a copy of the weights it was packed from, so the groups of a call, and later calls while the parameters do not
    // change, find it by comparing the weights (PreparedWeights' check) instead of packing again.
    [ThreadStatic]
    private static PackedWeights[]? t_packed;

    [ThreadStatic]
    private static int t_nextPacked;

    private sealed class PackedWeights
    {
        public int Tile;
        public int Filters;
        public int Taps;
        public float[] Source = [];
        public float[] Packed = [];
    }

    internal readonly record struct ConvShape(int Channels, int Height, int Width, int Filters, int Kernel, int Stride, int OutHeight, int OutWidth);

    // Register tile: three or four filters (TFilters) × three output positions, counted over the whole output plane so that
    // a tile may span two rows: twelve accumulators at most, with the three input vectors and one broadcast weight sixteen
    // registers. A tile at the last filters or positions repeats the last filter or position instead of running short:
    // it computes those values twice and stores the same value twice, so every tile runs the same code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Convolve<TLanes, TVector, TActivation>(ref float input, ref float weight, ref float bias, ConvShape s, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        // Four filters a tile; six when six divide the filters and four do not (LeNet-5's conv1), else three when three do.
        if (s.Filters % 4 != 0 && s.Filters % 6 == 0)
        {
            ConvolveSix<TLanes, TVector, TActivation>(ref input, ref weight, ref bias, s, ref output);
        }
        else if (s.Filters % 4 != 0 && s.Filters % 3 == 0)
        {
            Convolve<TLanes, TVector, TActivation, Three>(ref input, ref weight, ref bias, s, ref output);
        }
        else
        {
            Convolve<TLanes, TVector, TActivation, Four>(ref input, ref weight, ref bias, s, ref output);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convolve<TLanes, TVector, TActivation, TFilters>(ref float input, ref float weight, ref float bias, ConvShape s, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
        where TFilters : struct, ICount
    {
        int l = TLanes.Count, tile = TFilters.Value;
        bool four = tile == 4;
        int taps = s.Channels * s.Kernel * s.Kernel;
        int plane = s.Height * s.Width * l, row = s.Width * l;
        int positions = s.OutHeight * s.OutWidth;
        int outPlane = positions * l;

        ref float pack = ref Pack(ref weight, s, tile);
        for (int f = 0; f < s.Filters; f += tile)
        {
            int f1 = Math.Min(f + 1, s.Filters - 1), f2 = Math.Min(f + 2, s.Filters - 1), f3 = Math.Min(f + 3, s.Filters - 1);
            ref float group = ref Unsafe.Add(ref pack, f * taps);
            // Where each position's window starts: (y, x) advanced one position at a time, with no division per tile.
            int y0 = 0, x0 = 0;
            for (int p = 0; p < positions; p += 3)
            {
                int p1 = Math.Min(p + 1, positions - 1), p2 = Math.Min(p + 2, positions - 1);
                int y1 = y0, x1 = x0;
                Advance(ref y1, ref x1, p1 - p, s.OutWidth);
                int y2 = y1, x2 = x1;
                Advance(ref y2, ref x2, p2 - p1, s.OutWidth);
                nuint i0 = Window(y0, x0, s, row, l), i1 = Window(y1, x1, s, row, l), i2 = Window(y2, x2, s, row, l);
                (y0, x0) = (y2, x2);
                Advance(ref y0, ref x0, 1, s.OutWidth);
                // The sums start from the bias, so the tile ends with its stores alone.
                TVector a00 = TLanes.Splat(Unsafe.Add(ref bias, f)), a01 = a00, a02 = a00;
                TVector a10 = TLanes.Splat(Unsafe.Add(ref bias, f1)), a11 = a10, a12 = a10;
                TVector a20 = TLanes.Splat(Unsafe.Add(ref bias, f2)), a21 = a20, a22 = a20;
                TVector a30 = four ? TLanes.Splat(Unsafe.Add(ref bias, f3)) : TLanes.Zero, a31 = a30, a32 = a30;
                ref float w = ref group;
                for (int c = 0; c < s.Channels; c++)
                {
                    for (int i = 0; i < s.Kernel; i++)
                    {
                        ref float tap = ref Unsafe.Add(ref input, (c * plane) + (i * row));
                        for (int j = 0; j < s.Kernel; j++)
                        {
                            TVector v0 = TLanes.Load(ref tap, i0), v1 = TLanes.Load(ref tap, i1), v2 = TLanes.Load(ref tap, i2);
                            TVector k = TLanes.Splat(w);
                            a00 = TLanes.MultiplyAdd(k, v0, a00);
                            a01 = TLanes.MultiplyAdd(k, v1, a01);
                            a02 = TLanes.MultiplyAdd(k, v2, a02);
                            k = TLanes.Splat(Unsafe.Add(ref w, 1));
                            a10 = TLanes.MultiplyAdd(k, v0, a10);
                            a11 = TLanes.MultiplyAdd(k, v1, a11);
                            a12 = TLanes.MultiplyAdd(k, v2, a12);
                            k = TLanes.Splat(Unsafe.Add(ref w, 2));
                            a20 = TLanes.MultiplyAdd(k, v0, a20);
                            a21 = TLanes.MultiplyAdd(k, v1, a21);
                            a22 = TLanes.MultiplyAdd(k, v2, a22);
                            if (four)
                            {
                                k = TLanes.Splat(Unsafe.Add(ref w, 3));
                                a30 = TLanes.MultiplyAdd(k, v0, a30);
                                a31 = TLanes.MultiplyAdd(k, v1, a31);
                                a32 = TLanes.MultiplyAdd(k, v2, a32);
                            }

                            tap = ref Unsafe.Add(ref tap, l);
                            w = ref Unsafe.Add(ref w, tile);
                        }
                    }
                }

                nuint q0 = (nuint)(p * l), q1 = (nuint)(p1 * l), q2 = (nuint)(p2 * l);
                ref float o0 = ref Unsafe.Add(ref output, f * outPlane);
                Store<TLanes, TVector, TActivation>(a00, ref o0, q0);
                Store<TLanes, TVector, TActivation>(a01, ref o0, q1);
                Store<TLanes, TVector, TActivation>(a02, ref o0, q2);
                ref float o1 = ref Unsafe.Add(ref output, f1 * outPlane);
                Store<TLanes, TVector, TActivation>(a10, ref o1, q0);
                Store<TLanes, TVector, TActivation>(a11, ref o1, q1);
                Store<TLanes, TVector, TActivation>(a12, ref o1, q2);
                ref float o2 = ref Unsafe.Add(ref output, f2 * outPlane);
                Store<TLanes, TVector, TActivation>(a20, ref o2, q0);
                Store<TLanes, TVector, TActivation>(a21, ref o2, q1);
                Store<TLanes, TVector, TActivation>(a22, ref o2, q2);
                if (four)
                {
                    ref float o3 = ref Unsafe.Add(ref output, f3 * outPlane);
                    Store<TLanes, TVector, TActivation>(a30, ref o3, q0);
                    Store<TLanes, TVector, TActivation>(a31, ref o3, q1);
                    Store<TLanes, TVector, TActivation>(a32, ref o3, q2);
                }
            }
        }
    }

    // The weights a tile's filters take at each tap side by side ([group, tap, filter in the group]), so that one pointer
    // walks them; the last group repeats its last filter. In a buffer of the thread's, rewritten on each call.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ref float Pack(ref float weight, ConvShape s, int tile)
    {
        int taps = s.Channels * s.Kernel * s.Kernel, count = s.Filters * taps;
        int groups = (s.Filters + tile - 1) / tile;
        var weights = MemoryMarshal.CreateReadOnlySpan(ref weight, count);
        var slots = t_packed ??= new PackedWeights[8];
        foreach (var kept in slots)
        {
            if (kept is not null && kept.Tile == tile && kept.Filters == s.Filters && kept.Taps == taps
                && PreparedWeights.Same(weights, kept.Source.AsSpan(0, count)))
            {
                return ref MemoryMarshal.GetArrayDataReference(kept.Packed);
            }
        }

        // Not packed yet, or the weights changed: into the next slot in turn. The buffers only grow, so a network with
        // more such layers than slots repacks on each call but allocates nothing once warm.
        int slot = t_nextPacked;
        t_nextPacked = (slot + 1) % slots.Length;
        var entry = slots[slot] ??= new PackedWeights();
        entry.Tile = 0; // not valid until packed
        if (entry.Source.Length < count)
        {
            entry.Source = new float[count];
        }

        if (entry.Packed.Length < groups * taps * tile)
        {
            entry.Packed = new float[groups * taps * tile];
        }

        ref float pack = ref MemoryMarshal.GetArrayDataReference(entry.Packed);
        for (int g = 0, at = 0; g < groups; g++)
        {
            for (int t = 0; t < taps; t++)
            {
                for (int k = 0; k < tile; k++, at++)
                {
                    Unsafe.Add(ref pack, at) = Unsafe.Add(ref weight, (Math.Min((g * tile) + k, s.Filters - 1) * taps) + t);
                }
            }
        }

        weights.CopyTo(entry.Source);
        (entry.Tile, entry.Filters, entry.Taps) = (tile, s.Filters, taps);
        return ref pack;
    }

    // Register tile for six filters (LeNet-5's conv1): six filters × two output positions, twelve accumulators, with the
    // two input vectors and the broadcast weight fifteen registers; three filters × three positions would have only nine
    // sums in flight, too few to cover the fused multiply-adds' latency on both units.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ConvolveSix<TLanes, TVector, TActivation>(ref float input, ref float weight, ref float bias, ConvShape s, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        int l = TLanes.Count;
        int taps = s.Channels * s.Kernel * s.Kernel;
        int plane = s.Height * s.Width * l, row = s.Width * l;
        int positions = s.OutHeight * s.OutWidth;
        int outPlane = positions * l;
        ref float pack = ref Pack(ref weight, s, 6);
        for (int f = 0; f < s.Filters; f += 6)
        {
            ref float group = ref Unsafe.Add(ref pack, f * taps);
            int y0 = 0, x0 = 0;
            for (int p = 0; p < positions; p += 2)
            {
                int p1 = Math.Min(p + 1, positions - 1);
                int y1 = y0, x1 = x0;
                Advance(ref y1, ref x1, p1 - p, s.OutWidth);
                nuint i0 = Window(y0, x0, s, row, l), i1 = Window(y1, x1, s, row, l);
                (y0, x0) = (y1, x1);
                Advance(ref y0, ref x0, 1, s.OutWidth);
                // The sums start from the bias, so the tile ends with its stores alone.
                TVector a00 = TLanes.Splat(Unsafe.Add(ref bias, f)), a01 = a00;
                TVector a10 = TLanes.Splat(Unsafe.Add(ref bias, f + 1)), a11 = a10;
                TVector a20 = TLanes.Splat(Unsafe.Add(ref bias, f + 2)), a21 = a20;
                TVector a30 = TLanes.Splat(Unsafe.Add(ref bias, f + 3)), a31 = a30;
                TVector a40 = TLanes.Splat(Unsafe.Add(ref bias, f + 4)), a41 = a40;
                TVector a50 = TLanes.Splat(Unsafe.Add(ref bias, f + 5)), a51 = a50;
                ref float w = ref group;
                for (int c = 0; c < s.Channels; c++)
                {
                    for (int i = 0; i < s.Kernel; i++)
                    {
                        ref float tap = ref Unsafe.Add(ref input, (c * plane) + (i * row));
                        for (int j = 0; j < s.Kernel; j++)
                        {
                            TVector v0 = TLanes.Load(ref tap, i0), v1 = TLanes.Load(ref tap, i1);
                            TVector k = TLanes.Splat(w);
                            a00 = TLanes.MultiplyAdd(k, v0, a00);
                            a01 = TLanes.MultiplyAdd(k, v1, a01);
                            k = TLanes.Splat(Unsafe.Add(ref w, 1));
                            a10 = TLanes.MultiplyAdd(k, v0, a10);
                            a11 = TLanes.MultiplyAdd(k, v1, a11);
                            k = TLanes.Splat(Unsafe.Add(ref w, 2));
                            a20 = TLanes.MultiplyAdd(k, v0, a20);
                            a21 = TLanes.MultiplyAdd(k, v1, a21);
                            k = TLanes.Splat(Unsafe.Add(ref w, 3));
                            a30 = TLanes.MultiplyAdd(k, v0, a30);
                            a31 = TLanes.MultiplyAdd(k, v1, a31);
                            k = TLanes.Splat(Unsafe.Add(ref w, 4));
                            a40 = TLanes.MultiplyAdd(k, v0, a40);
                            a41 = TLanes.MultiplyAdd(k, v1, a41);
                            k = TLanes.Splat(Unsafe.Add(ref w, 5));
                            a50 = TLanes.MultiplyAdd(k, v0, a50);
                            a51 = TLanes.MultiplyAdd(k, v1, a51);
                            tap = ref Unsafe.Add(ref tap, l);
                            w = ref Unsafe.Add(ref w, 6);
                        }
                    }
                }

                nuint q0 = (nuint)(p * l), q1 = (nuint)(p1 * l);
                ref float o = ref Unsafe.Add(ref output, f * outPlane);
                StorePair<TLanes, TVector, TActivation>(a00, a01, ref o, q0, q1);
                StorePair<TLanes, TVector, TActivation>(a10, a11, ref Unsafe.Add(ref o, outPlane), q0, q1);
                StorePair<TLanes, TVector, TActivation>(a20, a21, ref Unsafe.Add(ref o, 2 * outPlane), q0, q1);
                StorePair<TLanes, TVector, TActivation>(a30, a31, ref Unsafe.Add(ref o, 3 * outPlane), q0, q1);
                StorePair<TLanes, TVector, TActivation>(a40, a41, ref Unsafe.Add(ref o, 4 * outPlane), q0, q1);
                StorePair<TLanes, TVector, TActivation>(a50, a51, ref Unsafe.Add(ref o, 5 * outPlane), q0, q1);
            }
        }
    }

    // Register tile of ConvolvePool: three filters × the four positions of one pooling window, twelve accumulators; with
    // the three broadcast weights and one input vector, sixteen registers. Filters past the last repeat it, as in Convolve.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ConvolvePool<TLanes, TVector, TActivation>(ref float input, ref float weight, ref float bias, ConvShape s, bool max, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        int l = TLanes.Count;
        int taps = s.Channels * s.Kernel * s.Kernel;
        int plane = s.Height * s.Width * l, row = s.Width * l;
        int pooledHeight = s.OutHeight / 2, pooledWidth = s.OutWidth / 2, pooledPlane = pooledHeight * pooledWidth * l;
        nuint right = (nuint)(s.Stride * l), below = (nuint)(s.Stride * row);
        ref float pack = ref Pack(ref weight, s, 3);
        for (int f = 0; f < s.Filters; f += 3)
        {
            int f1 = Math.Min(f + 1, s.Filters - 1), f2 = Math.Min(f + 2, s.Filters - 1);
            ref float group = ref Unsafe.Add(ref pack, f * taps);
            ref float o0 = ref Unsafe.Add(ref output, f * pooledPlane);
            ref float o1 = ref Unsafe.Add(ref output, f1 * pooledPlane);
            ref float o2 = ref Unsafe.Add(ref output, f2 * pooledPlane);
            for (int y = 0; y < pooledHeight; y++)
            {
                for (int x = 0; x < pooledWidth; x++)
                {
                    // The window's four positions: (2y, 2x), (2y, 2x + 1), (2y + 1, 2x), (2y + 1, 2x + 1).
                    nuint i0 = (nuint)((2 * y * s.Stride * row) + (2 * x * s.Stride * l)), i1 = i0 + right, i2 = i0 + below, i3 = i2 + right;
                    TVector a00 = TLanes.Splat(Unsafe.Add(ref bias, f)), a01 = a00, a02 = a00, a03 = a00;
                    TVector a10 = TLanes.Splat(Unsafe.Add(ref bias, f1)), a11 = a10, a12 = a10, a13 = a10;
                    TVector a20 = TLanes.Splat(Unsafe.Add(ref bias, f2)), a21 = a20, a22 = a20, a23 = a20;
                    ref float w = ref group;
                    for (int c = 0; c < s.Channels; c++)
                    {
                        for (int i = 0; i < s.Kernel; i++)
                        {
                            ref float tap = ref Unsafe.Add(ref input, (c * plane) + (i * row));
                            for (int j = 0; j < s.Kernel; j++)
                            {
                                TVector k0 = TLanes.Splat(w), k1 = TLanes.Splat(Unsafe.Add(ref w, 1)), k2 = TLanes.Splat(Unsafe.Add(ref w, 2));
                                TVector v = TLanes.Load(ref tap, i0);
                                a00 = TLanes.MultiplyAdd(k0, v, a00);
                                a10 = TLanes.MultiplyAdd(k1, v, a10);
                                a20 = TLanes.MultiplyAdd(k2, v, a20);
                                v = TLanes.Load(ref tap, i1);
                                a01 = TLanes.MultiplyAdd(k0, v, a01);
                                a11 = TLanes.MultiplyAdd(k1, v, a11);
                                a21 = TLanes.MultiplyAdd(k2, v, a21);
                                v = TLanes.Load(ref tap, i2);
                                a02 = TLanes.MultiplyAdd(k0, v, a02);
                                a12 = TLanes.MultiplyAdd(k1, v, a12);
                                a22 = TLanes.MultiplyAdd(k2, v, a22);
                                v = TLanes.Load(ref tap, i3);
                                a03 = TLanes.MultiplyAdd(k0, v, a03);
                                a13 = TLanes.MultiplyAdd(k1, v, a13);
                                a23 = TLanes.MultiplyAdd(k2, v, a23);
                                tap = ref Unsafe.Add(ref tap, l);
                                w = ref Unsafe.Add(ref w, 3);
                            }
                        }
                    }

                    nuint q = (nuint)(((y * pooledWidth) + x) * l);
                    TLanes.Store(Window<TLanes, TVector, TActivation>(a00, a01, a02, a03, max), ref o0, q);
                    TLanes.Store(Window<TLanes, TVector, TActivation>(a10, a11, a12, a13, max), ref o1, q);
                    TLanes.Store(Window<TLanes, TVector, TActivation>(a20, a21, a22, a23, max), ref o2, q);
                }
            }
        }
    }

    // A 2 × 2 pooling window's value from its four sums (top left, top right, bottom left, bottom right) after the
    // activation: Pool's arithmetic in Pool's order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Window<TLanes, TVector, TActivation>(TVector a, TVector b, TVector c, TVector d, bool max)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        if (TActivation.Rectifies)
        {
            (a, b, c, d) = (TLanes.Relu(a), TLanes.Relu(b), TLanes.Relu(c), TLanes.Relu(d));
        }

        return max ? MaxOfFour<TLanes, TVector>(a, b, c, d) : AverageOfFour<TLanes, TVector>(a, b, c, d);
    }

    // The maximum of a full 2 × 2 window, as Pool takes it: left to right, top row first.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MaxOfFour<TLanes, TVector>(TVector a, TVector b, TVector c, TVector d)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct =>
        TLanes.Max(TLanes.Max(TLanes.Max(a, b), c), d);

    // The average of a full 2 × 2 window, as Pool takes it: each row's sum onto a total from +0, times 1/4.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector AverageOfFour<TLanes, TVector>(TVector a, TVector b, TVector c, TVector d)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct =>
        TLanes.Multiply(TLanes.Add(TLanes.Add(TLanes.Zero, TLanes.Add(a, b)), TLanes.Add(c, d)), TLanes.Splat(0.25f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair<TLanes, TVector, TActivation>(TVector s0, TVector s1, ref float target, nuint q0, nuint q1)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation
    {
        Store<TLanes, TVector, TActivation>(s0, ref target, q0);
        Store<TLanes, TVector, TActivation>(s1, ref target, q1);
    }

    // Where the window of output (y, x) starts in the input, in floats.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Window(int y, int x, ConvShape s, int row, int l) => (nuint)((y * s.Stride * row) + (x * s.Stride * l));

    // (y, x) moved on by steps (0 or 1) positions in row-major order over rows of the given width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Advance(ref int y, ref int x, int steps, int width)
    {
        x += steps;
        if (x == width)
        {
            x = 0;
            y++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TLanes, TVector, TActivation>(TVector value, ref float target, nuint offset)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
        where TActivation : struct, IActivation =>
        TLanes.Store(TActivation.Rectifies ? TLanes.Relu(value) : value, ref target, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TLanes, TVector>(TVector value, bool relu, ref float target, nuint offset)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct =>
        TLanes.Store(relu ? TLanes.Relu(value) : value, ref target, offset);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Pool<TLanes, TVector>(ref float input, ConvShape s, bool max, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        int l = TLanes.Count, k = s.Kernel;
        if (k == 2 && s.Stride == 2 && 2 * s.OutHeight == s.Height && 2 * s.OutWidth == s.Width)
        {
            PoolPairs<TLanes, TVector>(ref input, s, max, ref output);
            return;
        }

        int plane = s.Height * s.Width * l, row = s.Width * l;
        TVector scale = TLanes.Splat(1f / (k * k));
        ref float target = ref output;
        for (int c = 0; c < s.Channels; c++)
        {
            for (int y = 0; y < s.OutHeight; y++)
            {
                int rows = Math.Min(k, s.Height - (y * s.Stride));
                for (int x = 0; x < s.OutWidth; x++)
                {
                    int columns = Math.Min(k, s.Width - (x * s.Stride));
                    ref float window = ref Unsafe.Add(ref input, (c * plane) + (y * s.Stride * row) + (x * s.Stride * l));
                    TVector value;
                    if (max)
                    {
                        value = TLanes.Load(ref window, 0);
                        for (int r = 0; r < rows; r++)
                        {
                            for (int q = r == 0 ? 1 : 0; q < columns; q++)
                            {
                                value = TLanes.Max(value, TLanes.Load(ref window, (nuint)((r * row) + (q * l))));
                            }
                        }
                    }
                    else if (rows == k && columns == k)
                    {
                        // As the scalar layer: each row's values added left to right, the rows' sums onto the total from +0.
                        value = TLanes.Zero;
                        for (int r = 0; r < k; r++)
                        {
                            TVector sum = TLanes.Load(ref window, (nuint)(r * row));
                            for (int q = 1; q < k; q++)
                            {
                                sum = TLanes.Add(sum, TLanes.Load(ref window, (nuint)((r * row) + (q * l))));
                            }

                            value = TLanes.Add(value, sum);
                        }

                        value = TLanes.Multiply(value, scale);
                    }
                    else
                    {
                        value = TLanes.Zero;
                        for (int r = 0; r < rows; r++)
                        {
                            for (int q = 0; q < columns; q++)
                            {
                                value = TLanes.Add(value, TLanes.Load(ref window, (nuint)((r * row) + (q * l))));
                            }
                        }

                        value = TLanes.Divide(value, TLanes.Splat(rows * columns));
                    }

                    TLanes.Store(value, ref target, 0);
                    target = ref Unsafe.Add(ref target, l);
                }
            }
        }
    }

    // The commonest window, 2 × 2 with stride 2 tiling the plane exactly (LeNet-5's two): no window is clipped, so each
    // output is its four loads in the general loop's order, with no counts or bounds per window.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PoolPairs<TLanes, TVector>(ref float input, ConvShape s, bool max, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        int l = TLanes.Count, row = s.Width * l;
        nuint right = (nuint)l, below = (nuint)row, diagonal = (nuint)(row + l);
        ref float target = ref output;
        for (int r = 0; r < s.Channels * s.OutHeight; r++)
        {
            // Output row r reads input rows 2r and 2r + 1: the planes' rows follow each other, channel after channel.
            ref float window = ref Unsafe.Add(ref input, 2 * r * row);
            for (int x = 0; x < s.OutWidth; x++)
            {
                TVector a = TLanes.Load(ref window, 0), b = TLanes.Load(ref window, right);
                TVector c = TLanes.Load(ref window, below), d = TLanes.Load(ref window, diagonal);
                TLanes.Store(max ? MaxOfFour<TLanes, TVector>(a, b, c, d) : AverageOfFour<TLanes, TVector>(a, b, c, d), ref target, 0);
                target = ref Unsafe.Add(ref target, l);
                window = ref Unsafe.Add(ref window, 2 * l);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalAverage<TLanes, TVector>(ref float input, int channels, int plane, ref float output)
        where TLanes : struct, ILanes<TVector>
        where TVector : struct
    {
        int l = TLanes.Count;
        TVector scale = TLanes.Splat(1f / plane);
        for (int c = 0; c < channels; c++)
        {
            ref float values = ref Unsafe.Add(ref input, c * plane * l);
            TVector sum = TLanes.Zero;
            for (int i = 0; i < plane; i++)
            {
                sum = TLanes.Add(sum, TLanes.Load(ref values, (nuint)(i * l)));
            }

            TLanes.Store(TLanes.Multiply(sum, scale), ref output, (nuint)(c * l));
        }
    }
}

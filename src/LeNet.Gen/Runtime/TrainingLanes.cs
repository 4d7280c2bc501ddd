using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Training on a chunk of examples at once, one example in each lane of a 256-bit vector: the forward pass, the loss and
/// the backward pass of up to <see cref="Count"/> examples (a chunk of <see cref="NetworkTraining{TKernels, TWorkspace}"/>)
/// run layer by layer, so every weight a kernel loads serves all of them. A generated network whose cost model chose this
/// pass calls these functions, with its shapes as literals, from its <c>TrainLanes</c> method. Not meant to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// Layout: as <see cref="ImageLanes"/>, with <see cref="Count"/> lanes: a tensor of <c>length</c> values per example is
/// <c>length</c> vectors, value <c>v</c> of example <c>n</c> at <c>[v · Count + n]</c>. The lanes of a chunk's missing
/// examples hold zeros and get a zero loss gradient, so they add nothing to any gradient.
/// </para>
/// <para>
/// The forward kernels are <see cref="ImageLanes"/>' own, run on 256-bit vectors. The backward kernels keep each example's
/// arithmetic in its lane; a weight gradient sums over the chunk's positions lane by lane, then over the lanes in a fixed
/// order. So a chunk's gradient depends only on its examples: any thread may compute it.
/// </para>
/// <para>
/// Why 256 bits on every machine: a chunk is <see cref="NetworkTraining{TKernels, TWorkspace}.ChunkSize"/> = 8 examples,
/// the unit of the fixed summation order that keeps results the same for any thread count. Where 512-bit multiply-adds
/// run at half rate (Zen 4), 256-bit vectors lose nothing; where they run at full rate, the network's cost model keeps the
/// single-example kernels, whose vectors are 16 wide.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TrainingLanes
{
    /// <summary>Examples per pass: the lanes of a 256-bit vector, and the training chunk.</summary>
    public const int Count = 8;

    /// <summary>True when the processor has the instructions (AVX2 and FMA); the pass does not run otherwise.</summary>
    public static bool Supported => Simd.Use256;

    /// <summary>
    /// Copies <paramref name="count"/> inputs of <paramref name="length"/> values each (one after another in
    /// <paramref name="inputs"/>) into the lanes of <paramref name="lanes"/>, and zeros the lanes of missing examples.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> inputs, int count, int length, Span<float> lanes) =>
        ImageLanes.GatherInto(inputs, count, length, lanes, Count);

    /// <summary>
    /// A convolution on the chunk, as <see cref="ImageLanes.Convolve"/> computes it for one lane:
    /// <c>out[f, y, x] = bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, s·y + i − p, s·x + j − p]</c>, then ReLU when
    /// <paramref name="relu"/> is set. <paramref name="padded"/> is scratch for the input with its zero border, of
    /// <see cref="ConvolutionScratch"/> values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Convolve(
        ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int filters, int kernel, int stride, int padding, int outHeight, int outWidth, bool relu, Span<float> padded, Span<float> output)
    {
        Require(output.Length >= filters * outHeight * outWidth * Count, "Convolve", channels, filters);
        var shape = ImageLanes.Padded(ref input, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, padded, "TrainingLanes.Convolve", Count);
        ref float x = ref MemoryMarshal.GetReference(input), w = ref MemoryMarshal.GetReference(weight), b = ref MemoryMarshal.GetReference(bias), o = ref MemoryMarshal.GetReference(output);
        if (relu)
        {
            ImageLanes.Convolve<Lanes256, Vector256<float>, Rectified>(ref x, ref w, ref b, shape, ref o);
        }
        else
        {
            ImageLanes.Convolve<Lanes256, Vector256<float>, Identity>(ref x, ref w, ref b, shape, ref o);
        }
    }

    /// <summary>
    /// Scratch values a convolution's forward and backward calls need: two copies of the input plane with its zero border
    /// (the input, and its gradient) when the layer pads or its windows leave part of the input unread, otherwise none.
    /// </summary>
    public static int ConvolutionScratch(int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        int paddedHeight = ((outHeight - 1) * stride) + kernel, paddedWidth = ((outWidth - 1) * stride) + kernel;
        bool copies = padding > 0 || paddedHeight != height || paddedWidth != width;
        return copies ? 2 * channels * paddedHeight * paddedWidth * Count : 0;
    }

    /// <summary>Max or average pooling on the chunk, as <see cref="ImageLanes.Pool"/> computes it for one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pool(ReadOnlySpan<float> input, int channels, int height, int width, int size, int stride, int outHeight, int outWidth, bool max, Span<float> output)
    {
        Require(input.Length >= channels * height * width * Count && output.Length >= channels * outHeight * outWidth * Count, "Pool", channels, size);
        var shape = new ImageLanes.ConvShape(channels, height, width, channels, size, stride, outHeight, outWidth);
        ImageLanes.Pool<Lanes256, Vector256<float>>(ref MemoryMarshal.GetReference(input), shape, max, ref MemoryMarshal.GetReference(output));
    }

    /// <summary>
    /// A dense layer on the chunk: <c>out[o] = bias[o] + Σ i weight[o, i] · in[i]</c> (the inputs added in order by fused
    /// multiply-adds from zero, then the bias), then ReLU when <paramref name="relu"/> is set.
    /// </summary>
    /// <remarks>
    /// Eight rows a register tile, one vector each: eight sums in flight, each input vector loaded once for all of them
    /// and each weight broadcast once for the chunk. The last tile repeats the last row.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dense(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int rows, int columns, bool relu, Span<float> output)
    {
        Require(input.Length >= columns * Count && weight.Length >= rows * columns && bias.Length >= rows && output.Length >= rows * Count, "Dense", rows, columns);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float target = ref MemoryMarshal.GetReference(output);
        for (int o = 0; o < rows; o += 8)
        {
            var r = new EightRows(o, rows);
            ref float w0 = ref Unsafe.Add(ref w, r.R0 * columns), w1 = ref Unsafe.Add(ref w, r.R1 * columns);
            ref float w2 = ref Unsafe.Add(ref w, r.R2 * columns), w3 = ref Unsafe.Add(ref w, r.R3 * columns);
            ref float w4 = ref Unsafe.Add(ref w, r.R4 * columns), w5 = ref Unsafe.Add(ref w, r.R5 * columns);
            ref float w6 = ref Unsafe.Add(ref w, r.R6 * columns), w7 = ref Unsafe.Add(ref w, r.R7 * columns);
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            for (int i = 0; i < columns; i++)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, (nuint)(i * Count));
                s0 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w0, i)), v, s0);
                s1 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w1, i)), v, s1);
                s2 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w2, i)), v, s2);
                s3 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w3, i)), v, s3);
                s4 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w4, i)), v, s4);
                s5 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w5, i)), v, s5);
                s6 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w6, i)), v, s6);
                s7 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref w7, i)), v, s7);
            }

            PutRow(s0, bias[r.R0], relu, ref target, r.R0);
            PutRow(s1, bias[r.R1], relu, ref target, r.R1);
            PutRow(s2, bias[r.R2], relu, ref target, r.R2);
            PutRow(s3, bias[r.R3], relu, ref target, r.R3);
            PutRow(s4, bias[r.R4], relu, ref target, r.R4);
            PutRow(s5, bias[r.R5], relu, ref target, r.R5);
            PutRow(s6, bias[r.R6], relu, ref target, r.R6);
            PutRow(s7, bias[r.R7], relu, ref target, r.R7);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutRow(Vector256<float> sum, float bias, bool relu, ref float output, int row)
    {
        Vector256<float> value = sum + Vector256.Create(bias);
        (relu ? Simd.Relu(value) : value).StoreUnsafe(ref output, (nuint)(row * Count));
    }

    // Rows (or columns) o … o + 7 of a tile, the last repeated past the end.
    private readonly struct EightRows(int o, int rows)
    {
        public readonly int R0 = o, R1 = Math.Min(o + 1, rows - 1), R2 = Math.Min(o + 2, rows - 1), R3 = Math.Min(o + 3, rows - 1);
        public readonly int R4 = Math.Min(o + 4, rows - 1), R5 = Math.Min(o + 5, rows - 1), R6 = Math.Min(o + 6, rows - 1), R7 = Math.Min(o + 7, rows - 1);
    }

    /// <summary>
    /// The softmax cross-entropy of the chunk's examples (one per label), and the gradient of
    /// <paramref name="scale"/> × their loss with respect to the logits: <c>(softmax(logits) − one-hot(label)) · scale</c>,
    /// zero in the lanes past the last label. Each example's loss and probabilities are
    /// <see cref="Softmax.CrossEntropy"/>'s and <see cref="Softmax.Apply"/>'s on its own logits. Returns the sum of the losses.
    /// </summary>
    /// <param name="logits">classes vectors.</param>
    /// <param name="labels">The chunk's labels, one per example.</param>
    /// <param name="classes">Logits per example.</param>
    /// <param name="scale">The factor of the batch mean, 1 / batch size.</param>
    /// <param name="scratch">At least 2 × classes values.</param>
    /// <param name="logitsGradient">Receives classes vectors.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Loss(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, float scale, Span<float> scratch, Span<float> logitsGradient)
    {
        int count = labels.Length;
        Require(count >= 1 && count <= Count && logits.Length >= classes * Count && scratch.Length >= 2 * classes && logitsGradient.Length >= classes * Count, "Loss", count, classes);
        Span<float> row = scratch.Slice(0, classes), probabilities = scratch.Slice(classes, classes);
        logitsGradient.Slice(0, classes * Count).Clear();
        float total = 0f;
        for (int n = 0; n < count; n++)
        {
            for (int k = 0; k < classes; k++)
            {
                row[k] = logits[(k * Count) + n];
            }

            int label = labels[n];
            total += Softmax.CrossEntropy(row, label);
            Softmax.Apply(row, probabilities);
            for (int k = 0; k < classes; k++)
            {
                logitsGradient[(k * Count) + n] = (probabilities[k] - (k == label ? 1f : 0f)) * scale;
            }
        }

        return total;
    }

    /// <summary>
    /// A dense layer's input gradient on the chunk: <c>din[i] = Σ o d[o] · weight[o, i]</c>, the rows added in order by
    /// fused multiply-adds from zero.
    /// </summary>
    /// <remarks>Eight columns a register tile: each row's eight weights side by side, broadcast once for the chunk.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DenseInputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> weight, int rows, int columns, Span<float> inputGradient)
    {
        Require(outputGradient.Length >= rows * Count && weight.Length >= rows * columns && inputGradient.Length >= columns * Count, "DenseInputGradient", rows, columns);
        ref float d = ref MemoryMarshal.GetReference(outputGradient);
        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float target = ref MemoryMarshal.GetReference(inputGradient);
        for (int i = 0; i < columns; i += 8)
        {
            var c = new EightRows(i, columns);
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            ref float row = ref w;
            for (int o = 0; o < rows; o++)
            {
                Vector256<float> g = Vector256.LoadUnsafe(ref d, (nuint)(o * Count));
                s0 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R0)), g, s0);
                s1 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R1)), g, s1);
                s2 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R2)), g, s2);
                s3 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R3)), g, s3);
                s4 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R4)), g, s4);
                s5 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R5)), g, s5);
                s6 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R6)), g, s6);
                s7 = Simd.MultiplyAdd(Vector256.Create(Unsafe.Add(ref row, c.R7)), g, s7);
                row = ref Unsafe.Add(ref row, columns);
            }

            s0.StoreUnsafe(ref target, (nuint)(c.R0 * Count));
            s1.StoreUnsafe(ref target, (nuint)(c.R1 * Count));
            s2.StoreUnsafe(ref target, (nuint)(c.R2 * Count));
            s3.StoreUnsafe(ref target, (nuint)(c.R3 * Count));
            s4.StoreUnsafe(ref target, (nuint)(c.R4 * Count));
            s5.StoreUnsafe(ref target, (nuint)(c.R5 * Count));
            s6.StoreUnsafe(ref target, (nuint)(c.R6 * Count));
            s7.StoreUnsafe(ref target, (nuint)(c.R7 * Count));
        }
    }

    /// <summary>
    /// A dense layer's weight and bias gradients from the chunk's first <paramref name="count"/> examples, example after
    /// example as the single-example pass adds them: <c>dbias[o] += d[o]</c> and <c>dweight[o, i] += d[o] · in[i]</c>.
    /// With <paramref name="batch"/>, the layer whose weights start at <paramref name="weightOffset"/> takes its weight
    /// gradient over the whole batch instead (<see cref="BatchGradients.Keep"/>, as example <paramref name="first"/> + n).
    /// <paramref name="scratch"/> holds at least rows + columns values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DenseWeightGradient(
        ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, int count, int rows, int columns, Span<float> weightGradient, Span<float> biasGradient,
        BatchGradients? batch, int weightOffset, int first, Span<float> scratch)
    {
        Require(count >= 1 && count <= Count && outputGradient.Length >= rows * Count && input.Length >= columns * Count
            && weightGradient.Length >= rows * columns && biasGradient.Length >= rows && scratch.Length >= rows + columns, "DenseWeightGradient", rows, columns);
        Span<float> d = scratch.Slice(0, rows), x = scratch.Slice(rows, columns);
        for (int n = 0; n < count; n++)
        {
            Lane(outputGradient, n, d);
            Lane(input, n, x);
            for (int o = 0; o < rows; o++)
            {
                biasGradient[o] += d[o];
            }

            if (batch is not null)
            {
                batch.Keep(weightOffset, first + n, d, x);
                continue;
            }

            for (int o = 0; o < rows; o++)
            {
                Simd.MultiplyAdd(x, d[o], weightGradient.Slice(o * columns, columns));
            }
        }
    }

    // Lane n of values.Length vectors, into values.
    private static void Lane(ReadOnlySpan<float> lanes, int n, Span<float> values)
    {
        ref float source = ref Unsafe.Add(ref MemoryMarshal.GetReference(lanes), n);
        for (int v = 0; v < values.Length; v++)
        {
            values[v] = Unsafe.Add(ref source, v * Count);
        }
    }

    /// <summary>
    /// A pooling layer's input gradient on the chunk. Max: each window's gradient goes to the first input (row by row)
    /// equal to its output, none when the output is NaN. Average: each input of a window gets the window's gradient
    /// times 1 / size² (a window clipped at the edge: divided by the inputs it covers). Overlapping windows add up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PoolBackward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, int channels, int height, int width,
        int size, int stride, int outHeight, int outWidth, bool max, Span<float> inputGradient)
    {
        int inLength = channels * height * width * Count, outLength = channels * outHeight * outWidth * Count;
        Require(input.Length >= inLength && output.Length >= outLength && outputGradient.Length >= outLength && inputGradient.Length >= inLength, "PoolBackward", channels, size);
        inputGradient.Slice(0, inLength).Clear();
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float y = ref MemoryMarshal.GetReference(output);
        ref float d = ref MemoryMarshal.GetReference(outputGradient);
        ref float g = ref MemoryMarshal.GetReference(inputGradient);
        int row = width * Count, plane = height * row;
        Vector256<float> full = Vector256.Create(1f / (size * size));
        int at = 0;
        for (int c = 0; c < channels; c++)
        {
            for (int oy = 0; oy < outHeight; oy++)
            {
                int rows = Math.Min(size, height - (oy * stride));
                for (int ox = 0; ox < outWidth; ox++, at += Count)
                {
                    int columns = Math.Min(size, width - (ox * stride));
                    int window = (c * plane) + (oy * stride * row) + (ox * stride * Count);
                    Vector256<float> gradient = Vector256.LoadUnsafe(ref d, (nuint)at);
                    if (max)
                    {
                        Vector256<float> value = Vector256.LoadUnsafe(ref y, (nuint)at);
                        Vector256<float> taken = Vector256<float>.Zero;
                        for (int r = 0; r < rows; r++)
                        {
                            for (int q = 0; q < columns; q++)
                            {
                                nuint k = (nuint)(window + (r * row) + (q * Count));
                                Vector256<float> first = Vector256.AndNot(Vector256.Equals(Vector256.LoadUnsafe(ref x, k), value), taken);
                                (Vector256.LoadUnsafe(ref g, k) + (gradient & first)).StoreUnsafe(ref g, k);
                                taken |= first;
                            }
                        }
                    }
                    else
                    {
                        Vector256<float> share = rows == size && columns == size ? gradient * full : gradient / Vector256.Create((float)(rows * columns));
                        for (int r = 0; r < rows; r++)
                        {
                            for (int q = 0; q < columns; q++)
                            {
                                nuint k = (nuint)(window + (r * row) + (q * Count));
                                (Vector256.LoadUnsafe(ref g, k) + share).StoreUnsafe(ref g, k);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A convolution's backward pass on the chunk, from the gradient of its output (after the activation's derivative):
    /// <c>dbias[f] += Σ d[f, y, x]</c>, <c>dweight[f, c, i, j] += Σ d[f, y, x] · in[c, s·y + i − p, s·x + j − p]</c> (each
    /// over the positions lane by lane, then over the lanes), and, unless <paramref name="inputGradient"/> is empty (the
    /// network's first layer), <c>din[c, s·y + i − p, s·x + j − p] = Σ d[f, y, x] · weight[f, c, i, j]</c>.
    /// <paramref name="scratch"/> holds <see cref="ConvolutionScratch"/> values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConvolveBackward(
        ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> outputGradient,
        int filters, int kernel, int stride, int padding, int outHeight, int outWidth, Span<float> scratch,
        Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient)
    {
        int paddedHeight = ((outHeight - 1) * stride) + kernel, paddedWidth = ((outWidth - 1) * stride) + kernel;
        bool copies = padding > 0 || paddedHeight != height || paddedWidth != width;
        int paddedLength = channels * paddedHeight * paddedWidth * Count;
        Require(
            input.Length >= channels * height * width * Count && weight.Length >= filters * channels * kernel * kernel
            && outputGradient.Length >= filters * outHeight * outWidth * Count && weightGradient.Length >= filters * channels * kernel * kernel
            && biasGradient.Length >= filters && (inputGradient.IsEmpty || inputGradient.Length >= channels * height * width * Count)
            && (!copies || scratch.Length >= 2 * paddedLength),
            "ConvolveBackward", channels, filters);
        ReadOnlySpan<float> x = input;
        Span<float> gradientPlane = inputGradient;
        if (copies)
        {
            ImageLanes.Pad(input, channels, height, width, padding, paddedHeight, paddedWidth, scratch, Count);
            x = scratch.Slice(0, paddedLength);
            gradientPlane = inputGradient.IsEmpty ? default : scratch.Slice(paddedLength, paddedLength);
        }

        var s = new ImageLanes.ConvShape(channels, paddedHeight, paddedWidth, filters, kernel, stride, outHeight, outWidth);
        ref float d = ref MemoryMarshal.GetReference(outputGradient);
        BiasGradient(ref d, filters, outHeight * outWidth, biasGradient);
        WeightGradient(ref MemoryMarshal.GetReference(x), s, ref d, weightGradient);
        if (inputGradient.IsEmpty)
        {
            return;
        }

        gradientPlane.Slice(0, channels * paddedHeight * paddedWidth * Count).Clear();
        InputGradient(ref MemoryMarshal.GetReference(weight), s, ref d, ref MemoryMarshal.GetReference(gradientPlane));
        if (copies)
        {
            // The gradient of the input proper: the padded plane without its border; rows and columns no window reached get 0.
            inputGradient.Slice(0, channels * height * width * Count).Clear();
            int rows = Math.Min(height, paddedHeight - padding), columns = Math.Min(width, paddedWidth - padding);
            for (int c = 0; c < channels; c++)
            {
                for (int r = 0; r < rows; r++)
                {
                    gradientPlane.Slice(((((c * paddedHeight) + r + padding) * paddedWidth) + padding) * Count, columns * Count)
                        .CopyTo(inputGradient.Slice(((c * height) + r) * width * Count));
                }
            }
        }
    }

    // dbias[f] += the sum of the filter's gradient vectors (four running sums, added pairwise), then of its lanes.
    private static void BiasGradient(ref float d, int filters, int positions, Span<float> biasGradient)
    {
        for (int f = 0; f < filters; f++)
        {
            ref float plane = ref Unsafe.Add(ref d, f * positions * Count);
            Vector256<float> a = Vector256<float>.Zero, b = a, c = a, e = a;
            int p = 0;
            for (; p <= positions - 4; p += 4)
            {
                a += Vector256.LoadUnsafe(ref plane, (nuint)(p * Count));
                b += Vector256.LoadUnsafe(ref plane, (nuint)((p + 1) * Count));
                c += Vector256.LoadUnsafe(ref plane, (nuint)((p + 2) * Count));
                e += Vector256.LoadUnsafe(ref plane, (nuint)((p + 3) * Count));
            }

            for (; p < positions; p++)
            {
                a += Vector256.LoadUnsafe(ref plane, (nuint)(p * Count));
            }

            biasGradient[f] += Across((a + b) + (c + e));
        }
    }

    // The sum of a vector's lanes, in a fixed order: halves, then quarters, then pairs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Across(Vector256<float> v)
    {
        Vector128<float> h = v.GetLower() + v.GetUpper();
        return (h.GetElement(0) + h.GetElement(2)) + (h.GetElement(1) + h.GetElement(3));
    }

    // The weight gradient by register tiles of two filters × up to six consecutive taps of one kernel row: twelve sums
    // over every output position, whose inputs sit at fixed distances from the window's first (no index per tap); per
    // position two gradient vectors and one input vector per tap are loaded. A tile at the last filter repeats it and adds
    // only the real one.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradient(ref float x, ImageLanes.ConvShape s, ref float d, Span<float> weightGradient)
    {
        int k = s.Kernel, taps = s.Channels * k * k, positions = s.OutHeight * s.OutWidth;
        int row = s.Width * Count, plane = s.Height * row;
        ref float wg = ref MemoryMarshal.GetReference(weightGradient);
        for (int f = 0; f < s.Filters; f += 2)
        {
            int f1 = Math.Min(f + 1, s.Filters - 1);
            ref float d0 = ref Unsafe.Add(ref d, f * positions * Count);
            ref float d1 = ref Unsafe.Add(ref d, f1 * positions * Count);
            for (int c = 0; c < s.Channels; c++)
            {
                for (int i = 0; i < k; i++)
                {
                    for (int j = 0; j < k; j += 6)
                    {
                        ref float start = ref Unsafe.Add(ref x, (c * plane) + (i * row) + (j * Count));
                        int tap = (((c * k) + i) * k) + j;
                        ref float w0 = ref Unsafe.Add(ref wg, (f * taps) + tap);
                        ref float w1 = ref Unsafe.Add(ref wg, (f1 * taps) + tap);
                        switch (Math.Min(6, k - j))
                        {
                            case 6: WeightRow<Six>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                            case 5: WeightRow<Five>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                            case 4: WeightRow<Four>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                            case 3: WeightRow<Three>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                            case 2: WeightRow<Two>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                            default: WeightRow<One>(ref start, ref d0, ref d1, s, ref w0, ref w1, f1 != f); break;
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightRow<TTaps>(ref float start, ref float d0, ref float d1, ImageLanes.ConvShape s, ref float w0, ref float w1, bool second)
        where TTaps : struct, ICount
    {
        int n = TTaps.Value, step = s.Stride * Count, down = s.Stride * s.Width * Count;
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0;
        ref float g0 = ref d0, g1 = ref d1;
        for (int oy = 0; oy < s.OutHeight; oy++)
        {
            ref float window = ref Unsafe.Add(ref start, oy * down);
            for (int ox = 0; ox < s.OutWidth; ox++)
            {
                Vector256<float> e0 = Vector256.LoadUnsafe(ref g0), e1 = Vector256.LoadUnsafe(ref g1);
                Vector256<float> v = Vector256.LoadUnsafe(ref window);
                a0 = Simd.MultiplyAdd(e0, v, a0);
                b0 = Simd.MultiplyAdd(e1, v, b0);
                if (n > 1)
                {
                    v = Vector256.LoadUnsafe(ref window, Count);
                    a1 = Simd.MultiplyAdd(e0, v, a1);
                    b1 = Simd.MultiplyAdd(e1, v, b1);
                }

                if (n > 2)
                {
                    v = Vector256.LoadUnsafe(ref window, 2 * Count);
                    a2 = Simd.MultiplyAdd(e0, v, a2);
                    b2 = Simd.MultiplyAdd(e1, v, b2);
                }

                if (n > 3)
                {
                    v = Vector256.LoadUnsafe(ref window, 3 * Count);
                    a3 = Simd.MultiplyAdd(e0, v, a3);
                    b3 = Simd.MultiplyAdd(e1, v, b3);
                }

                if (n > 4)
                {
                    v = Vector256.LoadUnsafe(ref window, 4 * Count);
                    a4 = Simd.MultiplyAdd(e0, v, a4);
                    b4 = Simd.MultiplyAdd(e1, v, b4);
                }

                if (n > 5)
                {
                    v = Vector256.LoadUnsafe(ref window, 5 * Count);
                    a5 = Simd.MultiplyAdd(e0, v, a5);
                    b5 = Simd.MultiplyAdd(e1, v, b5);
                }

                window = ref Unsafe.Add(ref window, step);
                g0 = ref Unsafe.Add(ref g0, Count);
                g1 = ref Unsafe.Add(ref g1, Count);
            }
        }

        AddAcross<TTaps>(ref w0, a0, a1, a2, a3, a4, a5);
        if (second)
        {
            AddAcross<TTaps>(ref w1, b0, b1, b2, b3, b4, b5);
        }
    }

    // target[q] += the lanes' sum of the q-th vector, for the tile's taps.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddAcross<TTaps>(ref float target, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, Vector256<float> v4, Vector256<float> v5)
        where TTaps : struct, ICount
    {
        int n = TTaps.Value;
        target += Across(v0);
        if (n > 1) Unsafe.Add(ref target, 1) += Across(v1);
        if (n > 2) Unsafe.Add(ref target, 2) += Across(v2);
        if (n > 3) Unsafe.Add(ref target, 3) += Across(v3);
        if (n > 4) Unsafe.Add(ref target, 4) += Across(v4);
        if (n > 5) Unsafe.Add(ref target, 5) += Across(v5);
    }

    // din on the padded plane by register tiles of two neighbouring output positions × up to six consecutive taps of one
    // kernel row of one channel: each sum is Σ f weight[f, c, i, j] · d[f, position] (per filter two gradient vectors and a
    // broadcast weight per tap), then added to the value that tap of that position's window reaches. The pairs go
    // outermost, so their gradient vectors stay in the first-level cache while every channel and tap uses them. Each value
    // of the plane sums its contributions in a fixed order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradient(ref float weight, ImageLanes.ConvShape s, ref float d, ref float g)
    {
        int k = s.Kernel, kk = k * k, taps = s.Channels * kk, positions = s.OutHeight * s.OutWidth;
        int row = s.Width * Count, plane = s.Height * row;
        for (int oy = 0; oy < s.OutHeight; oy++)
        {
            for (int ox = 0; ox < s.OutWidth; ox += 2)
            {
                int p = (oy * s.OutWidth) + ox;
                bool second = ox + 1 < s.OutWidth;
                ref float dp = ref Unsafe.Add(ref d, p * Count);
                int corner = (oy * s.Stride * row) + (ox * s.Stride * Count);
                int next = second ? s.Stride * Count : 0;
                for (int c = 0; c < s.Channels; c++)
                {
                    for (int i = 0; i < k; i++)
                    {
                        for (int j = 0; j < k; j += 6)
                        {
                            ref float w = ref Unsafe.Add(ref weight, (((c * k) + i) * k) + j);
                            ref float target = ref Unsafe.Add(ref g, corner + (c * plane) + (i * row) + (j * Count));
                            switch (Math.Min(6, k - j))
                            {
                                case 6: InputRow<Six>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                                case 5: InputRow<Five>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                                case 4: InputRow<Four>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                                case 3: InputRow<Three>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                                case 2: InputRow<Two>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                                default: InputRow<One>(ref w, taps, ref dp, positions, s.Filters, ref target, next); break;
                            }
                        }
                    }
                }
            }
        }
    }

    // One tile of InputGradient: next is the second position's offset in the plane from the first's, 0 when there is none
    // (its sums are then not added).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputRow<TTaps>(ref float w, int taps, ref float dp, int positions, int filters, ref float target, int next)
        where TTaps : struct, ICount
    {
        int n = TTaps.Value;
        nuint other = next == 0 ? 0 : (nuint)Count;
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0;
        ref float e = ref dp;
        for (int f = 0; f < filters; f++)
        {
            Vector256<float> e0 = Vector256.LoadUnsafe(ref e), e1 = Vector256.LoadUnsafe(ref e, other);
            Vector256<float> k0 = Vector256.Create(w);
            a0 = Simd.MultiplyAdd(k0, e0, a0);
            b0 = Simd.MultiplyAdd(k0, e1, b0);
            if (n > 1)
            {
                k0 = Vector256.Create(Unsafe.Add(ref w, 1));
                a1 = Simd.MultiplyAdd(k0, e0, a1);
                b1 = Simd.MultiplyAdd(k0, e1, b1);
            }

            if (n > 2)
            {
                k0 = Vector256.Create(Unsafe.Add(ref w, 2));
                a2 = Simd.MultiplyAdd(k0, e0, a2);
                b2 = Simd.MultiplyAdd(k0, e1, b2);
            }

            if (n > 3)
            {
                k0 = Vector256.Create(Unsafe.Add(ref w, 3));
                a3 = Simd.MultiplyAdd(k0, e0, a3);
                b3 = Simd.MultiplyAdd(k0, e1, b3);
            }

            if (n > 4)
            {
                k0 = Vector256.Create(Unsafe.Add(ref w, 4));
                a4 = Simd.MultiplyAdd(k0, e0, a4);
                b4 = Simd.MultiplyAdd(k0, e1, b4);
            }

            if (n > 5)
            {
                k0 = Vector256.Create(Unsafe.Add(ref w, 5));
                a5 = Simd.MultiplyAdd(k0, e0, a5);
                b5 = Simd.MultiplyAdd(k0, e1, b5);
            }

            e = ref Unsafe.Add(ref e, positions * Count);
            w = ref Unsafe.Add(ref w, taps);
        }

        AddVectors<TTaps>(ref target, a0, a1, a2, a3, a4, a5);
        if (next != 0)
        {
            AddVectors<TTaps>(ref Unsafe.Add(ref target, next), b0, b1, b2, b3, b4, b5);
        }
    }

    // target's q-th vector += the q-th sum, for the tile's taps, in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddVectors<TTaps>(ref float target, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, Vector256<float> v4, Vector256<float> v5)
        where TTaps : struct, ICount
    {
        int n = TTaps.Value;
        AddTo(ref target, 0, v0);
        if (n > 1) AddTo(ref target, Count, v1);
        if (n > 2) AddTo(ref target, 2 * Count, v2);
        if (n > 3) AddTo(ref target, 3 * Count, v3);
        if (n > 4) AddTo(ref target, 4 * Count, v4);
        if (n > 5) AddTo(ref target, 5 * Count, v5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(ref float target, int at, Vector256<float> value) =>
        (Vector256.LoadUnsafe(ref target, (nuint)at) + value).StoreUnsafe(ref target, (nuint)at);

    private static void Require(bool holds, string function, int first, int second)
    {
        if (!holds)
        {
            throw new ArgumentException($"TrainingLanes.{function}({first}, {second}, …): a span is shorter than the shapes require, or the chunk is empty or larger than {Count} examples.");
        }
    }
}

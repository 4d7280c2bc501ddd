using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// A stride-1 convolution's input gradient as one matrix product and a scatter: first
/// <c>V[(c, i, j), p] = Σ f weight[f, c, i, j] · d[f, p]</c> for every output position p, then
/// <c>din[c, y + i, x + j] += V[(c, i, j), (y, x)]</c>. It does exactly the multiply-adds the gradient needs, where the
/// convolution of the padded output gradient with the turned kernels also multiplies the padding's zeros: for a layer
/// whose outputs are few next to its kernel (LeNet-5's conv2: 10×10 outputs of a 5×5 kernel) that is 2.5 times fewer
/// multiply-adds. The generator's cost model picks it per layer. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ColumnGradient
{
    private const int Lanes = 8;

    /// <summary>Output positions rounded up to whole vectors: the row length of the padded gradient and of V.</summary>
    public static int PaddedPositions(int outHeight, int outWidth) => ((outHeight * outWidth) + Lanes - 1) / Lanes * Lanes;

    /// <summary>The scratch <see cref="InputGradient"/> needs: the output gradient with padded rows, then V.</summary>
    public static int ScratchLength(int filters, int channels, int kernel, int outHeight, int outWidth) =>
        (filters + (channels * kernel * kernel)) * PaddedPositions(outHeight, outWidth);

    /// <summary>
    /// Writes the input gradient <paramref name="inputGradient"/> (channels × height × width, the grid the forward window
    /// read, height = outHeight + kernel − 1 and width likewise) of a stride-1 convolution from its output gradient
    /// (filters × outHeight × outWidth) and its weights (filters × channels × kernel × kernel), with AVX2 and FMA.
    /// </summary>
    /// <exception cref="ArgumentException">A span shorter than the sizes need, or a grid that does not match the kernel.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(
        ReadOnlySpan<float> outputGradient,
        ReadOnlySpan<float> weight,
        int filters,
        int channels,
        int kernel,
        int outHeight,
        int outWidth,
        Span<float> inputGradient,
        int height,
        int width,
        Span<float> scratch)
    {
        if (filters < 1 || channels < 1 || kernel < 1 || outHeight < 1 || outWidth < 1 || height != outHeight + kernel - 1 || width != outWidth + kernel - 1)
        {
            throw new ArgumentException($"ColumnGradient: {filters} filters, {channels} channels, kernel {kernel}, output {outHeight}×{outWidth} and input grid {height}×{width} do not make a stride-1 convolution.");
        }

        int positions = outHeight * outWidth, padded = PaddedPositions(outHeight, outWidth), rows = channels * kernel * kernel;
        if (outputGradient.Length < filters * positions || weight.Length < filters * rows || inputGradient.Length < channels * height * width
            || scratch.Length < ScratchLength(filters, channels, kernel, outHeight, outWidth))
        {
            throw new ArgumentException(
                $"ColumnGradient: output gradient {outputGradient.Length} (needs {filters * positions}), weights {weight.Length} (needs {filters * rows}), input gradient {inputGradient.Length} (needs {channels * height * width}), scratch {scratch.Length} (needs {ScratchLength(filters, channels, kernel, outHeight, outWidth)}).");
        }

        Span<float> d = scratch.Slice(0, filters * padded);
        Span<float> v = scratch.Slice(filters * padded, rows * padded);
        for (int f = 0; f < filters; f++)
        {
            outputGradient.Slice(f * positions, positions).CopyTo(d.Slice(f * padded));
            d.Slice((f * padded) + positions, padded - positions).Clear();
        }

        // V[r, p] = Σ f w[f, r] · d[f, p]: A = wᵀ, read in place (row r at r, filter f at f·rows).
        MatrixProduct.Multiply(weight, 1, rows, d, v, rows, filters, padded / Lanes);
        Scatter(v, channels, kernel, outHeight, outWidth, padded, inputGradient, height, width);
    }

    // din[c, y + i, x + j] += V[(c, i, j), y·outWidth + x]; din starts at zero. For each channel the taps go column by
    // column (j, then i): the rows a column's taps add into all start at the same offset j, so each load of a row finds
    // the vector the last store to it left (the stores of the tap to its left, one float over, would have to reach the
    // cache first: a stall per vector).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(ReadOnlySpan<float> columns, int channels, int kernel, int outHeight, int outWidth, int padded, Span<float> inputGradient, int height, int width)
    {
        inputGradient.Slice(0, channels * height * width).Clear();
        ref float v = ref MemoryMarshal.GetReference(columns);
        ref float g = ref MemoryMarshal.GetReference(inputGradient);
        int vectorWidth = outWidth / Lanes * Lanes;
        for (int c = 0; c < channels; c++)
        {
            for (int j = 0; j < kernel; j++)
            {
                for (int i = 0; i < kernel; i++)
                {
                    ref float from = ref Unsafe.Add(ref v, (((c * kernel) + i) * kernel + j) * padded);
                    ref float to = ref Unsafe.Add(ref g, (((c * height) + i) * width) + j);
                    for (int y = 0; y < outHeight; y++)
                    {
                        int x = 0;
                        for (; x < vectorWidth; x += Lanes)
                        {
                            (Vector256.LoadUnsafe(ref to, (nuint)x) + Vector256.LoadUnsafe(ref from, (nuint)x)).StoreUnsafe(ref to, (nuint)x);
                        }

                        if (x + 4 <= outWidth)
                        {
                            (Vector128.LoadUnsafe(ref to, (nuint)x) + Vector128.LoadUnsafe(ref from, (nuint)x)).StoreUnsafe(ref to, (nuint)x);
                            x += 4;
                        }

                        if (x + 2 <= outWidth)
                        {
                            // Two floats as one 64-bit lane.
                            ref double pair = ref Unsafe.As<float, double>(ref Unsafe.Add(ref to, x));
                            var sum = Vector128.CreateScalar(pair).AsSingle() + Vector128.CreateScalar(Unsafe.As<float, double>(ref Unsafe.Add(ref from, x))).AsSingle();
                            pair = sum.AsDouble().ToScalar();
                            x += 2;
                        }

                        if (x < outWidth)
                        {
                            Unsafe.Add(ref to, x) += Unsafe.Add(ref from, x);
                        }

                        from = ref Unsafe.Add(ref from, outWidth);
                        to = ref Unsafe.Add(ref to, width);
                    }
                }
            }
        }
    }
}

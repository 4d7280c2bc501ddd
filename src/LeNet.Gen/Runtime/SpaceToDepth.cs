using System;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Space-to-depth for strided convolutions: a stride-s convolution with C input channels and K×K kernels equals a
/// stride-1 convolution over C·s² "phase planes" with K'×K' kernels, K' = ⌈K / s⌉, which the generated code computes
/// with its stride-1 vector kernels. Not meant to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// Phase plane (c, a, b), for a, b in [0, s), holds every s-th value of channel c starting at row a, column b:
/// <c>P[(c, a, b), u, v] = X[c, s·u + a, s·v + b]</c>, zero where that falls outside X. The planes are stored channel
/// first, plane index <c>(c·s + a)·s + b</c>, each <c>planeHeight × planeWidth</c>.
/// </para>
/// <para>
/// The sub-kernels are <c>W'[f, (c, a, b), i', j'] = W[f, c, s·i' + a, s·j' + b]</c>, zero where s·i' + a or s·j' + b
/// reaches K. Then <c>Σ c,i,j W[f, c, i, j] · X[c, s·y + i, s·x + j] = Σ (c,a,b),i',j' W'[f, (c,a,b), i', j'] · P[(c,a,b), y + i', x + j']</c>,
/// with i = s·i' + a and j = s·j' + b.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SpaceToDepth
{
    /// <summary>The side of the sub-kernels, ⌈<paramref name="kernel"/> / <paramref name="stride"/>⌉.</summary>
    public static int SubKernel(int kernel, int stride)
    {
        Positive(kernel, nameof(kernel));
        Positive(stride, nameof(stride));
        return ((kernel - 1) / stride) + 1;
    }

    /// <summary>
    /// Writes the phase planes of <paramref name="source"/> (C×H×W) into <paramref name="planes"/>: every one of the
    /// C·s²·planeHeight·planeWidth values, zero where a plane reaches past the source.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split(ReadOnlySpan<float> source, int channels, int height, int width, int stride, Span<float> planes, int planeHeight, int planeWidth)
    {
        CheckShape(channels, height, width, stride, planeHeight, planeWidth);
        AtLeast(source.Length, (long)channels * height * width, nameof(source));
        AtLeast(planes.Length, (long)channels * stride * stride * planeHeight * planeWidth, nameof(planes));

        // The lengths were checked above, so the loops walk references without further bounds checks. The generated code
        // calls this once per example; with spans sliced per row it cost as much as the convolution it feeds.
        ref float input = ref MemoryMarshal.GetReference(source);
        ref float output = ref MemoryMarshal.GetReference(planes);
        int plane = planeHeight * planeWidth;
        for (int c = 0; c < channels; c++)
        {
            for (int a = 0; a < stride; a++)
            {
                for (int b = 0; b < stride; b++)
                {
                    int taken = Math.Min(planeWidth, PhaseCount(width, b, stride)); // columns b, b + s, … inside the source
                    ref float target = ref Unsafe.Add(ref output, (nint)((((c * stride) + a) * stride) + b) * plane);
                    for (int u = 0; u < planeHeight; u++)
                    {
                        ref float row = ref Unsafe.Add(ref target, u * planeWidth);
                        int y = (stride * u) + a, v = 0;
                        if (y < height)
                        {
                            ref float line = ref Unsafe.Add(ref input, (((nint)c * height) + y) * width + b);
                            for (; v < taken; v++)
                            {
                                Unsafe.Add(ref row, v) = Unsafe.Add(ref line, v * stride);
                            }
                        }

                        for (; v < planeWidth; v++)
                        {
                            Unsafe.Add(ref row, v) = 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The reverse of <see cref="Split"/> for gradients: writes every value of <paramref name="target"/> (C×H×W), the
    /// value of its phase plane where one holds it and zero where the planes end before the target does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Merge(ReadOnlySpan<float> planes, int channels, int stride, int planeHeight, int planeWidth, Span<float> target, int height, int width)
    {
        CheckShape(channels, height, width, stride, planeHeight, planeWidth);
        AtLeast(planes.Length, (long)channels * stride * stride * planeHeight * planeWidth, nameof(planes));
        AtLeast(target.Length, (long)channels * height * width, nameof(target));
        ref float input = ref MemoryMarshal.GetReference(planes);
        ref float output = ref MemoryMarshal.GetReference(target);
        int plane = planeHeight * planeWidth;
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                ref float line = ref Unsafe.Add(ref output, (((nint)c * height) + y) * width);
                int u = y / stride, a = y % stride;
                for (int b = 0; b < stride && b < width; b++)
                {
                    // Columns b, b + s, … of this row come from plane (c, a, b), row u; zero past the plane's edge.
                    int count = PhaseCount(width, b, stride), v = 0;
                    if (u < planeHeight)
                    {
                        ref float row = ref Unsafe.Add(ref input, ((nint)((((c * stride) + a) * stride) + b) * plane) + (u * planeWidth));
                        for (int taken = Math.Min(count, planeWidth); v < taken; v++)
                        {
                            Unsafe.Add(ref line, b + (v * stride)) = Unsafe.Add(ref row, v);
                        }
                    }

                    for (; v < count; v++)
                    {
                        Unsafe.Add(ref line, b + (v * stride)) = 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes the sub-kernels <c>W'</c> (F × C·s² × K' × K') of <paramref name="weight"/> (F × C × K × K) into
    /// <paramref name="rearranged"/>: every value, zero at the taps past the kernel's edge.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RearrangeWeights(ReadOnlySpan<float> weight, int filters, int channels, int kernel, int stride, Span<float> rearranged)
    {
        int sub = SubKernel(kernel, stride);
        CheckWeights(weight.Length, rearranged.Length, filters, channels, kernel, stride, sub, nameof(weight), nameof(rearranged));
        int kk = kernel * kernel, block = stride * stride * sub * sub;
        Span<int> map = kk <= 1024 ? stackalloc int[kk] : new int[kk];
        TapMap(kernel, stride, sub, map);
        ref int at = ref MemoryMarshal.GetReference(map);
        ref float source = ref MemoryMarshal.GetReference(weight);
        ref float target = ref MemoryMarshal.GetReference(rearranged);
        for (int fc = 0; fc < filters * channels; fc++)
        {
            // One kernel's taps go to their places in its block of sub-kernels. When s·K' > K some places have no tap;
            // the block is cleared first so that they stay zero.
            ref float w = ref Unsafe.Add(ref source, (nint)fc * kk);
            ref float t = ref Unsafe.Add(ref target, (nint)fc * block);
            if (block != kk)
            {
                Unsafe.InitBlockUnaligned(ref Unsafe.As<float, byte>(ref t), 0, (uint)block * sizeof(float));
            }

            for (int k = 0; k < kk; k++)
            {
                Unsafe.Add(ref t, Unsafe.Add(ref at, k)) = Unsafe.Add(ref w, k);
            }
        }
    }

    /// <summary>
    /// Adds the gradient of the sub-kernels, <paramref name="rearrangedGradient"/> (F × C·s² × K' × K'), to the gradient of
    /// the kernels, <paramref name="weightGradient"/> (F × C × K × K): <c>dW[f, c, s·i' + a, s·j' + b] += dW'[f, (c, a, b), i', j']</c>
    /// for the taps inside the kernel; the gradients of the taps past its edge are dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldWeightGradient(ReadOnlySpan<float> rearrangedGradient, int filters, int channels, int kernel, int stride, Span<float> weightGradient)
    {
        int sub = SubKernel(kernel, stride);
        CheckWeights(weightGradient.Length, rearrangedGradient.Length, filters, channels, kernel, stride, sub, nameof(weightGradient), nameof(rearrangedGradient));
        int kk = kernel * kernel, block = stride * stride * sub * sub;
        Span<int> map = kk <= 1024 ? stackalloc int[kk] : new int[kk];
        TapMap(kernel, stride, sub, map);
        ref int at = ref MemoryMarshal.GetReference(map);
        ref float source = ref MemoryMarshal.GetReference(rearrangedGradient);
        ref float target = ref MemoryMarshal.GetReference(weightGradient);
        for (int fc = 0; fc < filters * channels; fc++)
        {
            // The reverse of RearrangeWeights: each tap takes the gradient of its place in the block.
            ref float dw = ref Unsafe.Add(ref target, (nint)fc * kk);
            ref float t = ref Unsafe.Add(ref source, (nint)fc * block);
            for (int k = 0; k < kk; k++)
            {
                Unsafe.Add(ref dw, k) += Unsafe.Add(ref t, Unsafe.Add(ref at, k));
            }
        }
    }

    // Where each tap of a K×K kernel goes in its block of sub-kernels: tap (i, j) = (s·i' + a, s·j' + b) to sub-kernel
    // (a, b), place (i', j'), which is offset ((a·s + b)·K' + i')·K' + j' in the block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TapMap(int kernel, int stride, int sub, Span<int> map)
    {
        for (int i = 0; i < kernel; i++)
        {
            for (int j = 0; j < kernel; j++)
            {
                int a = i % stride, b = j % stride;
                map[(i * kernel) + j] = (((((a * stride) + b) * sub) + (i / stride)) * sub) + (j / stride);
            }
        }
    }

    // How many of the columns b, b + s, b + 2s, … lie below width.
    private static int PhaseCount(int width, int b, int stride) => b < width ? ((width - b - 1) / stride) + 1 : 0;

    private static void CheckShape(int channels, int height, int width, int stride, int planeHeight, int planeWidth)
    {
        Positive(channels, nameof(channels));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        Positive(stride, nameof(stride));
        Positive(planeHeight, nameof(planeHeight));
        Positive(planeWidth, nameof(planeWidth));
    }

    private static void CheckWeights(int weightLength, int rearrangedLength, int filters, int channels, int kernel, int stride, int sub, string weightName, string rearrangedName)
    {
        Positive(filters, nameof(filters));
        Positive(channels, nameof(channels));
        AtLeast(weightLength, (long)filters * channels * kernel * kernel, weightName);
        AtLeast(rearrangedLength, (long)filters * channels * stride * stride * sub * sub, rearrangedName);
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be at least 1.");
        }
    }

    private static void AtLeast(int length, long needed, string name)
    {
        if (length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} has {length} values, but the shapes need {needed}."), name);
        }
    }
}

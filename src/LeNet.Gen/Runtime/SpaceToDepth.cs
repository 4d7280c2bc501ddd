using System;
using System.ComponentModel;
using System.Globalization;

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
    public static void Split(ReadOnlySpan<float> source, int channels, int height, int width, int stride, Span<float> planes, int planeHeight, int planeWidth)
    {
        CheckShape(channels, height, width, stride, planeHeight, planeWidth);
        AtLeast(source.Length, (long)channels * height * width, nameof(source));
        AtLeast(planes.Length, (long)channels * stride * stride * planeHeight * planeWidth, nameof(planes));
        int plane = planeHeight * planeWidth;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> channel = source.Slice(c * height * width, height * width);
            for (int a = 0; a < stride; a++)
            {
                for (int b = 0; b < stride; b++)
                {
                    Span<float> target = planes.Slice((((c * stride) + a) * stride + b) * plane, plane);
                    for (int u = 0; u < planeHeight; u++)
                    {
                        Span<float> row = target.Slice(u * planeWidth, planeWidth);
                        int y = (stride * u) + a;
                        int v = 0;
                        if (y < height)
                        {
                            ReadOnlySpan<float> line = channel.Slice(y * width, width);
                            for (int x = b; v < planeWidth && x < width; v++, x += stride)
                            {
                                row[v] = line[x];
                            }
                        }

                        row.Slice(v).Clear();
                    }
                }
            }
        }
    }

    /// <summary>
    /// The reverse of <see cref="Split"/> for gradients: writes every value of <paramref name="target"/> (C×H×W), the
    /// value of its phase plane where one holds it and zero where the planes end before the target does.
    /// </summary>
    public static void Merge(ReadOnlySpan<float> planes, int channels, int stride, int planeHeight, int planeWidth, Span<float> target, int height, int width)
    {
        CheckShape(channels, height, width, stride, planeHeight, planeWidth);
        AtLeast(planes.Length, (long)channels * stride * stride * planeHeight * planeWidth, nameof(planes));
        AtLeast(target.Length, (long)channels * height * width, nameof(target));
        int plane = planeHeight * planeWidth;
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                Span<float> line = target.Slice(((c * height) + y) * width, width);
                int u = y / stride, a = y % stride;
                if (u >= planeHeight)
                {
                    line.Clear();
                    continue;
                }

                for (int x = 0; x < width; x++)
                {
                    int v = x / stride, b = x % stride;
                    line[x] = v < planeWidth ? planes[((((c * stride) + a) * stride + b) * plane) + (u * planeWidth) + v] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Writes the sub-kernels <c>W'</c> (F × C·s² × K' × K') of <paramref name="weight"/> (F × C × K × K) into
    /// <paramref name="rearranged"/>: every value, zero at the taps past the kernel's edge.
    /// </summary>
    public static void RearrangeWeights(ReadOnlySpan<float> weight, int filters, int channels, int kernel, int stride, Span<float> rearranged)
    {
        int sub = SubKernel(kernel, stride);
        CheckWeights(weight.Length, rearranged.Length, filters, channels, kernel, stride, sub, nameof(weight), nameof(rearranged));
        int kk = kernel * kernel, block = stride * stride * sub * sub, phase = sub * sub;
        for (int fc = 0; fc < filters * channels; fc++)
        {
            // One kernel's taps go to their phase's sub-kernel: tap (i, j) = (s·i' + a, s·j' + b) to (a, b, i', j'). The
            // block is cleared first, so the taps past the kernel's edge stay zero.
            ReadOnlySpan<float> w = weight.Slice(fc * kk, kk);
            Span<float> t = rearranged.Slice(fc * block, block);
            t.Clear();
            for (int i = 0, a = 0, si = 0; i < kernel; i++)
            {
                ReadOnlySpan<float> row = w.Slice(i * kernel, kernel);
                Span<float> target = t.Slice((a * stride * phase) + (si * sub));
                for (int b = 0; b < stride && b < kernel; b++)
                {
                    Span<float> part = target.Slice(b * phase);
                    for (int sj = 0, j = b; j < kernel; sj++, j += stride)
                    {
                        part[sj] = row[j];
                    }
                }

                if (++a == stride)
                {
                    a = 0;
                    si++;
                }
            }
        }
    }

    /// <summary>
    /// Adds the gradient of the sub-kernels, <paramref name="rearrangedGradient"/> (F × C·s² × K' × K'), to the gradient of
    /// the kernels, <paramref name="weightGradient"/> (F × C × K × K): <c>dW[f, c, s·i' + a, s·j' + b] += dW'[f, (c, a, b), i', j']</c>
    /// for the taps inside the kernel; the gradients of the taps past its edge are dropped.
    /// </summary>
    public static void FoldWeightGradient(ReadOnlySpan<float> rearrangedGradient, int filters, int channels, int kernel, int stride, Span<float> weightGradient)
    {
        int sub = SubKernel(kernel, stride);
        CheckWeights(weightGradient.Length, rearrangedGradient.Length, filters, channels, kernel, stride, sub, nameof(weightGradient), nameof(rearrangedGradient));
        int kk = kernel * kernel, block = stride * stride * sub * sub, phase = sub * sub;
        for (int fc = 0; fc < filters * channels; fc++)
        {
            // The reverse of RearrangeWeights' walk: tap (i, j) = (s·i' + a, s·j' + b) takes the gradient of (a, b, i', j').
            Span<float> dw = weightGradient.Slice(fc * kk, kk);
            ReadOnlySpan<float> t = rearrangedGradient.Slice(fc * block, block);
            for (int i = 0, a = 0, si = 0; i < kernel; i++)
            {
                Span<float> row = dw.Slice(i * kernel, kernel);
                ReadOnlySpan<float> source = t.Slice((a * stride * phase) + (si * sub));
                for (int b = 0; b < stride && b < kernel; b++)
                {
                    ReadOnlySpan<float> part = source.Slice(b * phase);
                    for (int sj = 0, j = b; j < kernel; sj++, j += stride)
                    {
                        row[j] += part[sj];
                    }
                }

                if (++a == stride)
                {
                    a = 0;
                    si++;
                }
            }
        }
    }

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

using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Shifted column copies for stride-1 convolutions whose outputs are narrow next to their kernel (LeNet-5's conv2: 10
/// outputs a row from 14-wide rows). Copy j of the source holds, for every row of every channel, the
/// <c>outWidth</c> values that kernel column j meets: <c>copy[j][c, r, x] = source[c, r, x + j]</c>, rows
/// <c>outWidth</c> long and back to back. The output at (y, x) is then position <c>p = y·outWidth + x</c>, and tap
/// (c, i, j) reads copy j at the constant offset <c>c·height·outWidth + i·outWidth</c> from p: a vector of positions is
/// one contiguous load, and no lane is spent on the <c>kernel − 1</c> columns where a wide row's windows fall across
/// the row's end. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ColumnCopies
{
    /// <summary>
    /// Writes the <paramref name="kernel"/> copies of <paramref name="source"/> (channels × height × width) into
    /// <paramref name="copies"/>, copy j from <c>j · copyLength</c>. Values in a copy past its
    /// <c>channels · height · outWidth</c> are left as they were.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A size below 1, an output width below 8 or not equal to <c>width − kernel + 1</c>, a copy length shorter than a
    /// copy, or a span shorter than the sizes need.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split(ReadOnlySpan<float> source, int channels, int height, int width, int kernel, int outWidth, Span<float> copies, int copyLength)
    {
        if (channels < 1 || height < 1 || kernel < 1 || outWidth < 8 || width != outWidth + kernel - 1)
        {
            throw new ArgumentException($"ColumnCopies: {channels} channels of {height}×{width}, kernel {kernel} and output width {outWidth} (at least 8, and width − kernel + 1) do not make a stride-1 convolution's copies.");
        }

        long rows = (long)channels * height;
        if (copyLength < rows * outWidth || source.Length < rows * width || copies.Length < ((long)(kernel - 1) * copyLength) + (rows * outWidth))
        {
            throw new ArgumentException($"ColumnCopies: copy length {copyLength} (needs {rows * outWidth}), source {source.Length} values (needs {rows * width}), copies {copies.Length} (needs {((long)(kernel - 1) * copyLength) + (rows * outWidth)}).");
        }

        // Each row is whole vectors of 8, the last one moved back to end at the row's end (it rewrites a few values with
        // the same ones), so no load reads past a source row and no store writes past a copied one.
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(copies);
        int last = outWidth - 8;
        for (int j = 0; j < kernel; j++)
        {
            ref float copy = ref Unsafe.Add(ref to, (nint)j * copyLength);
            for (int r = 0; r < (int)rows; r++)
            {
                ref float row = ref Unsafe.Add(ref from, ((nint)r * width) + j);
                ref float target = ref Unsafe.Add(ref copy, (nint)r * outWidth);
                for (int x = 0; x < last; x += 8)
                {
                    Vector256.LoadUnsafe(ref row, (nuint)x).StoreUnsafe(ref target, (nuint)x);
                }

                Vector256.LoadUnsafe(ref row, (nuint)last).StoreUnsafe(ref target, (nuint)last);
            }
        }
    }
}

using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

// Any square window and stride, for one image: the kernels of the pooling layers that are not 2×2 with stride 2.
public static partial class Pooling
{
    /// <summary>The largest stride <see cref="Forward"/> takes: a vector of 16 outputs then spans at most 4 vectors of input.</summary>
    public const int MaxWindowStride = 4;

    /// <summary>
    /// True when <see cref="Forward"/> runs on these shapes: every window lies inside the input and the stride is at most
    /// <see cref="MaxWindowStride"/>.
    /// </summary>
    public static bool Vectorizes(int inputHeight, int inputWidth, int outputHeight, int outputWidth, int window, int stride) =>
        window >= 1 && stride >= 1 && stride <= MaxWindowStride && outputHeight >= 1 && outputWidth >= 1
        && ((long)(outputHeight - 1) * stride) + window <= inputHeight
        && ((long)(outputWidth - 1) * stride) + window <= inputWidth;

    /// <summary>
    /// Max or average pooling of one image with any square window and a stride of at most 4 whose windows all lie inside
    /// the input (<see cref="Vectorizes"/>): <c>out[c, y, x]</c> over <c>in[c, s·y .. s·y + k − 1, s·x .. s·x + k − 1]</c>,
    /// with AVX-512 (elsewhere one output at a time, the same arithmetic).
    /// </summary>
    /// <remarks>
    /// <para>
    /// A vector holds up to 16 consecutive outputs of an output row. For each tap (i, j) of the window, their inputs are
    /// every s-th value of a run of input row s·y + i: the s vectors that cover the run are loaded and lane permutes
    /// pick every s-th value.
    /// </para>
    /// <para>
    /// The arithmetic is the generated scalar code's, tap by tap in the same order: a maximum is
    /// <see cref="MathF.Max(float, float)"/>'s (NaN wins, +0 above −0), starting from the window's first value; an average
    /// adds each window row left to right, adds the rows in order to a sum that starts at +0, and multiplies by
    /// <c>1f / (k · k)</c>. So both give the same values.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes do not vectorize (<see cref="Vectorizes"/>) or a span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth, int window, int stride, bool average)
    {
        if (planes < 1 || !Vectorizes(inputHeight, inputWidth, outputHeight, outputWidth, window, stride))
        {
            throw new ArgumentException(
                $"{window}×{window} stride-{stride} pooling of {planes} × {inputHeight}×{inputWidth} → {outputHeight}×{outputWidth}: the kernel needs every window inside the input and a stride of at most {MaxWindowStride}.");
        }

        if ((long)input.Length < (long)planes * inputHeight * inputWidth || (long)output.Length < (long)planes * outputHeight * outputWidth)
        {
            throw new ArgumentException(
                $"The spans hold {input.Length} input and {output.Length} output values, expected at least {(long)planes * inputHeight * inputWidth} and {(long)planes * outputHeight * outputWidth}.");
        }

        float scale = 1f / (window * window);
        fixed (float* source = input)
        fixed (float* target = output)
        {
            // The vector code keeps the window's tap offsets on the stack: up to 16×16 taps (the generator's windows stop at 15).
            if (Avx512F.IsSupported && window <= 16)
            {
                Strided512(source, target, planes, inputHeight, inputWidth, outputHeight, outputWidth, window, stride, average, scale);
            }
            else
            {
                OneByOne(source, target, planes, inputHeight, inputWidth, outputHeight, outputWidth, window, stride, average, scale);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Strided512(float* source, float* target, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth, int window, int stride, bool average, float scale)
    {
        // Each tap's offset from its window's corner, row by row: the loops below walk this list, one load and pick per tap.
        int taps = window * window;
        int* offsets = stackalloc int[taps];
        for (int i = 0; i < window; i++)
        {
            for (int j = 0; j < window; j++)
            {
                offsets[(i * window) + j] = (i * inputWidth) + j;
            }
        }

        var lanes = new Lanes512(source, target, planes, inputHeight, inputWidth, outputHeight, outputWidth, window, stride, offsets, scale);
        switch ((stride, average))
        {
            case (1, false): lanes.Run<One, Maximum>(); break;
            case (1, true): lanes.Run<One, Mean>(); break;
            case (2, false): lanes.Run<Two, Maximum>(); break;
            case (2, true): lanes.Run<Two, Mean>(); break;
            case (3, false): lanes.Run<Three, Maximum>(); break;
            case (3, true): lanes.Run<Three, Mean>(); break;
            case (4, false): lanes.Run<Four, Maximum>(); break;
            default: lanes.Run<Four, Mean>(); break;
        }
    }

    // The stride (VectorLanes' ICount: One … Four) and the reduction as types, so that the JIT compiles one loop for each
    // pair with no tests left inside.
    private interface IReduction
    {
        static abstract bool IsMean { get; }
    }

    private struct Maximum : IReduction
    {
        public static bool IsMean => false;
    }

    private struct Mean : IReduction
    {
        public static bool IsMean => true;
    }

    private readonly unsafe struct Lanes512(float* source, float* target, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth, int window, int stride, int* offsets, float scale)
    {
        // Lane l of a vector of outputs takes input value s·l of the run. The first permute picks it from the run's first
        // two vectors where s·l < 32 (index s·l); permute k ≥ 2 keeps the lanes found so far (index l) and takes those with
        // 16k ≤ s·l < 16(k + 1) from vector k (index 16 + s·l − 16k).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Pick<TStride>(float* run, Vector512<int> first, Vector512<int> second, Vector512<int> third)
            where TStride : struct, ICount
        {
            var taps = Vector512.Load(run);
            if (TStride.Value > 1)
            {
                taps = Avx512F.PermuteVar16x32x2(taps, first, Vector512.Load(run + 16));
            }

            if (TStride.Value > 2)
            {
                taps = Avx512F.PermuteVar16x32x2(taps, second, Vector512.Load(run + 32));
            }

            if (TStride.Value > 3)
            {
                taps = Avx512F.PermuteVar16x32x2(taps, third, Vector512.Load(run + 48));
            }

            return taps;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TStride, TReduction>()
            where TStride : struct, ICount
            where TReduction : struct, IReduction
        {
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var at = lane * stride;
            var first = Vector512.Min(at, Vector512.Create(31));
            var second = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(at, Vector512.Create(32)), at - Vector512.Create(16), lane);
            var third = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(at, Vector512.Create(48)), at - Vector512.Create(32), lane);

            // The loads read 16·s values from each tap's run and the stores write 16 outputs, past what a short last block
            // needs: harmless inside the buffers (the stores run into outputs computed later, as rows go in order), so only
            // the blocks whose loads would pass the input's end, or whose store the output's, take the careful way.
            float* sourceEnd = source + ((long)planes * inputHeight * inputWidth);
            float* targetEnd = target + ((long)planes * outputHeight * outputWidth);
            long reach = ((long)(window - 1) * inputWidth) + (window - 1) + (16L * stride);
            int taps = window * window;
            var spread = Vector512.Create(scale);
            float* last = stackalloc float[16];
            for (int c = 0; c < planes; c++)
            {
                float* plane = source + ((long)c * inputHeight * inputWidth);
                float* outputs = target + ((long)c * outputHeight * outputWidth);
                for (int y = 0; y < outputHeight; y++)
                {
                    for (int x0 = 0; x0 < outputWidth; x0 += 16)
                    {
                        int count = Math.Min(16, outputWidth - x0);
                        float* corner = plane + ((long)y * stride * inputWidth) + ((long)x0 * stride);
                        float* to = outputs + ((long)y * outputWidth) + x0;
                        if (corner + reach > sourceEnd)
                        {
                            Block(corner, to, count, inputWidth, window, stride, TReduction.IsMean, scale);
                            continue;
                        }

                        Vector512<float> value;
                        if (TReduction.IsMean)
                        {
                            // Each window row left to right, the rows in order onto +0, then the scale.
                            value = Vector512<float>.Zero;
                            for (int t = 0; t < taps; t += window)
                            {
                                var sum = Pick<TStride>(corner + offsets[t], first, second, third);
                                for (int j = 1; j < window; j++)
                                {
                                    sum += Pick<TStride>(corner + offsets[t + j], first, second, third);
                                }

                                value += sum;
                            }

                            value *= spread;
                        }
                        else
                        {
                            value = Pick<TStride>(corner, first, second, third);
                            for (int t = 1; t < taps; t++)
                            {
                                value = Simd.Max(value, Pick<TStride>(corner + offsets[t], first, second, third));
                            }
                        }

                        if (to + 16 <= targetEnd)
                        {
                            value.Store(to);
                        }
                        else
                        {
                            value.Store(last);
                            new ReadOnlySpan<float>(last, count).CopyTo(new Span<float>(to, count));
                        }
                    }
                }
            }
        }
    }

    // Outputs [0, count) of one row block, one at a time: the same arithmetic, reading no further than the windows.
    private static unsafe void Block(float* corner, float* to, int count, int inputWidth, int window, int stride, bool average, float scale)
    {
        for (int x = 0; x < count; x++)
        {
            to[x] = Window(corner + ((long)x * stride), inputWidth, window, average, scale);
        }
    }

    // One window's maximum or average, as the generated scalar code computes it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float Window(float* corner, int inputWidth, int window, bool average, float scale)
    {
        float value = average ? 0f : corner[0];
        for (int i = 0; i < window; i++)
        {
            float* row = corner + ((long)i * inputWidth);
            if (average)
            {
                float sum = row[0];
                for (int j = 1; j < window; j++)
                {
                    sum += row[j];
                }

                value += sum;
            }
            else
            {
                for (int j = i == 0 ? 1 : 0; j < window; j++)
                {
                    value = MathF.Max(value, row[j]);
                }
            }
        }

        return average ? value * scale : value;
    }

    // The same arithmetic one output at a time, without AVX-512.
    private static unsafe void OneByOne(float* source, float* target, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth, int window, int stride, bool average, float scale)
    {
        for (int c = 0; c < planes; c++)
        {
            float* plane = source + ((long)c * inputHeight * inputWidth);
            for (int y = 0; y < outputHeight; y++)
            {
                Block(plane + ((long)y * stride * inputWidth), target, outputWidth, inputWidth, window, stride, average, scale);
                target += outputWidth;
            }
        }
    }
}

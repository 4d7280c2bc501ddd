using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Vector kernels for pooling over planes stored one after another (channels × height × width): here the most common
/// case, a 2×2 window with stride 2 whose windows all lie inside the input; in Pooling.Windows.cs, the forward pass of
/// other windows and strides (<see cref="Forward"/>). A generated pooling layer calls these when
/// <see cref="Simd.Use256"/> holds, and otherwise runs its own scalar loops, which are the definition.
/// </summary>
/// <remarks>
/// <para>
/// Each row pair of the input gives one output row: eight inputs of each row are loaded, the pairs of neighbours are
/// combined with a lane shuffle, and the four results are kept. Windows never overlap (the stride is the window), so a
/// backward pass writes each input's gradient once.
/// </para>
/// <para>
/// The arithmetic is the scalar code's, in its order: an average is <c>((a + b) + (c + d)) · ¼</c> for the window
/// <c>[a b; c d]</c>; a maximum is <see cref="MathF.Max(float, float)"/>'s (NaN wins, +0 above −0), and the gradient of a maximum
/// goes to the first input of the window, row by row, that equals it. So the vector and scalar paths give the same
/// values (the generated scalar average starts its sum from +0, so a window summing to −0 gives +0 there).
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Pooling
{
    /// <summary>2×2, stride-2 max pooling: <c>out[c, y, x] = max of in[c, 2y .. 2y + 1, 2x .. 2x + 1]</c>.</summary>
    /// <param name="input">planes × inputHeight × inputWidth values.</param>
    /// <param name="output">Receives planes × outputHeight × outputWidth values.</param>
    /// <param name="planes">Channels.</param>
    /// <param name="inputHeight">Rows of an input plane.</param>
    /// <param name="inputWidth">Columns of an input plane.</param>
    /// <param name="outputHeight">Rows of an output plane; 2 × outputHeight ≤ inputHeight.</param>
    /// <param name="outputWidth">Columns of an output plane; 2 × outputWidth ≤ inputWidth.</param>
    public static void MaxForward2x2(ReadOnlySpan<float> input, Span<float> output, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth)
    {
        CheckShapes(input.Length, output.Length, planes, inputHeight, inputWidth, outputHeight, outputWidth);
        Forward2x2(input, output, planes, inputHeight, inputWidth, outputHeight, outputWidth, average: false);
    }

    /// <summary>2×2, stride-2 average pooling: <c>out[c, y, x] = ((in[2y, 2x] + in[2y, 2x + 1]) + (in[2y + 1, 2x] + in[2y + 1, 2x + 1])) · ¼</c>.</summary>
    /// <param name="input">planes × inputHeight × inputWidth values.</param>
    /// <param name="output">Receives planes × outputHeight × outputWidth values.</param>
    /// <param name="planes">Channels.</param>
    /// <param name="inputHeight">Rows of an input plane.</param>
    /// <param name="inputWidth">Columns of an input plane.</param>
    /// <param name="outputHeight">Rows of an output plane; 2 × outputHeight ≤ inputHeight.</param>
    /// <param name="outputWidth">Columns of an output plane; 2 × outputWidth ≤ inputWidth.</param>
    public static void AverageForward2x2(ReadOnlySpan<float> input, Span<float> output, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth)
    {
        CheckShapes(input.Length, output.Length, planes, inputHeight, inputWidth, outputHeight, outputWidth);
        Forward2x2(input, output, planes, inputHeight, inputWidth, outputHeight, outputWidth, average: true);
    }

    /// <summary>
    /// <c>1 &lt;&lt; <paramref name="bit"/></c> when <paramref name="set"/> is true, else 0, without a branch. The generated
    /// max-pooling backward passes OR one of these per input of a window (is it equal to the maximum?) and take the lowest
    /// bit set, the window's first such input row by row: where the maximum lies changes from window to window, so a chain
    /// of ifs mispredicts, and the flags do not depend on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Flag(bool set, int bit) => Unsafe.As<bool, byte>(ref set) << bit;

    /// <summary>
    /// Backward of <see cref="MaxForward2x2"/>: each output's gradient goes to the first input of its window, row by row,
    /// that equals the output (none when the output is NaN); every other input gradient is 0.
    /// </summary>
    /// <param name="input">The forward pass's input.</param>
    /// <param name="output">The forward pass's output.</param>
    /// <param name="outputGradient">The gradient of the output.</param>
    /// <param name="inputGradient">Receives the gradient of the input (overwritten).</param>
    /// <param name="planes">Channels.</param>
    /// <param name="inputHeight">Rows of an input plane.</param>
    /// <param name="inputWidth">Columns of an input plane.</param>
    /// <param name="outputHeight">Rows of an output plane.</param>
    /// <param name="outputWidth">Columns of an output plane.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward2x2(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth)
    {
        CheckShapes(input.Length, output.Length, planes, inputHeight, inputWidth, outputHeight, outputWidth);
        CheckShapes(inputGradient.Length, outputGradient.Length, planes, inputHeight, inputWidth, outputHeight, outputWidth);
        inputGradient.Slice(0, planes * inputHeight * inputWidth).Clear();
        ref float x0 = ref MemoryMarshal.GetReference(input);
        ref float y0 = ref MemoryMarshal.GetReference(output);
        ref float d0 = ref MemoryMarshal.GetReference(outputGradient);
        ref float g0 = ref MemoryMarshal.GetReference(inputGradient);
        bool vector = Vector256.IsHardwareAccelerated;
        for (int c = 0; c < planes; c++)
        {
            for (int y = 0; y < outputHeight; y++)
            {
                nint top = (((nint)c * inputHeight) + (2 * y)) * inputWidth;
                nint at = (((nint)c * outputHeight) + y) * outputWidth;
                ref float row0 = ref Unsafe.Add(ref x0, top);
                ref float row1 = ref Unsafe.Add(ref row0, inputWidth);
                ref float grad0 = ref Unsafe.Add(ref g0, top);
                ref float grad1 = ref Unsafe.Add(ref grad0, inputWidth);
                ref float maxima = ref Unsafe.Add(ref y0, at);
                ref float gradients = ref Unsafe.Add(ref d0, at);
                int x = 0;
                if (vector)
                {
                    for (; x <= outputWidth - 4; x += 4)
                    {
                        nuint i = (nuint)(2 * x);
                        var m = Pairs(Vector128.LoadUnsafe(ref maxima, (nuint)x));
                        var d = Pairs(Vector128.LoadUnsafe(ref gradients, (nuint)x));
                        var a = Vector256.Equals(Vector256.LoadUnsafe(ref row0, i), m);
                        var b = Vector256.Equals(Vector256.LoadUnsafe(ref row1, i), m);
                        var firstA = Vector256.Shuffle(a, Vector256.Create(0, 0, 2, 2, 4, 4, 6, 6));
                        var secondA = Vector256.Shuffle(a, Vector256.Create(1, 1, 3, 3, 5, 5, 7, 7));
                        var takeA = Vector256.AndNot(a, firstA & OddLanes);
                        var bLeft = Vector256.AndNot(b, firstA | secondA);
                        var takeB = Vector256.AndNot(bLeft, Vector256.Shuffle(bLeft, Vector256.Create(0, 0, 2, 2, 4, 4, 6, 6)) & OddLanes);
                        (d & takeA).StoreUnsafe(ref grad0, i);
                        (d & takeB).StoreUnsafe(ref grad1, i);
                    }
                }

                for (; x < outputWidth; x++)
                {
                    int i = 2 * x;
                    float value = Unsafe.Add(ref maxima, x);
                    float d = Unsafe.Add(ref gradients, x);
                    if (Unsafe.Add(ref row0, i) == value) Unsafe.Add(ref grad0, i) = d;
                    else if (Unsafe.Add(ref row0, i + 1) == value) Unsafe.Add(ref grad0, i + 1) = d;
                    else if (Unsafe.Add(ref row1, i) == value) Unsafe.Add(ref grad1, i) = d;
                    else if (Unsafe.Add(ref row1, i + 1) == value) Unsafe.Add(ref grad1, i + 1) = d;
                }
            }
        }
    }

    /// <summary>
    /// Backward of <see cref="AverageForward2x2"/>: each input of a window gets a quarter of its output's gradient; inputs
    /// outside every window (a last odd row or column) get 0.
    /// </summary>
    /// <param name="outputGradient">The gradient of the output.</param>
    /// <param name="inputGradient">Receives the gradient of the input (overwritten).</param>
    /// <param name="planes">Channels.</param>
    /// <param name="inputHeight">Rows of an input plane.</param>
    /// <param name="inputWidth">Columns of an input plane.</param>
    /// <param name="outputHeight">Rows of an output plane.</param>
    /// <param name="outputWidth">Columns of an output plane.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward2x2(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth)
    {
        CheckShapes(inputGradient.Length, outputGradient.Length, planes, inputHeight, inputWidth, outputHeight, outputWidth);
        inputGradient.Slice(0, planes * inputHeight * inputWidth).Clear();
        ref float d0 = ref MemoryMarshal.GetReference(outputGradient);
        ref float g0 = ref MemoryMarshal.GetReference(inputGradient);
        bool vector = Vector256.IsHardwareAccelerated;
        for (int c = 0; c < planes; c++)
        {
            for (int y = 0; y < outputHeight; y++)
            {
                nint top = (((nint)c * inputHeight) + (2 * y)) * inputWidth;
                ref float grad0 = ref Unsafe.Add(ref g0, top);
                ref float grad1 = ref Unsafe.Add(ref grad0, inputWidth);
                ref float gradients = ref Unsafe.Add(ref d0, (((nint)c * outputHeight) + y) * outputWidth);
                int x = 0;
                if (vector)
                {
                    for (; x <= outputWidth - 4; x += 4)
                    {
                        var d = Pairs(Vector128.LoadUnsafe(ref gradients, (nuint)x)) * 0.25f;
                        d.StoreUnsafe(ref grad0, (nuint)(2 * x));
                        d.StoreUnsafe(ref grad1, (nuint)(2 * x));
                    }
                }

                for (; x < outputWidth; x++)
                {
                    float d = Unsafe.Add(ref gradients, x) * 0.25f;
                    int i = 2 * x;
                    Unsafe.Add(ref grad0, i) = d;
                    Unsafe.Add(ref grad0, i + 1) = d;
                    Unsafe.Add(ref grad1, i) = d;
                    Unsafe.Add(ref grad1, i + 1) = d;
                }
            }
        }
    }

    // All ones in the odd lanes: the second input of each horizontal pair.
    private static Vector256<float> OddLanes => Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();

    // [v0 v0 v1 v1 v2 v2 v3 v3]: each of four values spread over the pair of inputs it came from.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pairs(Vector128<float> values) =>
        Vector256.Shuffle(Vector256.Create(values, values), Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3));

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static void Forward2x2(ReadOnlySpan<float> input, Span<float> output, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth, bool average)
    {
        ref float x0 = ref MemoryMarshal.GetReference(input);
        ref float y0 = ref MemoryMarshal.GetReference(output);
        bool vector = Vector256.IsHardwareAccelerated;
        var swap = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
        var evens = Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6);
        for (int c = 0; c < planes; c++)
        {
            for (int y = 0; y < outputHeight; y++)
            {
                ref float row0 = ref Unsafe.Add(ref x0, (((nint)c * inputHeight) + (2 * y)) * inputWidth);
                ref float row1 = ref Unsafe.Add(ref row0, inputWidth);
                ref float target = ref Unsafe.Add(ref y0, (((nint)c * outputHeight) + y) * outputWidth);
                int x = 0;
                if (vector)
                {
                    for (; x <= outputWidth - 4; x += 4)
                    {
                        nuint i = (nuint)(2 * x);
                        var a = Vector256.LoadUnsafe(ref row0, i);
                        var b = Vector256.LoadUnsafe(ref row1, i);
                        Vector256<float> pairs;
                        if (average)
                        {
                            // (a + b) + (c + d) in the even lanes, then · ¼, as the scalar code adds.
                            pairs = ((a + Vector256.Shuffle(a, swap)) + (b + Vector256.Shuffle(b, swap))) * 0.25f;
                        }
                        else
                        {
                            // The larger of the two rows, then of each pair of lanes: the maximum of the window, whose
                            // value and NaN do not depend on the order of the comparisons.
                            var rows = Simd.Max(a, b);
                            pairs = Simd.Max(rows, Vector256.Shuffle(rows, swap));
                        }

                        Vector256.Shuffle(pairs, evens).GetLower().StoreUnsafe(ref target, (nuint)x);
                    }
                }

                for (; x < outputWidth; x++)
                {
                    int i = 2 * x;
                    float a = Unsafe.Add(ref row0, i), b = Unsafe.Add(ref row0, i + 1), c2 = Unsafe.Add(ref row1, i), d = Unsafe.Add(ref row1, i + 1);
                    Unsafe.Add(ref target, x) = average
                        ? ((a + b) + (c2 + d)) * 0.25f
                        : MathF.Max(MathF.Max(MathF.Max(a, b), c2), d);
                }
            }
        }
    }

    private static void CheckShapes(int inputLength, int outputLength, int planes, int inputHeight, int inputWidth, int outputHeight, int outputWidth)
    {
        if (planes < 1 || outputHeight < 1 || outputWidth < 1 || 2 * outputHeight > inputHeight || 2 * outputWidth > inputWidth)
        {
            throw new ArgumentException(
                $"2×2 stride-2 pooling needs 2·outputHeight ≤ inputHeight and 2·outputWidth ≤ inputWidth, but the planes are {planes} × {inputHeight}×{inputWidth} → {outputHeight}×{outputWidth}.");
        }

        if ((long)inputLength < (long)planes * inputHeight * inputWidth || (long)outputLength < (long)planes * outputHeight * outputWidth)
        {
            throw new ArgumentException(
                $"The spans hold {inputLength} input and {outputLength} output values, expected at least {(long)planes * inputHeight * inputWidth} and {(long)planes * outputHeight * outputWidth}.");
        }
    }
}

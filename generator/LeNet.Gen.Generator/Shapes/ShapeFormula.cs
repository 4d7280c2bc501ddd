using System;
using System.Globalization;
using LeNet.Gen.Generator.Model;

namespace LeNet.Gen.Generator.Shapes;

/// <summary>
/// The one home of the output-size formula shared by convolution and pooling:
/// <c>out = (in − window + 2·padding) / stride + 1</c>, and of its rounding modes.
/// </summary>
internal static class ShapeFormula
{
    /// <summary>Computes one spatial axis. All arithmetic is in <see cref="long"/>, so no argument can overflow it.</summary>
    public static AxisSize Output(long input, int window, int stride, int padding, RoundingMode rounding)
    {
        long span = input + (2L * padding) - window;
        if (span < 0)
        {
            return new AxisSize(input, window, stride, padding, span, Size: 0, IsWhole: false);
        }

        long floor = (span / stride) + 1;
        bool whole = span % stride == 0;
        long size = rounding switch
        {
            RoundingMode.Ceiling when !whole => CeilingSize(input, stride, padding, floor + 1),
            RoundingMode.Exact when !whole => 0,
            _ => floor,
        };
        return new AxisSize(input, window, stride, padding, span, size, whole);
    }

    // Like PyTorch's ceil_mode: the extra window is kept only if it starts inside the input or its left/top padding.
    private static long CeilingSize(long input, int stride, int padding, long size) =>
        (size - 1) * stride >= input + padding ? size - 1 : size;

    /// <summary>The formula with the numbers filled in, e.g. <c>(14 − 5 + 2·0) / 2 + 1 = 5.5</c>.</summary>
    public static string Explain(AxisSize axis)
    {
        double exact = ((double)axis.Span / axis.Stride) + 1;
        return string.Format(
            CultureInfo.InvariantCulture,
            "({0} − {1} + 2·{2}) / {3} + 1 = {4}",
            axis.Input, axis.Window, axis.Padding, axis.Stride, exact.ToString("0.##", CultureInfo.InvariantCulture));
    }

    /// <summary>The padding the window sees around the input, e.g. <c>14 + 2·1 = 16</c>.</summary>
    public static string ExplainPaddedInput(AxisSize axis) => string.Format(
        CultureInfo.InvariantCulture, "{0} + 2·{1} = {2}", axis.Input, axis.Padding, axis.Input + (2L * axis.Padding));

    // Suggestions look at most this many candidates on each side, so a huge stride cannot make the IDE loop.
    private const int SearchWidth = 64;

    /// <summary>
    /// Strides near <paramref name="axis"/>'s stride that make the output whole: the nearest below (1 always works)
    /// and the nearest above within a small search window, if any.
    /// </summary>
    public static (int Below, int? Above) WholeStrides(AxisSize axis)
    {
        int below = 1;
        long start = Math.Min(axis.Stride - 1L, axis.Span);
        for (long s = start; s >= 2 && s > start - SearchWidth; s--)
        {
            if (axis.Span % s == 0)
            {
                below = (int)s;
                break;
            }
        }

        int? above = null;
        for (long s = axis.Stride + 1L; s <= Math.Min(axis.Span, axis.Stride + (long)SearchWidth); s++)
        {
            if (axis.Span % s == 0)
            {
                above = (int)s;
                break;
            }
        }

        return (below, above);
    }

    /// <summary>The smallest padding above the current one that makes the output whole, or null if none does (odd span, even stride).</summary>
    public static int? WholePadding(AxisSize axis)
    {
        long last = Math.Min(axis.Padding + (long)Math.Min(axis.Stride, SearchWidth), int.MaxValue);
        for (long p = axis.Padding + 1L; p <= last; p++)
        {
            if ((axis.Input + (2 * p) - axis.Window) % axis.Stride == 0)
            {
                return (int)p;
            }
        }

        return null;
    }
}

/// <summary>
/// One spatial axis of a convolution or pooling layer. <see cref="Span"/> is <c>in + 2·padding − window</c>;
/// <see cref="Size"/> is the output size under the network's rounding mode (0 when there is none).
/// </summary>
internal readonly record struct AxisSize(long Input, int Window, int Stride, int Padding, long Span, long Size, bool IsWhole)
{
    public bool Fits => Span >= 0;

    /// <summary>Output size rounded down and up, whatever the mode (for messages).</summary>
    public long Floor => Fits ? (Span / Stride) + 1 : 0;

    public long Ceiling => Fits ? ((Span + Stride - 1) / Stride) + 1 : 0;

    /// <summary>Rows (or columns) of the padded input after the last window, which no window reads.</summary>
    public long Unread => Fits ? Input + (2L * Padding) - (((Size - 1) * Stride) + Window) : 0;
}

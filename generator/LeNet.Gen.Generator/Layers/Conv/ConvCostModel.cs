using System.Globalization;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// Which kernel family a convolution's forward pass gets, and why: the one place the generator weighs the families
/// against each other. Its reasons go into the generated code's comments.
/// </summary>
/// <remarks>
/// <para>
/// Every vectorised convolution gets the wide-row direct kernels (<see cref="WideConv"/>): they need no set-up and serve
/// single images, training and every shape. A 3×3, stride-1 layer with at least <see cref="WinogradMinimumChannels"/>
/// input channels and filters also gets Winograd's F(2×2, 3×3) (<c>LeNet.Gen.Runtime.Winograd</c>) for batch calls:
/// 2.25 times fewer multiply-adds, in 16 matrix products of filters × channels by channels × tiles.
/// </para>
/// <para>
/// Measured on the 2-vCPU AMD EPYC (AVX2) of this project's benchmarks, one image, 1 thread: 32→64 channels on 16×16,
/// 100 µs against about 130 µs for the direct kernels; 64→128 on 8×8, 82 µs against about 130 µs. Below 16 channels
/// the transforms, which cost the same per tile whatever the channel count, eat the gain. The weight transform costs
/// about as much as one image's products, so it is paid once per batch call and thread, never per image; single-image
/// calls keep the direct kernels.
/// </para>
/// </remarks>
internal static class ConvCostModel
{
    /// <summary>The fewest input channels and filters for which a 3×3 layer gets Winograd's kernels.</summary>
    public const int WinogradMinimumChannels = 16;

    // Buffers past this many floats keep the direct kernels, so the runtime's int offsets stay far from overflow.
    private const long MaxWinogradValues = 1L << 26;

    /// <summary>
    /// Why the layer gets Winograd's kernels for batch calls, as a sentence for the generated comment, or null when it
    /// keeps the direct kernels only.
    /// </summary>
    public static string? WinogradReason(int kernel, int stride, bool vectorized, int channels, int filters, int outHeight, int outWidth)
    {
        if (kernel != 3 || stride != 1 || !vectorized || channels < WinogradMinimumChannels || filters < WinogradMinimumChannels)
        {
            return null;
        }

        long tiles = (long)((outHeight + 1) / 2) * ((outWidth + 1) / 2);
        if (16L * filters * channels > MaxWinogradValues || 16L * (channels + filters) * (tiles + 8) > MaxWinogradValues)
        {
            return null;
        }

        return string.Format(
            CultureInfo.InvariantCulture,
            "Winograd F(2×2, 3×3) in batch calls: {0} tiles of 2×2, 16 products of {1}×{2} by {2}×{0}, 2.25× fewer multiply-adds than the window; its weight transform is paid once per call and thread, so single images keep the direct kernels",
            tiles,
            filters,
            channels);
    }
}

using System;
using System.Globalization;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// Where a 3×3, stride-1 convolution's forward pass runs Winograd's F(2×2, 3×3) (<c>LeNet.Gen.Runtime.Winograd</c>):
/// for no call, for batch calls only, or for every call.
/// </summary>
/// <param name="SingleImages">True when single-image calls use it too, paying a check of its transformed weights on each call.</param>
/// <param name="Reason">The estimate behind the choice, as a sentence for the generated comment.</param>
/// <param name="BatchNs">The estimated nanoseconds per image in a batch call.</param>
internal sealed record WinogradChoice(bool SingleImages, string Reason, double BatchNs);

/// <summary>
/// That a convolution's forward passes run with the filters across the vector lanes (<c>LeNet.Gen.Runtime.FilterLanes</c>)
/// instead of the wide rows, and why.
/// </summary>
/// <param name="Reason">The estimate behind the choice, as a sentence for the generated comment.</param>
/// <param name="Ns">The estimated nanoseconds per image, the weight packing included.</param>
/// <param name="NotWithAvx512">
/// True when, with AVX-512 on full-rate 512-bit units (<c>LeNet.Gen.Runtime.Simd.FullRate512</c>), the wide rows are
/// estimated faster and run instead: typically fewer than two blocks of 16 filters a tile (LeNet-5's 16, which then run
/// as two blocks of 8) while the wide rows run twice as wide. Where 512-bit multiply-adds run at half rate (Zen 4), the
/// wide rows gain nothing from AVX-512 over AVX2 and the AVX2 choice stands.
/// </param>
/// <param name="Training">
/// True when training's forward passes use it too: every layer but a strided one whose wide rows run on phase planes,
/// which its backward pass reads.
/// </param>
internal sealed record FilterLanesChoice(string Reason, double Ns, bool NotWithAvx512, bool Training);

/// <summary>
/// Which kernel family a convolution's forward pass gets, and why: the one place the generator weighs the families
/// against each other, by estimated time per image. Its reasons go into the generated code's comments.
/// </summary>
/// <remarks>
/// <para>
/// Every vectorised convolution gets the wide-row direct kernels (<see cref="WideConv"/>): they need no set-up and serve
/// single images, training and every shape. A 3×3, stride-1 layer may also get Winograd's F(2×2, 3×3): 2.25 times fewer
/// multiply-adds in 16 matrix products (filters × channels by channels × tiles), plus an input transform per tile and
/// channel, an output transform per tile and filter, and a weight transform per filter and channel. The weights are
/// transformed again only when they changed (every training step). The runtime knows the library's own changes (Load,
/// training) from the network's <c>ParameterVersion</c>; once <c>Parameters</c> has been handed out as a writable span,
/// each call and thread instead checks the weights against a copy from their last transform. The estimates include that
/// check, the worse case: a single image pays it, a batch spreads it.
/// A layer whose filters fill blocks of 8 may instead get the filters in lanes (<see cref="FilterLanes"/>) for its
/// forward passes (inference calls only at strides above 1), which pays no zero taps and no columns between rows.
/// </para>
/// <para>
/// The rates below were measured on the 2-vCPU AMD EPYC (AVX2 and FMA) of this project's benchmarks, one thread, with
/// vgg-cifar's conv2 (32 → 64 channels on 16×16) and conv3 (64 → 128 on 8×8): the direct kernels reach about 38
/// multiply-adds per ns there, and so do Winograd's products. A family is chosen when its estimate is at most
/// <see cref="Margin"/> of the direct kernels', since the estimates are rough.
/// </para>
/// <para>
/// With AVX-512 the rates are taken as twice those. That holds for the wide rows and for filters in lanes with two
/// blocks of 16 a tile, but not for fewer filters, which the runtime runs as blocks of 8 at the AVX2 rate: on an AMD
/// EPYC (Zen 5, AVX-512), LeNet-5's conv2 (16 filters) took 4.1 µs an image in lanes (then one block of 16, 117 GFLOP/s,
/// half the peak), and the whole network 8.9 µs against 8.2 µs with the wide rows; with AVX2 the lanes still won,
/// 11.5 µs against 13.0 µs. Hence the separate AVX-512 estimate in <see cref="FilterLanes"/>. It assumes full-rate
/// 512-bit units: on Zen 4, which runs each 512-bit multiply-add as two 256-bit halves, the wide rows on 16 lanes are no
/// faster than on 8, and the AVX2 choice holds there (LeNet-5's conv2 in lanes: 4.6 µs against 5.3 µs for the wide rows
/// on the column copies; the whole network 10.9 µs against 11.4 µs).
/// </para>
/// </remarks>
internal static class ConvCostModel
{
    /// <summary>Multiply-adds per nanosecond of the direct wide-row kernels and of Winograd's products.</summary>
    public const double MultiplyAddsPerNs = 38;

    /// <summary>Nanoseconds to pad, gather and transform one tile of one input channel.</summary>
    public const double InputTransformNs = 8;

    /// <summary>Nanoseconds to transform one tile of one filter's products into its 2×2 outputs.</summary>
    public const double OutputTransformNs = 2.7;

    /// <summary>
    /// Nanoseconds per weight to check that the weights have not changed since the thread last prepared them
    /// (<c>LeNet.Gen.Runtime.PreparedWeights</c>): a call with unchanged weights pays this instead of transforming or
    /// packing them again, once the network has handed out its <c>Parameters</c> span (before that it pays nothing).
    /// </summary>
    public const double WeightCheckNs = 0.08;

    /// <summary>Multiply-adds per nanosecond of the filters-in-lanes kernels' inner loop (six positions × two blocks of filters).</summary>
    public const double FilterLanesMultiplyAddsPerNs = 40;

    /// <summary>Nanoseconds a filters-in-lanes register tile spends outside its inner loop: window offsets, twelve stores.</summary>
    public const double FilterLanesTileNs = 40;

    /// <summary>Nanoseconds per value to transpose the filters-in-lanes outputs back to filters × rows × columns, with 8×8 register transposes.</summary>
    public const double TransposeNsPerValue = 0.1;

    /// <summary>The share of the direct kernels' estimated time below which Winograd is chosen.</summary>
    public const double Margin = 0.9;

    // Buffers past this many floats keep the direct kernels, so the runtime's int offsets stay far from overflow.
    private const long MaxWinogradValues = 1L << 26;

    /// <summary>The 2×2 output tiles of a Winograd layer's image (a last row or column of tiles may hang over an odd edge).</summary>
    public static int WinogradTiles(int outHeight, int outWidth) => ((outHeight + 1) / 2) * ((outWidth + 1) / 2);

    // Tiles rounded up to whole vectors of 8: the columns one image takes in Winograd's products (the runtime's TileStride).
    private static long TileColumns(long tiles) => (tiles + 7) / 8 * 8;

    /// <summary>
    /// Where the layer runs Winograd's kernels, with the estimate behind it, or null when it keeps the direct kernels for
    /// every call.
    /// </summary>
    public static WinogradChoice? Winograd(int kernel, int stride, bool vectorized, int channels, int filters, int outHeight, int outWidth)
    {
        if (kernel != 3 || stride != 1 || !vectorized)
        {
            return null;
        }

        long tiles = WinogradTiles(outHeight, outWidth);
        long tileStride = TileColumns(tiles);
        long pairs = (long)filters * channels;
        if (16L * pairs > MaxWinogradValues || 16L * (channels + filters) * (tileStride + 16) > MaxWinogradValues)
        {
            return null;
        }

        double direct = 9.0 * pairs * outHeight * outWidth / MultiplyAddsPerNs;
        double batch = (16.0 * pairs * tileStride / MultiplyAddsPerNs) + (InputTransformNs * channels * tiles) + (OutputTransformNs * filters * tiles);
        double single = batch + (WeightCheckNs * 9 * pairs);
        if (batch > Margin * direct)
        {
            return null;
        }

        bool singleImages = single <= Margin * direct;
        string estimate = string.Format(
            CultureInfo.InvariantCulture,
            "Winograd F(2×2, 3×3), 16 products of {0}×{1} by {1}×{2} tiles: estimated {3:0.0} µs an image in a batch, {4:0.0} µs alone (with the check that the weights are those last transformed), against {5:0.0} µs for the direct kernels, so {6}",
            filters,
            channels,
            tiles,
            batch / 1000,
            single / 1000,
            direct / 1000,
            singleImages ? "every call uses it" : "batch calls use it and single images keep the direct kernels");
        return new WinogradChoice(singleImages, estimate, batch);
    }

    /// <summary>
    /// Tile columns a Winograd product needs to keep AVX-512's multiply-adds busy: its register tiles take two vectors of 16
    /// columns, each load of the tiles serving eight filters. With one vector of 16, every multiply-add waits on its own
    /// broadcast weight: on an AMD EPYC (Zen 5), 64×64 by 64×16 products ran at 160 GFLOP/s and 64×64 by 64×32 at 210,
    /// the machine's peak. Whole layers (transforms included), an image in pairs against alone: 64 → 64 channels on 8×8,
    /// 15.2 µs against 18.4; 64 → 128, 27.4 against 37.2; with AVX2, 24.0 against 24.5. A layer of 32 → 64 on 16×16 (64
    /// columns an image already) got slower in pairs, 29.1 µs against 27.7: its tiles and products outgrow the cache.
    /// </summary>
    public const int GroupColumns = 32;

    /// <summary>Images per group at most (<see cref="WinogradGroup"/>): each adds its tiles and products to the group's buffers.</summary>
    public const int MaxGroupImages = 4;

    /// <summary>
    /// How many images' tiles a batch call's Winograd products take at once, and why, for a layer of
    /// <paramref name="tiles"/> 2×2 tiles an image: enough images for <see cref="GroupColumns"/> columns, when one image
    /// has fewer; null when one image has enough. Batch calls then run the network image by image around the layer, which
    /// transforms each image's input, multiplies the group's tiles in one product per ξ, and gives each image its output.
    /// </summary>
    public static (int Images, string Reason)? WinogradGroup(int tiles)
    {
        int tileStride = (int)TileColumns(tiles);
        if (tileStride >= GroupColumns)
        {
            return null;
        }

        int images = Math.Min(MaxGroupImages, (GroupColumns + tileStride - 1) / tileStride);
        string reason = string.Format(
            CultureInfo.InvariantCulture,
            "batch calls multiply the tiles of {0} images at once ({1} tiles an image, {2} columns a product): each transformed weight loaded serves {4}, and with AVX-512 a product of {3} columns would leave the multiply-adds waiting on broadcast weights",
            images,
            tiles,
            images * tileStride,
            tileStride,
            images == 2 ? "both" : $"all {images}");
        return (images, reason);
    }

    /// <summary>
    /// The direct wide-row kernels' estimated nanoseconds per image: every filter and channel pair over the whole wide plane
    /// (<paramref name="widePlane"/> positions, the columns between rows included), the zero taps of a strided layer's
    /// phase planes included (<paramref name="channels"/> and <paramref name="kernel"/> are those the kernels run).
    /// </summary>
    public static double DirectNs(int channels, int kernel, int filters, int widePlane) => (double)channels * kernel * kernel * filters * widePlane / MultiplyAddsPerNs;

    /// <summary>
    /// Where a vectorised layer's forward passes run with the filters across the vector lanes, with the estimate behind
    /// it, or null to keep the wide rows. That family computes exactly the layer's multiply-adds, whatever the stride and
    /// plane, for filters in whole blocks of 8, and pays a check of the packed weights per call and a transpose of its outputs; the wide
    /// rows (<paramref name="directNs"/>) pay the columns between rows and, over phase planes, a strided layer's zero taps.
    /// </summary>
    /// <remarks>
    /// The estimates are in the rates' own terms, AVX2's 8 lanes. With AVX-512 (<paramref name="directNs512"/>, the wide
    /// rows on 16 lanes at twice the rate) the filters in lanes run 16 to a vector when they make two blocks of 16 or more,
    /// also at twice the rate, but charged for whole tiles of two blocks of 16: an odd block of 16 gets a tile to itself.
    /// Fewer filters run 8 to a vector at the AVX2 rate.
    /// </remarks>
    public static FilterLanesChoice? FilterLanes(bool vectorized, int channels, int filters, int kernel, int outHeight, int outWidth, double directNs, double directNs512, bool phasePlanes)
    {
        long taps = (long)channels * kernel * kernel, plane = (long)outHeight * outWidth;
        if (!vectorized || filters % 8 != 0 || taps * filters > MaxWinogradValues || plane * filters > MaxWinogradValues)
        {
            return null;
        }

        double ns = FilterLanesNs(taps, filters, plane, lanes: 8);
        if (ns > Margin * directNs)
        {
            return null;
        }

        int lanes512 = filters % 16 == 0 && filters >= 32 ? 16 : 8; // as the runtime's FilterLanes.Lanes
        double ns512 = FilterLanesNs(taps, filters, plane, lanes512);
        // Chosen on its AVX2 estimate, the family stays with AVX-512 unless it is then estimated slower than the wide rows.
        bool notWithAvx512 = ns512 > directNs512;
        string reason = string.Format(
            CultureInfo.InvariantCulture,
            "filters in lanes ({0} filters, 8 or 16 to a vector, 6 positions × 2 vectors a register tile, {1:N0} multiply-adds): estimated {2:0.0} µs an image (with the check that the weights are those last packed), against {3:0.0} µs for the wide rows, so {7}; with AVX-512, {4:0.0} µs against {5:0.0} µs, so {6}",
            filters,
            taps * filters * plane,
            ns / 1000,
            directNs / 1000,
            ns512 / 1000,
            directNs512 / 1000,
            !notWithAvx512 ? "there too"
            : "the wide rows run where 512-bit multiply-adds run at full rate, the lanes where they run at half rate (Zen 4)"
                + (lanes512 == 8 ? "; the filters run 8 to a vector, too few for two blocks of 16" : string.Empty),
            phasePlanes ? "inference calls use it (training keeps the wide rows, whose phase planes its backward pass reads)" : "inference and training use it");
        return new FilterLanesChoice(reason, ns, notWithAvx512, Training: !phasePlanes);
    }

    // The filters-in-lanes estimate with vectors of lanes filters: the inner loop charged for whole tiles of two blocks
    // (an odd block runs in a tile of its own at about half the rate), plus each tile's set-up and stores, the check of
    // the packed weights and the transpose of the outputs.
    private static double FilterLanesNs(long taps, int filters, long plane, int lanes)
    {
        long pairs = (filters + (2 * lanes) - 1) / (2 * lanes), tiles = ((plane + 5) / 6) * pairs;
        double rate = FilterLanesMultiplyAddsPerNs * lanes / 8;
        return ((double)taps * 2 * lanes * pairs * plane / rate) + (tiles * FilterLanesTileNs) + (WeightCheckNs * taps * filters) + (TransposeNsPerValue * plane * filters);
    }

    /// <summary>
    /// Nanoseconds per value of the phase planes that <c>LeNet.Gen.Runtime.SpaceToDepth.Split</c> writes before a strided
    /// layer's direct kernels run: values gathered every s-th from the input, one at a time. Measured on an AMD EPYC (Zen 4):
    /// a 16-channel 18×18 padded input split into 64 planes of 9×9 (5,184 values) took 3.7 µs.
    /// </summary>
    public const double PhaseSplitNsPerValue = 0.7;

    /// <summary>The estimated nanoseconds of splitting an input into <paramref name="values"/> values of phase planes (<see cref="PhaseSplitNsPerValue"/>).</summary>
    public static double PhaseSplitNs(long values) => values * PhaseSplitNsPerValue;

    /// <summary>Nanoseconds per vector of 8 values that <c>LeNet.Gen.Runtime.ColumnCopies</c> moves: one load and one store.</summary>
    public const double ColumnCopyNsPerVector = 0.6;

    /// <summary>
    /// The most values the column copies of a layer may hold: 32 KB, a level-1 data cache. The kernel reads every copy once
    /// per register tile; copies larger than the cache come from level 2 each time, where the source's own rows would
    /// have stayed in level 1. On an AMD EPYC (Zen 4), a first layer of 3 → 16 channels, 5×5 with padding 2 on 32×32 (17,280
    /// values of copies) made its network's single image 6% slower with copies, not faster, and vgg-cifar's conv2
    /// (27,648) 1.5% slower.
    /// </summary>
    public const long MaxColumnCopyValues = 8192;

    /// <summary>
    /// Whether a stride-1 layer's wide-row forward kernels read shifted column copies of their source
    /// (<c>LeNet.Gen.Runtime.ColumnCopies</c>), with the reason, or null to read the source's rows in place. On the source's
    /// rows every output row carries <c>kernel − 1</c> positions that fall across the row's end; on the copies the outputs
    /// are back to back (<paramref name="copiesPlane"/> positions against <paramref name="widePlane"/>), for the price of
    /// writing <paramref name="kernel"/> copies of the source's output-wide columns each call. Chosen within
    /// <see cref="Margin"/>, on AVX2's planes and rates like <see cref="DirectNs"/>.
    /// </summary>
    /// <remarks>
    /// Measured on an AMD EPYC (Zen 4, AVX-512 on 256-bit units), LeNet-5's conv2 (6 → 16 channels, 14×14 → 10×10): its
    /// wide rows spend 9 vectors of 16 positions on 100 outputs, and the kernel runs at the multiply-add peak, so the
    /// columns between rows are a third of its time.
    /// </remarks>
    public static string? ColumnCopies(int channels, int kernel, int filters, int height, int outWidth, int widePlane, int copiesPlane)
    {
        long copied = (long)kernel * channels * height * outWidth;
        if (outWidth < 8 || copied > MaxColumnCopyValues)
        {
            return null;
        }

        double wide = DirectNs(channels, kernel, filters, widePlane);
        double moves = (double)kernel * channels * height * ((outWidth + 7) / 8);
        double copies = DirectNs(channels, kernel, filters, copiesPlane) + (moves * ColumnCopyNsPerVector);
        if (copies > Margin * wide)
        {
            return null;
        }

        return string.Format(
            CultureInfo.InvariantCulture,
            "the wide rows on {0} shifted column copies of the input (outputs back to back, a {1}-position plane against {2} on the input's own rows): estimated {3:0.0} µs an image with the copies, against {4:0.0} µs",
            kernel,
            copiesPlane,
            widePlane,
            copies / 1000,
            wide / 1000);
    }

    /// <summary>
    /// Whether a stride-1 layer's input gradient runs as one matrix product and a scatter (<c>LeNet.Gen.Runtime.ColumnGradient</c>)
    /// instead of the wide-row convolution of the padded output gradient with the turned kernels, with the reason, or null
    /// to keep the wide rows. The wide rows multiply every filter and channel pair over the whole padded plane
    /// (<paramref name="widePlane"/> positions, the padding's zeros included); the product over the output positions
    /// only, rounded up to whole vectors, plus one add per channel, tap and position for the scatter. The product's
    /// register tile is about as fast as the wide rows', so the counts decide, within <see cref="Margin"/>.
    /// </summary>
    public static string? ColumnGradient(int channels, int filters, int kernel, int outHeight, int outWidth, int widePlane)
    {
        long taps = (long)channels * kernel * kernel;
        long padded = ((long)outHeight * outWidth + 7) / 8 * 8;
        if ((filters + taps) * padded > MaxWinogradValues)
        {
            return null;
        }

        long wide = taps * filters * widePlane;
        long columns = (taps * filters * padded) + (taps * outHeight * outWidth);
        if (columns > Margin * wide)
        {
            return null;
        }

        return string.Format(
            CultureInfo.InvariantCulture,
            "the input gradient as one {0}×{1} by {1}×{2} product and a scatter, {3:N0} multiply-adds and adds, against {4:N0} for the wide rows over the padded {5}-position plane",
            taps,
            filters,
            padded,
            columns,
            wide,
            widePlane);
    }
}

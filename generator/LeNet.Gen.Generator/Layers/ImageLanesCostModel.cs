using System.Globalization;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// Whether batch <c>Predict</c> calls run the image-lanes pass (<c>ForwardImages</c>, the runtime's <c>ImageLanes</c>)
/// or each image through the single-image kernels, and why: the network's layers' estimated times per image added up,
/// each layer estimating its own (<see cref="ILayerKind.ImageLanesCostNs"/>) with the rates below.
/// </summary>
/// <remarks>
/// <para>
/// With one image per lane a convolution does only its own multiply-adds, where the wide-row kernels also compute the
/// columns between rows (LeNet-5's conv2 computes 14 columns a row for 10 outputs) and strided layers go through phase
/// planes; and a dense layer's weights serve every image of the call, where the single-image kernel reads them all for
/// each image. Against that, Winograd's kernels need fewer multiply-adds, which no direct kernel catches up with.
/// </para>
/// <para>
/// The rates were measured on the 2-vCPU AMD EPYC (AVX2 and FMA) of this project's benchmarks, one thread: the lanes
/// convolutions run about as fast per multiply-add as the convolution unit's wide rows (38 per ns; measured 37 for
/// LeNet-5's conv1, 44 for its conv2, 37 over vgg-cifar's), the lanes dense layers about 44 multiply-adds per ns over a
/// call of 32 images (LeNet-5's fc1) and the single-image <c>Simd.MatrixVector</c> about 18 (LeNet-5's 236 KB of dense weights come from
/// the second-level cache or further for every image).
/// </para>
/// </remarks>
internal static class ImageLanesCostModel
{
    /// <summary>Multiply-adds per nanosecond of the lanes convolutions.</summary>
    public const double ConvMultiplyAddsPerNs = 38;

    /// <summary>Multiply-adds per nanosecond of the dense layers over a call's images.</summary>
    public const double DenseMultiplyAddsPerNs = 44;

    /// <summary>Multiply-adds per nanosecond of a dense layer on one image (<c>Simd.MatrixVector</c>).</summary>
    public const double MatrixVectorMultiplyAddsPerNs = 18;

    /// <summary>Multiply-adds per nanosecond of a convolution without vector kernels (its scalar loops).</summary>
    public const double ScalarMultiplyAddsPerNs = 2;

    // A time for the comment: microseconds with one decimal, or whole nanoseconds below one microsecond.
    private static string Time(double ns) => ns < 1000
        ? string.Format(CultureInfo.InvariantCulture, "{0:0} ns", ns)
        : string.Format(CultureInfo.InvariantCulture, "{0:0.0} µs", ns / 1000);

    /// <summary>
    /// What batching the dense tail alone must save an image (its layers' single-image time less their time on a call's
    /// inputs), in nanoseconds, to be worth the copy of each image's flat output: 2 µs, about 60,000 multiply-adds.
    /// </summary>
    public const double TailMinimumSavingNs = 2000;

    /// <summary>
    /// The sentence for the generated comment when a network that keeps its layers on images on the single-image kernels
    /// batches its dense tail (saving at least <see cref="TailMinimumSavingNs"/> an image), or null when it does not.
    /// </summary>
    public static string? ChooseTail(double tailNs, double perImageNs)
    {
        if (perImageNs - tailNs < TailMinimumSavingNs)
        {
            return null;
        }

        return $"the dense layers estimated {Time(tailNs)} an image on the call's inputs at once, against {Time(perImageNs)} one image at a time";
    }

    /// <summary>The share of the single-image kernels' estimated time below which the lanes pass is chosen, since the estimates are rough.</summary>
    public const double Margin = 0.9;

    /// <summary>
    /// The sentence for the generated comment when the lanes pass is chosen (its estimate at most <see cref="Margin"/>
    /// of the single-image kernels'), or null to keep the single-image kernels.
    /// </summary>
    public static string? Choose(double lanesNs, double perImageNs)
    {
        if (lanesNs > Margin * perImageNs)
        {
            return null;
        }

        return $"estimated {Time(lanesNs)} an image, against {Time(perImageNs)} through the single-image kernels";
    }
}

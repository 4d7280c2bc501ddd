using System;
using System.IO;
using System.Threading;
using LeNet.Gen.Data;

namespace LeNet.Web;

/// <summary>The 8,000 training and 2,000 test digits embedded in the sample (see samples/LeNet.Mnist/Data/mnist-npm10k).</summary>
public sealed class Digits
{
    private const string ResourcePrefix = "mnist-npm10k/";
    private readonly Lazy<(ImageDataset Train, ImageDataset Test)> _sets = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The training digits, 32×32 (each 28×28 digit padded by 2 pixels), values in [0, 1] with ink = 1.</summary>
    public ImageDataset Train => _sets.Value.Train;

    /// <summary>The test digits, in the same form.</summary>
    public ImageDataset Test => _sets.Value.Test;

    /// <summary>A test digit as the 28×28 pixels MNIST stores (the padding taken off), row-major.</summary>
    /// <param name="index">From 0 to 1,999.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the test set.</exception>
    public float[] TestPixels28(int index)
    {
        ReadOnlySpan<float> image = Test.Image(index);
        var pixels = new float[28 * 28];
        for (int y = 0; y < 28; y++)
        {
            image.Slice(((y + 2) * 32) + 2, 28).CopyTo(pixels.AsSpan(y * 28, 28));
        }

        return pixels;
    }

    private static (ImageDataset, ImageDataset) Load()
    {
        using Stream trainImages = Open("train-images-idx3-ubyte.gz");
        using Stream trainLabels = Open("train-labels-idx1-ubyte.gz");
        using Stream testImages = Open("t10k-images-idx3-ubyte.gz");
        using Stream testLabels = Open("t10k-labels-idx1-ubyte.gz");
        return Mnist.Load(trainImages, trainLabels, testImages, testLabels);
    }

    private static Stream Open(string file) =>
        typeof(Digits).Assembly.GetManifestResourceStream(ResourcePrefix + file)
        ?? throw new InvalidOperationException($"The sample was built without its embedded resource {ResourcePrefix}{file}.");
}

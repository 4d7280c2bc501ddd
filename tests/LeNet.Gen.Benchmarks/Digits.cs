using System;
using System.IO;
using LeNet.Gen.Data;

namespace LeNet.Gen.Benchmarks;

/// <summary>The MNIST digits bundled with the repository (8,000 training and 2,000 test images, 32×32), loaded once per process.</summary>
public sealed class Digits
{
    private const string RepositoryPath = "samples/LeNet.Mnist/Data/mnist-npm10k";

    private static readonly Lazy<Digits> Loaded = new(Load);

    private Digits(ImageDataset train, ImageDataset test, string directory)
    {
        TrainImages = train.Images.ToArray();
        TrainLabels = train.Labels.ToArray();
        TestImages = test.Images.ToArray();
        TestLabels = test.Labels.ToArray();
        Directory = directory;
    }

    /// <summary>The digits, loaded on first use.</summary>
    public static Digits Instance => Loaded.Value;

    /// <summary>Values in one image (1×32×32).</summary>
    public static int ImageLength => 32 * 32;

    /// <summary>Where the files were read from.</summary>
    public string Directory { get; }

    /// <summary>All training images, one after another, values in [0, 1].</summary>
    public float[] TrainImages { get; }

    public int[] TrainLabels { get; }

    public float[] TestImages { get; }

    public int[] TestLabels { get; }

    public int TrainCount => TrainLabels.Length;

    public int TestCount => TestLabels.Length;

    public ReadOnlySpan<float> TrainImage(int index) => TrainImages.AsSpan(index * ImageLength, ImageLength);

    public ReadOnlySpan<float> TestImage(int index) => TestImages.AsSpan(index * ImageLength, ImageLength);

    private static Digits Load()
    {
        string directory = Locate();
        (ImageDataset train, ImageDataset test) = Mnist.Load(directory, size: 32);
        return new Digits(train, test, directory);
    }

    // The build copies the files next to the assembly; failing that (BenchmarkDotNet runs its own host process from a
    // generated project), the repository is searched for upwards from the assembly and from the current directory.
    private static string Locate()
    {
        string copied = Path.Combine(AppContext.BaseDirectory, "Data", "mnist-npm10k");
        if (File.Exists(Path.Combine(copied, "train-images-idx3-ubyte.gz")))
        {
            return copied;
        }

        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? folder = new(start); folder is not null; folder = folder.Parent)
            {
                string candidate = Path.Combine(folder.FullName, RepositoryPath);
                if (System.IO.Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"The bundled MNIST digits were not found: looked in {copied} and for {RepositoryPath} above {AppContext.BaseDirectory} and {Environment.CurrentDirectory}.");
    }
}

using System;
using System.IO;
using System.Reflection;
using LeNet.Gen.Data;

// The sample's namespace, LeNet.Mnist, hides the library's Mnist class from a plain `Mnist`.
using MnistFiles = LeNet.Gen.Data.Mnist;

namespace LeNet.Mnist;

/// <summary>A training and a test set, with a name for the console.</summary>
/// <param name="Name">Where the images come from.</param>
/// <param name="Train">The training set.</param>
/// <param name="Test">The test set.</param>
internal sealed record DataSource(string Name, ImageDataset Train, ImageDataset Test)
{
    private const string ResourcePrefix = "mnist-npm10k/";

    /// <summary>Loads the folder's four IDX files, or the digits embedded in the sample when <paramref name="directory"/> is null.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the four files is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or images and labels do not agree.</exception>
    public static DataSource Load(string? directory)
    {
        if (directory is null)
        {
            return LoadEmbedded();
        }

        var (train, test) = MnistFiles.Load(directory);
        return new DataSource(directory, train, test);
    }

    /// <summary>The 8,000 + 2,000 MNIST digits compiled into the sample (see Data/mnist-npm10k/README.md).</summary>
    private static DataSource LoadEmbedded()
    {
        using Stream trainImages = Open("train-images-idx3-ubyte.gz");
        using Stream trainLabels = Open("train-labels-idx1-ubyte.gz");
        using Stream testImages = Open("t10k-images-idx3-ubyte.gz");
        using Stream testLabels = Open("t10k-labels-idx1-ubyte.gz");
        var (train, test) = MnistFiles.Load(trainImages, trainLabels, testImages, testLabels);
        return new DataSource("MNIST digits (embedded)", train, test);
    }

    private static Stream Open(string file) =>
        Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file)
        ?? throw new InvalidOperationException($"The sample was built without its embedded resource {ResourcePrefix}{file}.");
}

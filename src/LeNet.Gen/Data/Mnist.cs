using System;
using System.IO;

namespace LeNet.Gen.Data;

/// <summary>
/// Loads MNIST-style datasets (MNIST, Fashion-MNIST, or any set of ten-class IDX files with the same names): a training
/// and a test set of images with labels 0–9, centred on a square canvas (32 × 32 by default, as LeNet-5 expects).
/// </summary>
public static class Mnist
{
    private static readonly FileRole[] Roles =
    [
        new("training images", "train-images", "idx3-ubyte"),
        new("training labels", "train-labels", "idx1-ubyte"),
        new("test images", "t10k-images", "idx3-ubyte"),
        new("test labels", "t10k-labels", "idx1-ubyte"),
    ];

    /// <summary>
    /// Loads the four standard files from a folder. For each, the first of these names that exists is used
    /// (shown for the training images; the others follow the same pattern):
    /// <c>train-images-idx3-ubyte</c>, <c>train-images-idx3-ubyte.gz</c>, <c>train-images.idx3-ubyte</c>,
    /// <c>train-images.idx3-ubyte.gz</c>. The other files are <c>train-labels-idx1-ubyte</c>,
    /// <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>. The dashed names are those of the original
    /// MNIST and Fashion-MNIST downloads (and of Debian's <c>dataset-fashion-mnist</c> package, in
    /// <c>/usr/share/datasets/fashion-mnist</c>); the dotted ones appear in some re-distributions.
    /// Whether a file is gzip-compressed is decided from its contents.
    /// </summary>
    /// <param name="directory">The folder holding the files.</param>
    /// <param name="size">Side of the square canvas the images are centred in; at least the image size (28 for MNIST).</param>
    /// <returns>The training and the test set.</returns>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the four files is missing; the message says which and lists the names tried.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or images and labels do not agree.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(string directory, int size = 32)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(Text.Format($"The MNIST folder '{directory}' does not exist."));
        }

        // Locate all four files before reading any, so a missing one is reported at once.
        string[] paths = new string[Roles.Length];
        for (int i = 0; i < Roles.Length; i++)
        {
            paths[i] = Roles[i].Find(directory);
        }

        ImageDataset train = ImageDataset.Load(paths[0], paths[1], size, classes: 10);
        ImageDataset test = ImageDataset.Load(paths[2], paths[3], size, classes: 10);
        return (train, test);
    }

    /// <summary>Loads MNIST-style data from four streams, each an IDX file, raw or gzip-compressed. The streams are read to the end and left open.</summary>
    /// <param name="trainImages">The training images.</param>
    /// <param name="trainLabels">The training labels.</param>
    /// <param name="testImages">The test images.</param>
    /// <param name="testLabels">The test labels.</param>
    /// <param name="size">Side of the square canvas the images are centred in; at least the image size.</param>
    /// <returns>The training and the test set.</returns>
    /// <exception cref="ArgumentNullException">A stream is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    /// <exception cref="InvalidDataException">A stream does not hold valid IDX data (the message names which), or images and labels do not agree.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(Stream trainImages, Stream trainLabels, Stream testImages, Stream testLabels, int size = 32)
    {
        ArgumentNullException.ThrowIfNull(trainImages);
        ArgumentNullException.ThrowIfNull(trainLabels);
        ArgumentNullException.ThrowIfNull(testImages);
        ArgumentNullException.ThrowIfNull(testLabels);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ImageDataset train = FromStreams(trainImages, trainLabels, size, Roles[0], Roles[1]);
        ImageDataset test = FromStreams(testImages, testLabels, size, Roles[2], Roles[3]);
        return (train, test);
    }

    private static ImageDataset FromStreams(Stream images, Stream labels, int size, FileRole imageRole, FileRole labelRole)
    {
        string imagesName = imageRole.Description + " stream";
        string labelsName = labelRole.Description + " stream";
        IdxImages pixels = Idx.ReadImages(images, imagesName);
        byte[] values = Idx.ReadLabels(labels, labelsName);
        return ImageDataset.Create(pixels, values, size, classes: 10, imagesName, labelsName);
    }

    private sealed record FileRole(string Description, string Stem, string Format)
    {
        public string[] Candidates =>
        [
            $"{Stem}-{Format}",
            $"{Stem}-{Format}.gz",
            $"{Stem}.{Format}",
            $"{Stem}.{Format}.gz",
        ];

        public string Find(string directory)
        {
            string[] names = Candidates;
            foreach (string name in names)
            {
                string path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }

            throw new FileNotFoundException(
                Text.Format($"The MNIST {Description} file is missing from '{directory}': looked for {string.Join(", ", names)}."),
                Path.Combine(directory, names[0]));
        }
    }
}

using System;
using System.IO;

namespace LeNet.Gen.Data;

/// <summary>
/// Labelled single-channel images ready for a network: every image is a <see cref="Size"/> × <see cref="Size"/> square of
/// floats in [0, 1] (byte / 255), the original picture centred on a zero background, and every label an integer in
/// [0, <see cref="Classes"/>). Images are stored contiguously, so <see cref="Images"/> can be handed to a network as one batch.
/// </summary>
public sealed class ImageDataset
{
    private static readonly float[] ByteToUnit = CreateByteTable();

    private readonly float[] _images;
    private readonly int[] _labels;

    private ImageDataset(float[] images, int[] labels, int size, int classes)
    {
        _images = images;
        _labels = labels;
        Size = size;
        Classes = classes;
    }

    /// <summary>Number of images (and labels).</summary>
    public int Count => _labels.Length;

    /// <summary>Side of every square image in pixels.</summary>
    public int Size { get; }

    /// <summary>Floats per image: <see cref="Size"/> × <see cref="Size"/> (one channel).</summary>
    public int ImageLength => Size * Size;

    /// <summary>Number of classes; every label lies in [0, <see cref="Classes"/>).</summary>
    public int Classes { get; }

    /// <summary>All images, <see cref="Count"/> × <see cref="ImageLength"/> floats, image after image, row by row.</summary>
    public ReadOnlySpan<float> Images => _images;

    /// <summary>All labels, one per image.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>
    /// Converts IDX images and labels: each pixel becomes byte / 255, and each image is centred in a
    /// <paramref name="size"/> × <paramref name="size"/> canvas of zeros (28 × 28 in 32 gets 2 zero pixels on every side;
    /// when the margin is odd, the extra zero row or column goes at the bottom or right).
    /// </summary>
    /// <param name="images">The images; none may be larger than <paramref name="size"/> in either direction.</param>
    /// <param name="labels">One label per image, each below <paramref name="classes"/>.</param>
    /// <param name="size">Side of the square canvas, at least 1.</param>
    /// <param name="classes">Number of classes, at least 1.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> or <paramref name="classes"/> is below 1, or the converted images would not fit in one array.</exception>
    /// <exception cref="InvalidDataException">The counts differ, the images are larger than the canvas, or a label is not below <paramref name="classes"/>.</exception>
    public static ImageDataset FromIdx(IdxImages images, byte[] labels, int size = 32, int classes = 10)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ValidateShape(size, classes);
        return Create(images, labels, size, classes, imagesSource: null, labelsSource: null);
    }

    /// <summary>
    /// Reads an IDX image file and an IDX label file (each raw or gzip-compressed) and converts them as
    /// <see cref="FromIdx"/> does; error messages name the file concerned.
    /// </summary>
    /// <param name="imagesPath">Path of the image file.</param>
    /// <param name="labelsPath">Path of the label file.</param>
    /// <param name="size">Side of the square canvas, at least 1.</param>
    /// <param name="classes">Number of classes, at least 1.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">A path is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> or <paramref name="classes"/> is below 1.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or the files do not agree (see <see cref="FromIdx"/>).</exception>
    public static ImageDataset Load(string imagesPath, string labelsPath, int size = 32, int classes = 10)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);
        ValidateShape(size, classes);
        IdxImages images = Idx.ReadImages(imagesPath);
        byte[] labels = Idx.ReadLabels(labelsPath);
        return Create(images, labels, size, classes, imagesPath, labelsPath);
    }

    /// <summary>The image at <paramref name="index"/>: <see cref="ImageLength"/> floats, row by row.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> − 1.</param>
    /// <returns>A view of the stored image.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the dataset.</exception>
    public ReadOnlySpan<float> Image(int index)
    {
        CheckIndex(index, nameof(index));
        return _images.AsSpan(index * ImageLength, ImageLength);
    }

    /// <summary>The label of the image at <paramref name="index"/>.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> − 1.</param>
    /// <returns>A class in [0, <see cref="Classes"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the dataset.</exception>
    public int Label(int index)
    {
        CheckIndex(index, nameof(index));
        return _labels[index];
    }

    /// <summary>
    /// A random order of the images for one epoch: a permutation of 0 … <see cref="Count"/> − 1 that depends only on
    /// <paramref name="seed"/>, <paramref name="epoch"/> and <see cref="Count"/>, identical on every machine and .NET version.
    /// </summary>
    /// <remarks>
    /// A Fisher–Yates shuffle (from the last position down, swapping position i with a uniform j in [0, i]) driven by a
    /// SplitMix64 generator whose 64-bit state starts as <c>(uint)seed &lt;&lt; 32 | (uint)epoch</c>; each j is drawn
    /// with Lemire's unbiased multiply-and-reject method. <see cref="Random"/> is not used, as its sequences may change between versions.
    /// </remarks>
    /// <param name="seed">Fixes the sequence of orders for a training run.</param>
    /// <param name="epoch">Selects the order within that sequence; every epoch gets its own.</param>
    /// <returns>A new array holding every index once.</returns>
    public int[] Shuffle(int seed, int epoch)
    {
        int[] order = new int[Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var random = NetworkRandom.FromState(((ulong)(uint)seed << 32) | (uint)epoch);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)random.NextBelow((ulong)i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    /// <summary>
    /// Gathers a mini-batch into the caller's buffers without allocating: image <c>indices[k]</c> goes to
    /// <c>images[k × ImageLength ..]</c> and its label to <c>labels[k]</c>. All indices are checked before anything is written.
    /// </summary>
    /// <param name="indices">Images to copy, each from 0 to <see cref="Count"/> − 1; repeats are allowed.</param>
    /// <param name="images">Exactly <c>indices.Length</c> × <see cref="ImageLength"/> floats.</param>
    /// <param name="labels">Exactly <c>indices.Length</c> ints.</param>
    /// <exception cref="ArgumentException">A buffer's length does not match <paramref name="indices"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    public void CopyBatch(ReadOnlySpan<int> indices, Span<float> images, Span<int> labels)
    {
        int length = ImageLength;
        long expectedFloats = (long)indices.Length * length;
        if (images.Length != expectedFloats)
        {
            throw new ArgumentException(
                Text.Format($"The images buffer holds {images.Length} floats, expected {expectedFloats} ({indices.Length} indices × {length})."),
                nameof(images));
        }

        if (labels.Length != indices.Length)
        {
            throw new ArgumentException(
                Text.Format($"The labels buffer holds {labels.Length} ints, expected {indices.Length} (one per index)."),
                nameof(labels));
        }

        for (int k = 0; k < indices.Length; k++)
        {
            if ((uint)indices[k] >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(indices),
                    indices[k],
                    Text.Format($"indices[{k}] is {indices[k]}, expected 0 to {Count - 1}."));
            }
        }

        for (int k = 0; k < indices.Length; k++)
        {
            int index = indices[k];
            _images.AsSpan(index * length, length).CopyTo(images.Slice(k * length, length));
            labels[k] = _labels[index];
        }
    }

    /// <summary>
    /// Writes the image at <paramref name="index"/> moved by <paramref name="dx"/> pixels to the right and
    /// <paramref name="dy"/> pixels down (negative values move left and up); pixels moved in from outside are 0.
    /// Output pixel (x, y) is input pixel (x − dx, y − dy). Shifts of <see cref="Size"/> or more give a blank image.
    /// </summary>
    /// <param name="index">From 0 to <see cref="Count"/> − 1.</param>
    /// <param name="dx">Horizontal shift; positive moves right.</param>
    /// <param name="dy">Vertical shift; positive moves down.</param>
    /// <param name="destination">Exactly <see cref="ImageLength"/> floats.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the dataset.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length.</exception>
    public void CopyShifted(int index, int dx, int dy, Span<float> destination)
    {
        CheckIndex(index, nameof(index));
        int n = Size;
        if (destination.Length != ImageLength)
        {
            throw new ArgumentException(
                Text.Format($"The destination holds {destination.Length} floats, expected {ImageLength} ({n}×{n})."),
                nameof(destination));
        }

        dx = Math.Clamp(dx, -n, n);
        dy = Math.Clamp(dy, -n, n);
        ReadOnlySpan<float> source = _images.AsSpan(index * ImageLength, ImageLength);

        // Columns of the output that receive pixels: x in [first, end), read from column x - dx.
        int first = Math.Max(0, dx);
        int end = Math.Min(n, n + dx);
        for (int y = 0; y < n; y++)
        {
            Span<float> row = destination.Slice(y * n, n);
            int sourceRow = y - dy;
            if (sourceRow < 0 || sourceRow >= n || first >= end)
            {
                row.Clear();
                continue;
            }

            row[..first].Clear();
            source.Slice(sourceRow * n + first - dx, end - first).CopyTo(row[first..end]);
            row[end..].Clear();
        }
    }

    /// <summary>
    /// Mirrors a square image left to right in place: pixel (y, x) trades places with (y, <paramref name="size"/> − 1 − x).
    /// Used by <see cref="Training.TrainingOptions.HorizontalFlip"/>.
    /// </summary>
    /// <param name="image">The image, <paramref name="size"/> × <paramref name="size"/> values, row-major.</param>
    /// <param name="size">Its side in pixels.</param>
    /// <exception cref="ArgumentException"><paramref name="image"/> does not hold <paramref name="size"/>² values.</exception>
    public static void MirrorRows(Span<float> image, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (image.Length != size * size)
        {
            throw new ArgumentException(
                Text.Format($"The image holds {image.Length} floats, expected {size * size} ({size}×{size})."),
                nameof(image));
        }

        for (int y = 0; y < size; y++)
        {
            image.Slice(y * size, size).Reverse();
        }
    }

    internal static ImageDataset Create(IdxImages images, byte[] labels, int size, int classes, string? imagesSource, string? labelsSource)
    {
        int count = images.Count;
        if (labels.Length != count)
        {
            string where = imagesSource is null && labelsSource is null
                ? string.Empty
                : Text.Format($" ({imagesSource ?? "images"} and {labelsSource ?? "labels"})");
            throw new InvalidDataException(Text.Format($"{count} images but {labels.Length} labels{where}: there must be one label per image"));
        }

        if (images.Rows > size || images.Columns > size)
        {
            string prefix = imagesSource is null ? string.Empty : imagesSource + ": ";
            throw new InvalidDataException(Text.Format($"{prefix}images of {images.Rows}×{images.Columns} do not fit in the {size}×{size} canvas"));
        }

        int[] labelValues = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (labels[i] >= classes)
            {
                string prefix = labelsSource is null ? string.Empty : labelsSource + ": ";
                throw new InvalidDataException(Text.Format($"{prefix}label {labels[i]} at index {i} is outside 0–{classes - 1}"));
            }

            labelValues[i] = labels[i];
        }

        long imageLength = (long)size * size;
        long totalFloats = imageLength * count;
        if (totalFloats > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(size),
                size,
                Text.Format($"{count} images of {size}×{size} need {totalFloats} floats, more than one array can hold ({Array.MaxLength})."));
        }

        float[] floats = new float[totalFloats];
        int rows = images.Rows;
        int columns = images.Columns;
        int top = (size - rows) / 2;
        int left = (size - columns) / 2;
        ReadOnlySpan<byte> pixels = images.Pixels.Span;
        float[] table = ByteToUnit;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> picture = pixels.Slice(i * rows * columns, rows * columns);
            Span<float> canvas = floats.AsSpan((int)(i * imageLength), (int)imageLength);
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<byte> sourceRow = picture.Slice(r * columns, columns);
                Span<float> destinationRow = canvas.Slice((top + r) * size + left, columns);
                for (int c = 0; c < columns; c++)
                {
                    destinationRow[c] = table[sourceRow[c]];
                }
            }
        }

        return new ImageDataset(floats, labelValues, size, classes);
    }

    private static void ValidateShape(int size, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
    }

    private void CheckIndex(int index, string parameter)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(parameter, index, Text.Format($"Index {index} is outside the dataset, expected 0 to {Count - 1}."));
        }
    }

    private static float[] CreateByteTable()
    {
        float[] table = new float[256];
        for (int b = 0; b < table.Length; b++)
        {
            table[b] = b / 255f;
        }

        return table;
    }
}

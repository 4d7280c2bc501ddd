using System;

namespace LeNet.Gen.Data;

/// <summary>
/// The contents of an IDX image file: <see cref="Count"/> grey-level images of <see cref="Rows"/> × <see cref="Columns"/>
/// bytes, stored one after another, each row by row (0 is usually background, 255 ink).
/// </summary>
public sealed class IdxImages
{
    /// <summary>Wraps pixel data that is already in memory, for example images produced by a test or another loader.</summary>
    /// <param name="count">Number of images, at least 1.</param>
    /// <param name="rows">Height of every image, at least 1.</param>
    /// <param name="columns">Width of every image, at least 1.</param>
    /// <param name="pixels">Exactly <paramref name="count"/> × <paramref name="rows"/> × <paramref name="columns"/> bytes, image after image, row by row. Not copied.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    /// <exception cref="ArgumentException">The length of <paramref name="pixels"/> is not the product of the dimensions.</exception>
    public IdxImages(int count, int rows, int columns, ReadOnlyMemory<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        long expected = (long)count * rows * columns;
        if (pixels.Length != expected)
        {
            throw new ArgumentException(
                Text.Format($"{count} images of {rows}×{columns} need {expected} bytes of pixels, but {pixels.Length} were given."),
                nameof(pixels));
        }

        Count = count;
        Rows = rows;
        Columns = columns;
        Pixels = pixels;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Height of every image in pixels.</summary>
    public int Rows { get; }

    /// <summary>Width of every image in pixels.</summary>
    public int Columns { get; }

    /// <summary>All pixels: <see cref="Count"/> × <see cref="Rows"/> × <see cref="Columns"/> bytes, image after image, row by row.</summary>
    public ReadOnlyMemory<byte> Pixels { get; }
}

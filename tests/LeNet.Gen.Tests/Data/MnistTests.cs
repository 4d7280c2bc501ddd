using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using LeNet.Gen.Data;
using Xunit;

namespace LeNet.Gen.Tests.Data;

public class MnistTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Data", "mnist-npm10k");

    private static readonly Lazy<(ImageDataset Train, ImageDataset Test)> Digits = new(() => Mnist.Load(Folder));

    /// <summary>Sum of the pixel bytes of an IDX image file, read without the library: gunzip, skip the 16-byte header.</summary>
    private static long RawPixelSum(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Folder, file)), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        gzip.CopyTo(raw);
        byte[] bytes = raw.ToArray();
        long sum = 0;
        for (int i = 16; i < bytes.Length; i++)
        {
            sum += bytes[i];
        }

        return sum;
    }

    private static long LevelSum(ReadOnlySpan<float> values)
    {
        long sum = 0;
        foreach (float v in values)
        {
            sum += (long)MathF.Round(v * 255f);
        }

        return sum;
    }

    [Fact]
    public void The_shipped_digits_load_with_their_counts_and_shape()
    {
        var (train, test) = Digits.Value;

        Assert.Equal(8000, train.Count);
        Assert.Equal(2000, test.Count);
        foreach (var set in new[] { train, test })
        {
            Assert.Equal(32, set.Size);
            Assert.Equal(1024, set.ImageLength);
            Assert.Equal(10, set.Classes);
            Assert.Equal(set.Count * 1024, set.Images.Length);
        }
    }

    [Fact]
    public void Labels_match_the_files()
    {
        var (train, test) = Digits.Value;

        // Counts per digit 0–9 and the first labels, read from the files with Python's gzip module.
        Assert.Equal(new[] { 810, 900, 787, 817, 789, 694, 826, 848, 743, 786 }, Histogram(train));
        Assert.Equal(new[] { 191, 227, 204, 215, 191, 169, 188, 222, 201, 192 }, Histogram(test));
        Assert.Equal(new[] { 2, 1, 6, 1, 7, 6, 9, 9, 6, 1, 4, 6 }, train.Labels[..12].ToArray());
        Assert.Equal(new[] { 2, 2, 1, 4, 6, 6, 1, 2, 9, 4, 9, 9 }, test.Labels[..12].ToArray());

        static int[] Histogram(ImageDataset set)
        {
            int[] counts = new int[10];
            foreach (int label in set.Labels)
            {
                counts[label]++;
            }

            return counts;
        }
    }

    [Fact]
    public void Pixel_sums_match_the_raw_bytes()
    {
        var (train, test) = Digits.Value;

        long trainRaw = RawPixelSum("train-images-idx3-ubyte.gz");
        long testRaw = RawPixelSum("t10k-images-idx3-ubyte.gz");

        Assert.Equal(210_037_446, trainRaw); // computed separately with Python
        Assert.Equal(52_109_154, testRaw);
        Assert.Equal(trainRaw, LevelSum(train.Images));
        Assert.Equal(testRaw, LevelSum(test.Images));
        Assert.Equal(1f, train.Images.ToArray().Max());
        Assert.Equal(0f, train.Images.ToArray().Min());
    }

    [Fact]
    public void Every_value_is_a_grey_level_over_255()
    {
        var (_, test) = Digits.Value;

        foreach (float v in test.Images)
        {
            Assert.Equal(MathF.Round(v * 255f) / 255f, v);
        }
    }

    [Fact]
    public void Digits_sit_in_the_middle_with_a_two_pixel_zero_border()
    {
        var (train, test) = Digits.Value;

        foreach (var set in new[] { train, test })
        {
            for (int i = 0; i < set.Count; i++)
            {
                ReadOnlySpan<float> image = set.Image(i);
                for (int y = 0; y < 32; y++)
                {
                    for (int x = 0; x < 32; x++)
                    {
                        if (x < 2 || x >= 30 || y < 2 || y >= 30)
                        {
                            Assert.Equal(0f, image[y * 32 + x]);
                        }
                    }
                }
            }
        }

        // Row 14 of the first training digit (bytes from the file) lands in row 16, columns 2–29.
        int[] row14 = { 0, 0, 0, 0, 0, 0, 0, 0, 31, 132, 152, 112, 41, 0, 0, 21, 254, 253, 254, 131, 0, 0, 0, 0, 0, 0, 0, 0 };
        int[] placed = train.Image(0).Slice(16 * 32 + 2, 28).ToArray().Select(v => (int)MathF.Round(v * 255f)).ToArray();
        Assert.Equal(row14, placed);
    }

    [Fact]
    public void Size_28_keeps_the_original_pixels_without_border()
    {
        var (_, test) = Mnist.Load(Folder, size: 28);

        Assert.Equal(784, test.ImageLength);
        Assert.Equal(52_109_154, LevelSum(test.Images));
        int[] row14 = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 175, 253, 252, 174, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        Assert.Equal(row14, test.Image(0).Slice(14 * 28, 28).ToArray().Select(v => (int)MathF.Round(v * 255f)).ToArray());
    }

    [Fact]
    public void A_canvas_smaller_than_the_digits_is_rejected()
    {
        var error = Assert.Throws<InvalidDataException>(() => Mnist.Load(Folder, size: 27));

        Assert.Contains("images of 28×28 do not fit in the 27×27 canvas", error.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", error.Message);
    }

    [Fact]
    public void Streams_load_the_same_data_as_the_folder()
    {
        var (train, test) = Digits.Value;
        using var trainImages = File.OpenRead(Path.Combine(Folder, "train-images-idx3-ubyte.gz"));
        using var trainLabels = File.OpenRead(Path.Combine(Folder, "train-labels-idx1-ubyte.gz"));
        using var testImages = new MemoryStream(File.ReadAllBytes(Path.Combine(Folder, "t10k-images-idx3-ubyte.gz")));
        using var testLabels = new MemoryStream(File.ReadAllBytes(Path.Combine(Folder, "t10k-labels-idx1-ubyte.gz")));

        var (train2, test2) = Mnist.Load(trainImages, trainLabels, testImages, testLabels);

        Assert.True(train.Images.SequenceEqual(train2.Images));
        Assert.True(train.Labels.SequenceEqual(train2.Labels));
        Assert.True(test.Images.SequenceEqual(test2.Images));
        Assert.True(test.Labels.SequenceEqual(test2.Labels));
    }

    [Fact]
    public void Stream_errors_name_the_role_of_the_stream()
    {
        byte[] images = IdxBytes.Images(2, 1, 1, new byte[2]);

        var error = Assert.Throws<InvalidDataException>(() => Mnist.Load(
            new MemoryStream(images),
            new MemoryStream(IdxBytes.Labels(3, 10)),
            new MemoryStream(images),
            new MemoryStream(IdxBytes.Labels(0, 0))));
        Assert.Equal("training labels stream: label 10 at index 1 is outside 0–9", error.Message);

        var magic = Assert.Throws<InvalidDataException>(() => Mnist.Load(
            new MemoryStream(images),
            new MemoryStream(IdxBytes.Labels(0, 0)),
            new MemoryStream(IdxBytes.Labels(0, 0)),
            new MemoryStream(IdxBytes.Labels(0, 0))));
        Assert.StartsWith("test images stream: magic number 0x00000801", magic.Message);

        Assert.Equal("testLabels", Assert.Throws<ArgumentNullException>(() => Mnist.Load(
            new MemoryStream(images), new MemoryStream(images), new MemoryStream(images), null!)).ParamName);
    }

    private static void WriteSmallSet(TempFolder folder, Func<string, string> name, bool gzip)
    {
        byte[] Encode(byte[] raw) => gzip ? IdxBytes.Gzip(raw) : raw;
        folder.Write(name("train-images-idx3-ubyte"), Encode(IdxBytes.Images(2, 2, 2, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })));
        folder.Write(name("train-labels-idx1-ubyte"), Encode(IdxBytes.Labels(3, 9)));
        folder.Write(name("t10k-images-idx3-ubyte"), Encode(IdxBytes.Images(1, 2, 2, new byte[] { 9, 10, 11, 12 })));
        folder.Write(name("t10k-labels-idx1-ubyte"), Encode(IdxBytes.Labels(5)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Both_naming_styles_raw_or_compressed_are_found(bool dotted, bool gzip)
    {
        using var folder = new TempFolder();
        WriteSmallSet(
            folder,
            stem =>
            {
                string name = dotted ? stem.Replace("s-idx", "s.idx", StringComparison.Ordinal) : stem;
                return gzip ? name + ".gz" : name;
            },
            gzip);

        var (train, test) = Mnist.Load(folder.Path, size: 4);

        Assert.Equal(new[] { 3, 9 }, train.Labels.ToArray());
        Assert.Equal(new[] { 5 }, test.Labels.ToArray());
        int[] expected = { 0, 0, 0, 0, 0, 9, 10, 0, 0, 11, 12, 0, 0, 0, 0, 0 };
        Assert.Equal(expected, test.Image(0).ToArray().Select(v => (int)MathF.Round(v * 255f)).ToArray());
    }

    [Fact]
    public void A_missing_file_is_named_with_the_names_tried()
    {
        using var folder = new TempFolder();
        WriteSmallSet(folder, stem => stem, gzip: false);
        File.Delete(Path.Combine(folder.Path, "t10k-labels-idx1-ubyte"));

        var error = Assert.Throws<FileNotFoundException>(() => Mnist.Load(folder.Path));

        Assert.Contains("test labels", error.Message);
        Assert.Contains(folder.Path, error.Message);
        foreach (string name in new[] { "t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte", "t10k-labels.idx1-ubyte.gz" })
        {
            Assert.Contains(name, error.Message);
        }

        Assert.Equal(Path.Combine(folder.Path, "t10k-labels-idx1-ubyte"), error.FileName);
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        string path = Path.Combine(Path.GetTempPath(), "lenet-no-such-folder-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<DirectoryNotFoundException>(() => Mnist.Load(path));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        Assert.Equal("directory", Assert.ThrowsAny<ArgumentException>(() => Mnist.Load("")).ParamName);
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => Mnist.Load(Folder, size: 0));
        Assert.Equal("size", size.ParamName);
    }
}

using System;
using System.IO;
using System.Linq;
using LeNet.Gen.Data;
using Xunit;

namespace LeNet.Gen.Tests.Data;

public class ImageDatasetTests
{
    /// <summary>Turns floats back into the grey levels they were made from (v · 255, rounded), for exact comparisons.</summary>
    private static int[] Levels(ReadOnlySpan<float> values)
    {
        int[] levels = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            levels[i] = (int)MathF.Round(values[i] * 255f);
        }

        return levels;
    }

    private static ImageDataset Dataset(int count, int rows, int columns, byte[] pixels, byte[] labels, int size, int classes = 10) =>
        ImageDataset.FromIdx(new IdxImages(count, rows, columns, pixels), labels, size, classes);

    /// <summary>One 3×3 image holding the levels 1 … 9 row by row, on a 3×3 canvas.</summary>
    private static ImageDataset NineLevels() => Dataset(1, 3, 3, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, new byte[] { 0 }, size: 3);

    [Fact]
    public void Pixels_become_byte_over_255_centred_on_zeros()
    {
        var data = Dataset(1, 2, 2, new byte[] { 0, 51, 102, 255 }, new byte[] { 3 }, size: 4);

        Assert.Equal(1, data.Count);
        Assert.Equal(4, data.Size);
        Assert.Equal(16, data.ImageLength);
        Assert.Equal(10, data.Classes);
        Assert.Equal(
            new[]
            {
                0, 0, 0, 0,
                0, 0, 51, 0,
                0, 102, 255, 0,
                0, 0, 0, 0,
            },
            Levels(data.Image(0)));
        Assert.Equal(51 / 255f, data.Image(0)[6]);
        Assert.Equal(1f, data.Image(0)[10]);
        Assert.Equal(3, data.Label(0));
    }

    [Fact]
    public void An_odd_margin_puts_the_extra_zeros_at_the_bottom_and_right()
    {
        var data = Dataset(1, 2, 2, new byte[] { 0, 51, 102, 255 }, new byte[] { 0 }, size: 5);

        Assert.Equal(
            new[]
            {
                0, 0, 0, 0, 0,
                0, 0, 51, 0, 0,
                0, 102, 255, 0, 0,
                0, 0, 0, 0, 0,
                0, 0, 0, 0, 0,
            },
            Levels(data.Image(0)));
    }

    [Fact]
    public void Rectangular_images_are_centred_on_each_axis()
    {
        var data = Dataset(2, 1, 3, new byte[] { 10, 20, 30, 40, 50, 60 }, new byte[] { 1, 2 }, size: 4);

        Assert.Equal(new[] { 0, 0, 0, 0, 10, 20, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, Levels(data.Image(0)));
        Assert.Equal(new[] { 0, 0, 0, 0, 40, 50, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, Levels(data.Image(1)));
        Assert.Equal(32, data.Images.Length);
        Assert.Equal(Levels(data.Image(1)), Levels(data.Images.Slice(16, 16)));
        Assert.Equal(new[] { 1, 2 }, data.Labels.ToArray());
    }

    [Fact]
    public void An_image_as_large_as_the_canvas_is_copied_without_margin()
    {
        var data = Dataset(1, 2, 2, new byte[] { 5, 6, 7, 8 }, new byte[] { 9 }, size: 2);

        Assert.Equal(new[] { 5, 6, 7, 8 }, Levels(data.Images));
    }

    [Fact]
    public void Shuffle_matches_an_independent_implementation()
    {
        // Expected orders computed with a separate Python implementation of the documented algorithm
        // (SplitMix64 from state (uint)seed << 32 | (uint)epoch, Lemire bounded draws, Fisher–Yates from the top);
        // that implementation reproduces SplitMix64's published first output 0xE220A8397B1DCDAF for state 0.
        var ten = Dataset(10, 1, 1, new byte[10], new byte[10], size: 1);
        var twelve = Dataset(12, 1, 1, new byte[12], new byte[12], size: 1);

        Assert.Equal(new[] { 1, 0, 7, 6, 5, 8, 4, 3, 2, 9 }, ten.Shuffle(42, 0));
        Assert.Equal(new[] { 8, 5, 0, 6, 7, 2, 3, 9, 1, 4 }, ten.Shuffle(42, 1));
        Assert.Equal(new[] { 8, 3, 1, 0, 6, 5, 4, 9, 2, 7 }, ten.Shuffle(-7, 3));
        Assert.Equal(new[] { 5, 11, 6, 7, 3, 1, 2, 9, 8, 0, 4, 10 }, twelve.Shuffle(0, 0));
    }

    [Fact]
    public void Shuffle_is_a_deterministic_permutation_that_changes_with_epoch_and_seed()
    {
        var data = Dataset(1000, 1, 1, new byte[1000], new byte[1000], size: 1);

        int[] first = data.Shuffle(seed: 5, epoch: 0);

        Assert.Equal(Enumerable.Range(0, 1000), first.OrderBy(i => i));
        Assert.Equal(first, data.Shuffle(5, 0));
        Assert.NotEqual(first, data.Shuffle(5, 1));
        Assert.NotEqual(first, data.Shuffle(6, 0));
        Assert.NotEqual(Enumerable.Range(0, 1000), first);
        Assert.NotSame(first, data.Shuffle(5, 0));
    }

    [Fact]
    public void Shuffle_gives_every_order_about_equally_often()
    {
        // 3 items have 6 orders; 60,000 epochs should give each about 10,000 times (standard deviation ≈ 91).
        var data = Dataset(3, 1, 1, new byte[3], new byte[3], size: 1);
        var counts = new int[6];
        for (int epoch = 0; epoch < 60_000; epoch++)
        {
            int[] order = data.Shuffle(11, epoch);
            counts[order[0] * 2 + (order[1] > order[2] ? 1 : 0)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void Shuffle_of_a_single_image_is_trivial()
    {
        var data = Dataset(1, 1, 1, new byte[1], new byte[1], size: 1);

        Assert.Equal(new[] { 0 }, data.Shuffle(int.MinValue, int.MaxValue));
    }

    private static ImageDataset ThreeSmallImages() => Dataset(
        3,
        2,
        2,
        new byte[] { 1, 2, 3, 4, 10, 20, 30, 40, 100, 110, 120, 130 },
        new byte[] { 4, 7, 1 },
        size: 2);

    [Fact]
    public void CopyBatch_gathers_images_and_labels_in_index_order()
    {
        var data = ThreeSmallImages();
        float[] images = new float[12];
        int[] labels = new int[3];

        data.CopyBatch(new[] { 2, 0, 2 }, images, labels);

        Assert.Equal(new[] { 100, 110, 120, 130, 1, 2, 3, 4, 100, 110, 120, 130 }, Levels(images));
        Assert.Equal(new[] { 1, 4, 1 }, labels);
    }

    [Fact]
    public void CopyBatch_and_CopyShifted_do_not_allocate()
    {
        var data = ThreeSmallImages();
        float[] images = new float[8];
        int[] labels = new int[2];
        int[] indices = { 1, 2 };
        data.CopyBatch(indices, images, labels);
        data.CopyShifted(0, 1, -1, images.AsSpan(0, 4));

        SteadyStateAllocation.AssertNone("CopyBatch and CopyShifted", () =>
        {
            data.CopyBatch(indices, images, labels);
            data.CopyShifted(0, 1, -1, images.AsSpan(0, 4));
        });
    }

    [Fact]
    public void CopyBatch_rejects_bad_arguments_before_writing_anything()
    {
        var data = ThreeSmallImages();
        float[] images = Enumerable.Repeat(-1f, 8).ToArray();
        int[] labels = { -1, -1 };

        var badIndex = Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyBatch(new[] { 0, 3 }, images, labels));
        Assert.Equal("indices", badIndex.ParamName);
        Assert.Contains("indices[1] is 3, expected 0 to 2", badIndex.Message);
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyBatch(new[] { -1, 0 }, images, labels));
        Assert.Contains("indices[0] is -1", negative.Message);
        Assert.All(images, v => Assert.Equal(-1f, v));
        Assert.All(labels, v => Assert.Equal(-1, v));

        var shortImages = Assert.Throws<ArgumentException>(() => data.CopyBatch(new[] { 0, 1 }, new float[7], labels));
        Assert.Equal("images", shortImages.ParamName);
        Assert.Contains("holds 7 floats, expected 8", shortImages.Message);
        var longLabels = Assert.Throws<ArgumentException>(() => data.CopyBatch(new[] { 0, 1 }, images, new int[3]));
        Assert.Equal("labels", longLabels.ParamName);
        Assert.Contains("holds 3 ints, expected 2", longLabels.Message);
    }

    [Fact]
    public void CopyBatch_of_no_indices_is_allowed()
    {
        ThreeSmallImages().CopyBatch(ReadOnlySpan<int>.Empty, Span<float>.Empty, Span<int>.Empty);
    }

    [Theory]
    [InlineData(0, 0, new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData(1, 0, new[] { 0, 1, 2, 0, 4, 5, 0, 7, 8 })]
    [InlineData(0, -1, new[] { 4, 5, 6, 7, 8, 9, 0, 0, 0 })]
    [InlineData(-1, 1, new[] { 0, 0, 0, 2, 3, 0, 5, 6, 0 })]
    [InlineData(2, 2, new[] { 0, 0, 0, 0, 0, 0, 0, 0, 1 })]
    [InlineData(-2, -2, new[] { 9, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(3, 0, new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(0, -3, new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(int.MinValue, 0, new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(1, int.MaxValue, new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void CopyShifted_moves_the_image_and_fills_with_zeros(int dx, int dy, int[] expected)
    {
        float[] destination = Enumerable.Repeat(0.5f, 9).ToArray();

        NineLevels().CopyShifted(0, dx, dy, destination);

        Assert.Equal(expected, Levels(destination));
    }

    [Fact]
    public void CopyShifted_checks_its_arguments()
    {
        var data = NineLevels();

        var index = Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyShifted(1, 0, 0, new float[9]));
        Assert.Equal("index", index.ParamName);
        Assert.Contains("expected 0 to 0", index.Message);
        var destination = Assert.Throws<ArgumentException>(() => data.CopyShifted(0, 0, 0, new float[10]));
        Assert.Equal("destination", destination.ParamName);
        Assert.Contains("holds 10 floats, expected 9", destination.Message);
    }

    [Fact]
    public void Image_and_Label_reject_indices_outside_the_dataset()
    {
        var data = ThreeSmallImages();

        foreach (int bad in new[] { -1, 3, int.MaxValue })
        {
            var image = Assert.Throws<ArgumentOutOfRangeException>(() => data.Image(bad).Length);
            Assert.Equal("index", image.ParamName);
            Assert.Contains($"Index {bad} is outside the dataset, expected 0 to 2", image.Message);
            Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data.Label(bad)).ParamName);
        }
    }

    [Fact]
    public void A_label_not_below_the_class_count_is_reported_with_its_index()
    {
        byte[] labels = new byte[400];
        labels[345] = 12;

        var error = Assert.Throws<InvalidDataException>(() => Dataset(400, 1, 1, new byte[400], labels, size: 1));

        Assert.Equal("label 12 at index 345 is outside 0–9", error.Message);
    }

    [Fact]
    public void The_class_count_sets_the_label_range()
    {
        var data = Dataset(2, 1, 1, new byte[2], new byte[] { 25, 0 }, size: 1, classes: 26);
        Assert.Equal(25, data.Label(0));
        Assert.Equal(26, data.Classes);

        var error = Assert.Throws<InvalidDataException>(() => Dataset(2, 1, 1, new byte[2], new byte[] { 0, 2 }, size: 1, classes: 2));
        Assert.Contains("label 2 at index 1 is outside 0–1", error.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_agree()
    {
        var error = Assert.Throws<InvalidDataException>(() => Dataset(3, 1, 1, new byte[3], new byte[2], size: 1));

        Assert.Contains("3 images but 2 labels", error.Message);
    }

    [Fact]
    public void Images_larger_than_the_canvas_are_rejected()
    {
        var error = Assert.Throws<InvalidDataException>(() => Dataset(1, 30, 29, new byte[870], new byte[1], size: 28));

        Assert.Contains("images of 30×29 do not fit in the 28×28 canvas", error.Message);
        Assert.Throws<InvalidDataException>(() => Dataset(1, 2, 5, new byte[10], new byte[1], size: 4));
    }

    [Fact]
    public void A_dataset_too_large_for_one_array_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Dataset(2, 1, 1, new byte[2], new byte[2], size: 40_000));

        Assert.Equal("size", error.ParamName);
        Assert.Contains("3200000000 floats", error.Message);
    }

    [Fact]
    public void FromIdx_checks_its_arguments()
    {
        var images = new IdxImages(1, 1, 1, new byte[1]);

        Assert.Equal("images", Assert.Throws<ArgumentNullException>(() => ImageDataset.FromIdx(null!, new byte[1])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => ImageDataset.FromIdx(images, null!)).ParamName);
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => ImageDataset.FromIdx(images, new byte[1], size: 0));
        Assert.Equal("size", size.ParamName);
        Assert.Equal(0, size.ActualValue);
        Assert.Equal("classes", Assert.Throws<ArgumentOutOfRangeException>(() => ImageDataset.FromIdx(images, new byte[1], classes: 0)).ParamName);
    }

    [Fact]
    public void Load_reads_both_files_and_names_them_in_errors()
    {
        using var folder = new TempFolder();
        string images = folder.Write("images", IdxBytes.Gzip(IdxBytes.Images(2, 2, 2, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })));
        string labels = folder.Write("labels", IdxBytes.Labels(6, 2));
        string badLabels = folder.Write("bad-labels", IdxBytes.Labels(6, 10));
        string threeLabels = folder.Write("three-labels", IdxBytes.Labels(1, 2, 3));

        var data = ImageDataset.Load(images, labels, size: 2);
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Levels(data.Images));
        Assert.Equal(new[] { 6, 2 }, data.Labels.ToArray());

        var range = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(images, badLabels, size: 2));
        Assert.Equal(badLabels + ": label 10 at index 1 is outside 0–9", range.Message);
        var counts = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(images, threeLabels, size: 2));
        Assert.Contains("2 images but 3 labels", counts.Message);
        Assert.Contains(images, counts.Message);
        Assert.Contains(threeLabels, counts.Message);
        var tooLarge = Assert.Throws<InvalidDataException>(() => ImageDataset.Load(images, labels, size: 1));
        Assert.StartsWith(images + ": images of 2×2", tooLarge.Message);
        Assert.Throws<FileNotFoundException>(() => ImageDataset.Load(images, Path.Combine(folder.Path, "none")));
        Assert.Equal("labelsPath", Assert.ThrowsAny<ArgumentException>(() => ImageDataset.Load(images, "")).ParamName);
    }
}

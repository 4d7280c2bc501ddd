using System;
using System.IO;
using LeNet.Gen.Data;
using Xunit;
using Encoding = LeNet.Gen.Tests.Data.IdxReaderTests.Encoding;

namespace LeNet.Gen.Tests.Data;

public class IdxValidationTests
{
    private const string StreamName = "IDX stream";

    private static InvalidDataException ImagesFail(byte[] raw, Encoding encoding = Encoding.Raw)
    {
        using Stream stream = IdxReaderTests.Open(raw, encoding);
        return Assert.Throws<InvalidDataException>(() => Idx.ReadImages(stream));
    }

    private static InvalidDataException LabelsFail(byte[] raw, Encoding encoding = Encoding.Raw)
    {
        using Stream stream = IdxReaderTests.Open(raw, encoding);
        return Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(stream));
    }

    private static void AssertContainsAll(string message, params string[] parts)
    {
        foreach (string part in parts)
        {
            Assert.Contains(part, message);
        }
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.Gzip)]
    public void A_label_file_read_as_images_names_both_magic_numbers(Encoding encoding)
    {
        var error = ImagesFail(IdxBytes.Labels(1, 2, 3), encoding);

        AssertContainsAll(error.Message, StreamName, "0x00000801", "label file", "0x00000803", "image file");
    }

    [Fact]
    public void An_image_file_read_as_labels_names_both_magic_numbers()
    {
        var error = LabelsFail(IdxBytes.Images(1, 2, 2, new byte[4]));

        AssertContainsAll(error.Message, "0x00000803", "image file", "0x00000801", "label file");
    }

    [Fact]
    public void The_file_name_leads_the_message()
    {
        using var folder = new TempFolder();
        string path = folder.Write("train-images-idx3-ubyte.gz", IdxBytes.Gzip(IdxBytes.Labels(1, 2)));

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        Assert.StartsWith(path + ": magic number 0x00000801 is a label file, expected an image file (0x00000803)", error.Message);
    }

    [Fact]
    public void A_FileStream_is_named_by_its_path()
    {
        using var folder = new TempFolder();
        string path = folder.Write("labels", IdxBytes.Header(0, 0, 0x08, 1, 0));
        using var stream = File.OpenRead(path);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(stream));

        Assert.StartsWith(path + ": ", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x00, 0x08, 0x03 }, "0x01000803", "first two bytes")]
    [InlineData(new byte[] { 0x00, 0x07, 0x08, 0x03 }, "0x00070803", "first two bytes")]
    [InlineData(new byte[] { 0x00, 0x00, 0x0D, 0x03 }, "0x00000D03", "0x0D")]
    [InlineData(new byte[] { 0x00, 0x00, 0x08, 0x02 }, "0x00000802", "2 dimensions")]
    [InlineData(new byte[] { 0x00, 0x00, 0x08, 0x04 }, "0x00000804", "4 dimensions")]
    public void Bad_magic_numbers_are_rejected(byte[] magic, string shown, string problem)
    {
        byte[] file = IdxBytes.Concat(magic, IdxBytes.Header(0, 0, 1, 1, 1, 1, 1).AsSpan(4).ToArray(), new byte[] { 0 });

        var error = ImagesFail(file);

        AssertContainsAll(error.Message, shown, problem);
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.GzipTrickle)]
    public void A_zero_dimension_is_rejected(Encoding encoding)
    {
        var error = ImagesFail(IdxBytes.Header(0, 0, 0x08, 3, 5, 28, 0), encoding);

        AssertContainsAll(error.Message, "dimension 2", "columns", "is 0");
    }

    [Fact]
    public void A_negative_dimension_is_rejected()
    {
        var error = ImagesFail(IdxBytes.Header(0, 0, 0x08, 3, 0xFFFFFFFF, 28, 28));

        AssertContainsAll(error.Message, "dimension 0", "image count", "-1", "0xFFFFFFFF");
    }

    [Fact]
    public void A_zero_label_count_is_rejected()
    {
        var error = LabelsFail(IdxBytes.Header(0, 0, 0x08, 1, 0));

        AssertContainsAll(error.Message, "dimension 0", "label count", "is 0");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void A_file_too_short_for_the_magic_number_is_rejected(int length)
    {
        var error = ImagesFail(new byte[length]);

        AssertContainsAll(error.Message, $"{length} bytes", "too short");
    }

    [Fact]
    public void A_truncated_header_is_rejected()
    {
        byte[] header = IdxBytes.Header(0, 0, 0x08, 3, 10, 28, 28);

        var error = ImagesFail(header.AsSpan(0, 10).ToArray());

        AssertContainsAll(error.Message, "truncated header", "expected 12 bytes", "found 6");
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.Gzip)]
    [InlineData(Encoding.RawTrickle)]
    [InlineData(Encoding.GzipTrickle)]
    public void Truncated_pixels_are_rejected(Encoding encoding)
    {
        byte[] file = IdxBytes.Concat(IdxBytes.Header(0, 0, 0x08, 3, 10_000, 28, 28), new byte[1234]);

        var error = ImagesFail(file, encoding);

        AssertContainsAll(error.Message, StreamName, "truncated", "10000 images of 28×28", "7840000 bytes", "only 1234 bytes of pixels");
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.GzipTrickle)]
    public void Truncated_labels_are_rejected(Encoding encoding)
    {
        byte[] file = IdxBytes.Concat(IdxBytes.Header(0, 0, 0x08, 1, 60_000), new byte[59_999]);

        var error = LabelsFail(file, encoding);

        AssertContainsAll(error.Message, "truncated", "60000 labels", "only 59999 bytes of labels");
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.Gzip)]
    [InlineData(Encoding.RawTrickle)]
    [InlineData(Encoding.GzipTrickle)]
    public void Trailing_bytes_are_rejected(Encoding encoding)
    {
        byte[] file = IdxBytes.Concat(IdxBytes.Images(2, 3, 3, new byte[18]), new byte[] { 1, 2, 3, 4, 5 });

        var error = ImagesFail(file, encoding);

        AssertContainsAll(error.Message, "5 trailing bytes", "18 bytes of pixels", "2 images of 3×3");
    }

    [Fact]
    public void Trailing_bytes_after_labels_are_rejected()
    {
        var error = LabelsFail(IdxBytes.Concat(IdxBytes.Labels(1, 2, 3), new byte[] { 0 }));

        AssertContainsAll(error.Message, "1 trailing bytes", "3 bytes of labels");
    }

    [Fact]
    public void A_claim_above_the_limit_is_rejected_from_the_header()
    {
        var error = ImagesFail(IdxBytes.Header(0, 0, 0x08, 3, 1_000_000_000, 28, 28));

        AssertContainsAll(error.Message, "1000000000 images of 28×28", "784000000000 bytes", "2147483591");
    }

    [Fact]
    public void The_largest_possible_claim_does_not_overflow()
    {
        var error = ImagesFail(IdxBytes.Header(0, 0, 0x08, 3, int.MaxValue, int.MaxValue, int.MaxValue));

        // (2^31 − 1)^3, computed by hand: far beyond a 64-bit integer.
        AssertContainsAll(error.Message, "9903520300447984150353281023 bytes", "2147483591");
    }

    public static TheoryData<bool, Encoding> HugeClaims => new()
    {
        { true, Encoding.Raw },
        { true, Encoding.Gzip },
        { true, Encoding.RawTrickle },
        { true, Encoding.GzipTrickle },
        { false, Encoding.Raw },
        { false, Encoding.Gzip },
        { false, Encoding.RawTrickle },
        { false, Encoding.GzipTrickle },
    };

    [Theory]
    [MemberData(nameof(HugeClaims))]
    public void A_small_file_claiming_a_huge_size_fails_without_allocating_it(bool images, Encoding encoding)
    {
        // Claims within the limit, so only the data check can stop them: 10^9 labels (1 GB), or 2,000,000 images of
        // 28×28 (1.568 GB), in a file of 100 bytes.
        byte[] header = images
            ? IdxBytes.Header(0, 0, 0x08, 3, 2_000_000, 28, 28)
            : IdxBytes.Header(0, 0, 0x08, 1, 1_000_000_000);
        byte[] file = IdxBytes.Concat(header, new byte[100 - header.Length]);
        using Stream stream = IdxReaderTests.Open(file, encoding);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            if (images)
            {
                Idx.ReadImages(stream);
            }
            else
            {
                Idx.ReadLabels(stream);
            }
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes");
        string expected = images
            ? $"only {100 - header.Length} bytes of pixels"
            : $"only {100 - header.Length} bytes of labels";
        AssertContainsAll(error.Message, "truncated", images ? "1568000000 bytes" : "1000000000 labels", expected);
    }

    [Fact]
    public void Memory_grows_with_the_data_present_not_the_claim()
    {
        // 3 MB of real data under a 1.5 GB claim, gzip-compressed: the buffer may reach about twice the data, no more.
        byte[] header = IdxBytes.Header(0, 0, 0x08, 3, 2_000_000, 28, 28);
        byte[] gzip = IdxBytes.Gzip(IdxBytes.Concat(header, IdxBytes.PatternPixels(4000, 28, 28)));
        using var stream = new MemoryStream(gzip);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(stream));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("only 3136000 bytes of pixels", error.Message);
        // Doubling from 64 KiB to the first size above 3,136,000 allocates 64 KiB·(1 + 2 + … + 64) ≈ 8.3 MB in total.
        Assert.True(allocated < 12 << 20, $"allocated {allocated} bytes");
    }

    private static byte[] CompressedPattern()
    {
        byte[] pixels = IdxBytes.PatternPixels(40, 28, 28);
        for (int i = 0; i < pixels.Length; i++)
        {
            // Vary the data so the deflate body uses dynamic Huffman codes over many blocks.
            pixels[i] ^= (byte)((i * 2654435761u) >> 27);
        }

        return IdxBytes.Gzip(IdxBytes.Images(40, 28, 28, pixels));
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.75)]
    public void Corrupt_gzip_data_raises_InvalidDataException_naming_the_file(double where)
    {
        byte[] gzip = CompressedPattern();
        int at = (int)(gzip.Length * where);
        for (int i = at; i < at + 8; i++)
        {
            gzip[i] ^= 0xFF;
        }

        using var folder = new TempFolder();
        string path = folder.Write("t10k-images-idx3-ubyte.gz", gzip);

        var error = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));

        // Today's decompressor rejects each of these flips outright; a garbled block that still decodes would instead
        // change the length of the output, which the size checks report.
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Matches("the gzip data is corrupt|truncated|trailing bytes", error.Message);
    }

    [Fact]
    public void A_wrong_gzip_checksum_is_reported_as_corrupt_data()
    {
        byte[] gzip = CompressedPattern();
        gzip[^6] ^= 0xFF; // inside the CRC-32 of the trailer; the deflate data and the IDX contents are intact

        var error = ImagesFail(gzip);

        AssertContainsAll(error.Message, StreamName, "gzip data is corrupt");
    }

    [Fact]
    public void A_corrupt_gzip_header_raises_InvalidDataException()
    {
        byte[] gzip = CompressedPattern();
        gzip[2] = 0x07; // compression method: only 8 (deflate) exists

        var error = ImagesFail(gzip);

        AssertContainsAll(error.Message, StreamName, "gzip data is corrupt");
        Assert.NotNull(error.InnerException);
    }

    [Fact]
    public void A_cut_gzip_stream_raises_InvalidDataException()
    {
        byte[] gzip = CompressedPattern();

        var error = ImagesFail(gzip.AsSpan(0, gzip.Length / 2).ToArray());

        Assert.StartsWith(StreamName + ": ", error.Message);
        Assert.Matches("the gzip data is corrupt|truncated: the header claims 40 images of 28×28 \\(31360 bytes\\)", error.Message);
    }
}

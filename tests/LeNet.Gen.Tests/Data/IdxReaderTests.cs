using System;
using System.IO;
using LeNet.Gen.Data;
using Xunit;

using LeNet.Gen.Tests.IO;

namespace LeNet.Gen.Tests.Data;

public class IdxReaderTests
{
    public enum Encoding
    {
        Raw,
        Gzip,
        RawTrickle,
        GzipTrickle,
    }

    internal static Stream Open(byte[] raw, Encoding encoding) => encoding switch
    {
        Encoding.Raw => new MemoryStream(raw),
        Encoding.Gzip => new MemoryStream(IdxBytes.Gzip(raw)),
        Encoding.RawTrickle => new NonSeekableStream(raw, maxRead: 3),
        _ => new NonSeekableStream(IdxBytes.Gzip(raw), maxRead: 3),
    };

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.Gzip)]
    [InlineData(Encoding.RawTrickle)]
    [InlineData(Encoding.GzipTrickle)]
    public void Reads_images_byte_for_byte(Encoding encoding)
    {
        byte[] pixels = IdxBytes.PatternPixels(3, 4, 5);
        using Stream stream = Open(IdxBytes.Images(3, 4, 5, pixels), encoding);

        IdxImages images = Idx.ReadImages(stream);

        Assert.Equal(3, images.Count);
        Assert.Equal(4, images.Rows);
        Assert.Equal(5, images.Columns);
        Assert.Equal(pixels, images.Pixels.ToArray());
        // Image 2, row 3, column 4 sits at byte (2·4 + 3)·5 + 4 = 59 and holds 1 + 74 + 33 + 4.
        Assert.Equal(112, images.Pixels.Span[59]);
    }

    [Theory]
    [InlineData(Encoding.Raw)]
    [InlineData(Encoding.Gzip)]
    [InlineData(Encoding.RawTrickle)]
    [InlineData(Encoding.GzipTrickle)]
    public void Reads_labels(Encoding encoding)
    {
        using Stream stream = Open(IdxBytes.Labels(7, 0, 255, 3), encoding);

        Assert.Equal(new byte[] { 7, 0, 255, 3 }, Idx.ReadLabels(stream));
    }

    [Theory]
    [InlineData(Encoding.Gzip)]
    [InlineData(Encoding.RawTrickle)]
    [InlineData(Encoding.GzipTrickle)]
    public void Reads_data_larger_than_the_first_chunk(Encoding encoding)
    {
        // 50 images of 60×70 = 210,000 bytes: the growing buffer must double a few times and keep every byte.
        byte[] pixels = IdxBytes.PatternPixels(50, 60, 70);
        using Stream stream = Open(IdxBytes.Images(50, 60, 70, pixels), encoding);

        IdxImages images = Idx.ReadImages(stream);

        Assert.Equal(210_000, images.Pixels.Length);
        Assert.Equal(pixels, images.Pixels.ToArray());
    }

    [Fact]
    public void Reads_from_the_current_position_of_a_seekable_stream()
    {
        byte[] file = IdxBytes.Labels(4, 5, 6);
        var stream = new MemoryStream(IdxBytes.Concat(new byte[] { 0xAA, 0xBB, 0xCC }, file));
        stream.Position = 3;

        Assert.Equal(new byte[] { 4, 5, 6 }, Idx.ReadLabels(stream));
    }

    [Fact]
    public void Detects_compression_from_the_contents_not_the_name()
    {
        using var folder = new TempFolder();
        byte[] pixels = IdxBytes.PatternPixels(2, 3, 3);
        string gzipWithoutExtension = folder.Write("images-idx3-ubyte", IdxBytes.Gzip(IdxBytes.Images(2, 3, 3, pixels)));
        string rawWithGzExtension = folder.Write("images-idx3-ubyte.gz", IdxBytes.Images(2, 3, 3, pixels));

        Assert.Equal(pixels, Idx.ReadImages(gzipWithoutExtension).Pixels.ToArray());
        Assert.Equal(pixels, Idx.ReadImages(rawWithGzExtension).Pixels.ToArray());
    }

    [Fact]
    public void Reads_labels_from_a_path()
    {
        using var folder = new TempFolder();
        string path = folder.Write("labels.gz", IdxBytes.Gzip(IdxBytes.Labels(9, 8, 7)));

        Assert.Equal(new byte[] { 9, 8, 7 }, Idx.ReadLabels(path));
    }

    [Fact]
    public void A_missing_file_raises_FileNotFoundException_with_the_path()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "absent-idx3-ubyte");

        var error = Assert.Throws<FileNotFoundException>(() => Idx.ReadImages(path));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Argument_errors_name_the_parameter()
    {
        Assert.Equal("path", Assert.ThrowsAny<ArgumentException>(() => Idx.ReadImages((string)null!)).ParamName);
        Assert.Equal("path", Assert.ThrowsAny<ArgumentException>(() => Idx.ReadLabels("")).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => Idx.ReadImages((Stream)null!)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => Idx.ReadLabels((Stream)null!)).ParamName);
    }

    [Fact]
    public void IdxImages_constructor_checks_its_arguments()
    {
        var images = new IdxImages(2, 3, 4, new byte[24]);
        Assert.Equal(24, images.Pixels.Length);

        var wrongLength = Assert.Throws<ArgumentException>(() => new IdxImages(2, 3, 4, new byte[23]));
        Assert.Equal("pixels", wrongLength.ParamName);
        Assert.Contains("24", wrongLength.Message);
        Assert.Contains("23", wrongLength.Message);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new IdxImages(1, 0, 4, Array.Empty<byte>())).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => new IdxImages(-1, 1, 1, Array.Empty<byte>())).ParamName);
    }
}

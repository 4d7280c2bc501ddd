using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace LeNet.Gen.Data;

/// <summary>
/// Reads files in the IDX format used by MNIST, Fashion-MNIST and EMNIST: a big-endian magic number
/// <c>0x00 0x00 type ndims</c>, then <c>ndims</c> big-endian 32-bit dimensions, then the values row-major.
/// Only the unsigned-byte type (0x08) is supported: three dimensions (count, rows, columns) for images, one for labels.
/// </summary>
/// <remarks>
/// <para>Files may be gzip-compressed or raw; compression is recognised by the first two bytes (0x1F 0x8B), not by the file name.</para>
/// <para>
/// Every problem with the contents is reported as an <see cref="InvalidDataException"/> whose message starts with the file
/// path (or, for a stream, the <see cref="FileStream.Name"/> of a <see cref="FileStream"/>, otherwise "IDX stream") and
/// names the values involved: a wrong magic number, a dimension below 1, a total above <see cref="MaxDataBytes"/>,
/// data shorter than the header claims, bytes left after the data, or corrupt gzip data.
/// </para>
/// <para>
/// Memory is only committed for data that is actually present. For a raw seekable stream the header's claim is compared
/// with the remaining length before anything is allocated; otherwise (gzip, or a stream that cannot seek) the data is read
/// in chunks into a buffer that at most doubles at each step, so a short file claiming billions of values fails after
/// allocating roughly twice what it holds.
/// </para>
/// <para>
/// The path overloads do not wrap errors from the file system: a missing file raises <see cref="FileNotFoundException"/>
/// (a missing folder <see cref="DirectoryNotFoundException"/>) as thrown by <see cref="FileStream"/>, whose message contains the full path.
/// </para>
/// </remarks>
public static class Idx
{
    /// <summary>
    /// The largest number of data bytes (after the header) a file may declare: 2,147,483,591, the largest byte array .NET can allocate.
    /// Larger claims are rejected from the header alone.
    /// </summary>
    public const int MaxDataBytes = 0x7FFFFFC7;

    /// <summary>Magic number of an IDX image file of unsigned bytes: type 0x08, three dimensions.</summary>
    public const int ImageMagic = 0x00000803;

    /// <summary>Magic number of an IDX label file of unsigned bytes: type 0x08, one dimension.</summary>
    public const int LabelMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;
    private const int FirstChunkBytes = 1 << 16;
    private const int TrailingCountLimit = 1 << 20;
    private const string AnonymousSource = "IDX stream";

    /// <summary>Reads an IDX image file (magic 0x00000803), raw or gzip-compressed.</summary>
    /// <param name="path">Path of the file.</param>
    /// <returns>The images with their dimensions.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The contents are not a valid IDX image file; the message names the file and the problem.</exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = OpenFile(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads an IDX image file (magic 0x00000803), raw or gzip-compressed, from the current position of a stream to its end.</summary>
    /// <param name="stream">A readable stream; it is read to the end and left open.</param>
    /// <returns>The images with their dimensions.</returns>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is null or cannot be read.</exception>
    /// <exception cref="InvalidDataException">The contents are not a valid IDX image file.</exception>
    public static IdxImages ReadImages(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadImages(stream, NameOf(stream));
    }

    /// <summary>Reads an IDX label file (magic 0x00000801), raw or gzip-compressed.</summary>
    /// <param name="path">Path of the file.</param>
    /// <returns>One byte per label. The values are not checked here; <see cref="ImageDataset"/> checks them against its class count.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The contents are not a valid IDX label file; the message names the file and the problem.</exception>
    public static byte[] ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = OpenFile(path);
        return ReadLabels(stream, path);
    }

    /// <summary>Reads an IDX label file (magic 0x00000801), raw or gzip-compressed, from the current position of a stream to its end.</summary>
    /// <param name="stream">A readable stream; it is read to the end and left open.</param>
    /// <returns>One byte per label.</returns>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is null or cannot be read.</exception>
    /// <exception cref="InvalidDataException">The contents are not a valid IDX label file.</exception>
    public static byte[] ReadLabels(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadLabels(stream, NameOf(stream));
    }

    /// <summary>Reads images from a stream, naming it <paramref name="source"/> in error messages.</summary>
    internal static IdxImages ReadImages(Stream stream, string source)
    {
        (int[] dimensions, byte[] data) = Read(stream, source, 3);
        return new IdxImages(dimensions[0], dimensions[1], dimensions[2], data);
    }

    /// <summary>Reads labels from a stream, naming it <paramref name="source"/> in error messages.</summary>
    internal static byte[] ReadLabels(Stream stream, string source) => Read(stream, source, 1).Data;

    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);

    private static string NameOf(Stream stream) =>
        stream is FileStream file && !string.IsNullOrEmpty(file.Name) ? file.Name : AnonymousSource;

    private static (int[] Dimensions, byte[] Data) Read(Stream stream, string source, int expectedDimensions)
    {
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        // Peek at two bytes to tell gzip from raw, then put them back (by seeking, or by replaying them).
        byte[] signature = new byte[2];
        int signatureLength = stream.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false);
        bool gzip = signatureLength == 2 && signature[0] == 0x1F && signature[1] == 0x8B;
        Stream body;
        if (stream.CanSeek)
        {
            stream.Seek(-signatureLength, SeekOrigin.Current);
            body = stream;
        }
        else
        {
            body = new ReplayStream(signature.AsMemory(0, signatureLength), stream);
        }

        if (gzip)
        {
            using var decompressor = new GZipStream(body, CompressionMode.Decompress, leaveOpen: true);
            return ReadContents(new Source(decompressor, source, gzip: true), expectedDimensions);
        }

        return ReadContents(new Source(body, source, gzip: false), expectedDimensions);
    }

    private static (int[] Dimensions, byte[] Data) ReadContents(Source source, int expectedDimensions)
    {
        int[] dimensions = ReadHeader(source, expectedDimensions);
        Int128 claimed = 1;
        foreach (int dimension in dimensions)
        {
            claimed *= dimension;
        }

        string claim = DescribeClaim(dimensions, claimed);
        string what = expectedDimensions == 3 ? "pixels" : "labels";
        if (claimed > MaxDataBytes)
        {
            throw source.Fail(Text.Format($"the header claims {claim}, more than the limit of {MaxDataBytes} bytes"));
        }

        int total = (int)claimed;
        long? remaining = source.Remaining;
        if (remaining is long available)
        {
            if (available < total)
            {
                throw source.Fail(Text.Format($"truncated: the header claims {claim} but the file holds only {available} bytes of {what}"));
            }

            if (available > total)
            {
                throw source.Fail(Text.Format($"{available - total} trailing bytes after the {total} bytes of {what} that the header declares ({claim})"));
            }
        }

        byte[] data = remaining is null ? ReadGrowing(source, total, claim, what) : ReadKnown(source, total, claim, what);
        if (remaining is null)
        {
            long extra = CountTrailing(source);
            if (extra > 0)
            {
                string amount = extra >= TrailingCountLimit ? Text.Format($"at least {extra}") : Text.Format($"{extra}");
                throw source.Fail(Text.Format($"{amount} trailing bytes after the {total} bytes of {what} that the header declares ({claim})"));
            }
        }

        return (dimensions, data);
    }

    private static int[] ReadHeader(Source source, int expectedDimensions)
    {
        byte[] magicBytes = new byte[4];
        int got = source.ReadUpTo(magicBytes);
        if (got < magicBytes.Length)
        {
            throw source.Fail(Text.Format($"too short for an IDX header: {got} bytes, expected at least 4 for the magic number"));
        }

        uint magic = BinaryPrimitives.ReadUInt32BigEndian(magicBytes);
        int expectedMagic = expectedDimensions == 3 ? ImageMagic : LabelMagic;
        string expectedKind = expectedDimensions == 3 ? "an image file" : "a label file";
        if (magicBytes[0] != 0 || magicBytes[1] != 0)
        {
            throw source.Fail(Text.Format($"magic number 0x{magic:X8} is not an IDX magic number (its first two bytes must be zero), expected {expectedKind} (0x{expectedMagic:X8})"));
        }

        if (magicBytes[2] != UnsignedByteType)
        {
            throw source.Fail(Text.Format($"magic number 0x{magic:X8} declares data type 0x{magicBytes[2]:X2} ({TypeName(magicBytes[2])}), but only unsigned bytes (0x08) are supported"));
        }

        int dimensionCount = magicBytes[3];
        if (dimensionCount != expectedDimensions)
        {
            string actualKind = dimensionCount switch
            {
                1 => "a label file",
                3 => "an image file",
                _ => Text.Format($"a file with {dimensionCount} dimensions"),
            };
            throw source.Fail(Text.Format($"magic number 0x{magic:X8} is {actualKind}, expected {expectedKind} (0x{expectedMagic:X8})"));
        }

        byte[] dimensionBytes = new byte[4 * dimensionCount];
        got = source.ReadUpTo(dimensionBytes);
        if (got < dimensionBytes.Length)
        {
            throw source.Fail(Text.Format($"truncated header: expected {dimensionBytes.Length} bytes of dimensions after the magic number, found {got}"));
        }

        int[] dimensions = new int[dimensionCount];
        for (int i = 0; i < dimensionCount; i++)
        {
            int dimension = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.AsSpan(4 * i));
            if (dimension < 1)
            {
                string shown = dimension < 0 ? Text.Format($"{dimension} (0x{(uint)dimension:X8})") : "0";
                throw source.Fail(Text.Format($"dimension {i} ({DimensionName(expectedDimensions, i)}) is {shown}, every dimension must be at least 1"));
            }

            dimensions[i] = dimension;
        }

        return dimensions;
    }

    private static byte[] ReadKnown(Source source, int total, string claim, string what)
    {
        byte[] data = new byte[total];
        int got = source.ReadUpTo(data);
        if (got < total)
        {
            // Only possible if the stream shrank while being read.
            throw source.Fail(Text.Format($"truncated: the header claims {claim} but the file holds only {got} bytes of {what}"));
        }

        return data;
    }

    private static byte[] ReadGrowing(Source source, int total, string claim, string what)
    {
        // Never trust the header's size: start small and double only once the current buffer has been filled,
        // so the buffer is at most twice the data actually received (or one small first chunk).
        byte[] buffer = new byte[Math.Min(total, FirstChunkBytes)];
        int filled = 0;
        while (true)
        {
            filled += source.ReadUpTo(buffer.AsSpan(filled));
            if (filled == total)
            {
                return buffer;
            }

            if (filled < buffer.Length)
            {
                throw source.Fail(Text.Format($"truncated: the header claims {claim} but the file holds only {filled} bytes of {what}"));
            }

            Array.Resize(ref buffer, (int)Math.Min(total, 2L * buffer.Length));
        }
    }

    private static long CountTrailing(Source source)
    {
        Span<byte> scratch = stackalloc byte[1024];
        long extra = 0;
        while (extra < TrailingCountLimit)
        {
            int got = source.Read(scratch);
            if (got == 0)
            {
                break;
            }

            extra += got;
        }

        return extra;
    }

    private static string DescribeClaim(int[] dimensions, Int128 bytes) => dimensions.Length == 3
        ? Text.Format($"{dimensions[0]} images of {dimensions[1]}×{dimensions[2]} ({bytes} bytes)")
        : Text.Format($"{dimensions[0]} labels ({bytes} bytes)");

    private static string DimensionName(int dimensionCount, int index) => (dimensionCount, index) switch
    {
        (3, 0) => "image count",
        (3, 1) => "rows",
        (3, 2) => "columns",
        _ => "label count",
    };

    private static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown type",
    };

    /// <summary>
    /// The stream being parsed, with its name for messages. For gzip data it turns the decompressor's own exceptions
    /// into <see cref="InvalidDataException"/>s that name the file.
    /// </summary>
    private readonly struct Source(Stream stream, string name, bool gzip)
    {
        /// <summary>Bytes left after the current position, when the stream is raw and seekable; otherwise null.</summary>
        public long? Remaining => !gzip && stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : null;

        public int Read(Span<byte> buffer)
        {
            try
            {
                return stream.Read(buffer);
            }
            catch (Exception e) when (gzip && e is InvalidDataException or IOException)
            {
                throw new InvalidDataException(Text.Format($"{name}: the gzip data is corrupt ({e.Message})"), e);
            }
        }

        /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
        public int ReadUpTo(Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int got = Read(buffer[total..]);
                if (got == 0)
                {
                    break;
                }

                total += got;
            }

            return total;
        }

        public InvalidDataException Fail(string problem) => new(name + ": " + problem);
    }
}

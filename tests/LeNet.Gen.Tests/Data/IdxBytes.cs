using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace LeNet.Gen.Tests.Data;

/// <summary>Builds IDX files byte by byte, independently of the reader under test.</summary>
internal static class IdxBytes
{
    /// <summary>A header: the four magic bytes, then each dimension as a big-endian 32-bit integer.</summary>
    public static byte[] Header(byte b0, byte b1, byte type, byte dimensionCount, params uint[] dimensions)
    {
        var bytes = new List<byte> { b0, b1, type, dimensionCount };
        foreach (uint d in dimensions)
        {
            bytes.Add((byte)(d >> 24));
            bytes.Add((byte)(d >> 16));
            bytes.Add((byte)(d >> 8));
            bytes.Add((byte)d);
        }

        return bytes.ToArray();
    }

    public static byte[] Images(int count, int rows, int columns, byte[] pixels) =>
        Concat(Header(0, 0, 0x08, 3, (uint)count, (uint)rows, (uint)columns), pixels);

    public static byte[] Labels(params byte[] labels) =>
        Concat(Header(0, 0, 0x08, 1, (uint)labels.Length), labels);

    /// <summary>Pixels whose value encodes their position, so misplaced bytes show: image i, row r, column c → 1 + i·37 + r·11 + c (mod 256).</summary>
    public static byte[] PatternPixels(int count, int rows, int columns)
    {
        byte[] pixels = new byte[count * rows * columns];
        for (int i = 0; i < count; i++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    pixels[(i * rows + r) * columns + c] = (byte)(1 + i * 37 + r * 11 + c);
                }
            }
        }

        return pixels;
    }

    public static byte[] Concat(params byte[][] parts)
    {
        using var all = new MemoryStream();
        foreach (byte[] part in parts)
        {
            all.Write(part);
        }

        return all.ToArray();
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return compressed.ToArray();
    }
}

/// <summary>A folder under the temporary directory, deleted with its contents on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lenet-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, byte[] contents)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, contents);
        return file;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

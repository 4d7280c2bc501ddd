using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace LeNet.Gen.Tests.IO;

/// <summary>One key of a hand-written header: the key's JSON text (without quotes) and its value's JSON text.</summary>
internal sealed record HeaderEntry(string Key, string Value);

/// <summary>
/// The LeNet-5 layout and hand-built safetensors files: headers are concatenated as text and values encoded with
/// BinaryPrimitives, independently of the library's writer.
/// </summary>
internal static class SafeTensorsFixtures
{
    public const int LeNet5Count = 61_706;

    /// <summary>A NaN with a payload no valid load produces by accident.</summary>
    public const int SentinelBits = 0x7FC0_DEAD;

    public const string PtMetadata = "{\"format\":\"pt\"}";

    private static readonly (string Name, int[] Shape)[] LeNet5Shapes =
    {
        ("conv1.weight", new[] { 6, 1, 5, 5 }),
        ("conv1.bias", new[] { 6 }),
        ("conv2.weight", new[] { 16, 6, 5, 5 }),
        ("conv2.bias", new[] { 16 }),
        ("fc1.weight", new[] { 120, 400 }),
        ("fc1.bias", new[] { 120 }),
        ("fc2.weight", new[] { 84, 120 }),
        ("fc2.bias", new[] { 84 }),
        ("fc3.weight", new[] { 10, 84 }),
        ("fc3.bias", new[] { 10 }),
    };

    public static IReadOnlyList<TensorInfo> LeNet5()
    {
        var tensors = new List<TensorInfo>();
        int offset = 0;
        foreach ((string name, int[] shape) in LeNet5Shapes)
        {
            var tensor = new TensorInfo(name, offset, shape);
            tensors.Add(tensor);
            offset += tensor.Length;
        }

        return tensors;
    }

    /// <summary>Random values, with special bit patterns (signed zeros, infinities, NaN payloads, subnormals) mixed in.</summary>
    public static float[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        int[] specials = { 0, unchecked((int)0x8000_0000), 0x7F80_0000, unchecked((int)0xFF80_0000), 0x7FC0_0001, unchecked((int)0xFFBF_FFFF), 0x0000_0001, unchecked((int)0x807F_FFFF), 0x7F7F_FFFF };
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            int bits = random.Next(16) == 0 ? specials[random.Next(specials.Length)] : random.Next(int.MinValue, int.MaxValue);
            values[i] = BitConverter.Int32BitsToSingle(bits);
        }

        return values;
    }

    public static float[] Sentinel(int count)
    {
        var values = new float[count];
        Array.Fill(values, BitConverter.Int32BitsToSingle(SentinelBits));
        return values;
    }

    public static bool IsSentinel(ReadOnlySpan<float> values)
        => MemoryMarshal.Cast<float, int>(values).IndexOfAnyExcept(SentinelBits) < 0;

    /// <summary>Index of the first value whose bits differ, or -1.</summary>
    public static int FirstDifference(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        int common = MemoryMarshal.Cast<float, int>(expected).CommonPrefixLength(MemoryMarshal.Cast<float, int>(actual));
        return common == expected.Length && common == actual.Length ? -1 : common;
    }

    public static byte[] LittleEndian(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), BitConverter.SingleToInt32Bits(values[i]));
        }

        return bytes;
    }

    public static float[] FromLittleEndian(ReadOnlySpan<byte> bytes)
    {
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(4 * i)));
        }

        return values;
    }

    public static string Dims(IEnumerable<int> shape) => "[" + string.Join(",", shape) + "]";

    public static string TensorValue(string dtype, string shape, long begin, long end)
        => $"{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin.ToString(CultureInfo.InvariantCulture)},{end.ToString(CultureInfo.InvariantCulture)}]}}";

    /// <summary>The entries of a LeNet-5 file whose data section holds the tensors in layout order.</summary>
    public static List<HeaderEntry> StandardEntries(IReadOnlyList<TensorInfo> tensors)
        => tensors.Select(t => new HeaderEntry(t.Name, TensorValue("F32", Dims(t.Shape), t.Offset * 4L, (t.Offset + t.Length) * 4L))).ToList();

    public static string Json(IEnumerable<HeaderEntry> entries, string? metadata = PtMetadata)
    {
        var parts = new List<string>();
        if (metadata is not null)
        {
            parts.Add("\"__metadata__\":" + metadata);
        }

        parts.AddRange(entries.Select(e => $"\"{e.Key}\":{e.Value}"));
        return "{" + string.Join(",", parts) + "}";
    }

    /// <summary>Length prefix, header (padded with spaces to a multiple of 8 when asked), data.</summary>
    public static byte[] Assemble(string json, ReadOnlySpan<byte> data, bool pad = true)
        => Assemble(Encoding.UTF8.GetBytes(json), data, pad);

    public static byte[] Assemble(byte[] header, ReadOnlySpan<byte> data, bool pad = true)
    {
        int padding = pad ? (8 - (header.Length % 8)) % 8 : 0;
        var file = new byte[8 + header.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(header.Length + padding));
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, padding).Fill((byte)' ');
        data.CopyTo(file.AsSpan(8 + header.Length + padding));
        return file;
    }

    public static byte[] SaveToBytes(ReadOnlySpan<float> values, IReadOnlyList<TensorInfo> tensors)
    {
        using var stream = new MemoryStream();
        LeNet.Gen.IO.SafeTensors.Save(stream, values, tensors);
        return stream.ToArray();
    }
}

/// <summary>A read-only stream that cannot seek and returns at most a given number of bytes per read.</summary>
internal sealed class NonSeekableStream : Stream
{
    private readonly byte[] _bytes;
    private readonly int _maxRead;
    private int _position;

    public NonSeekableStream(byte[] bytes, int maxRead = int.MaxValue)
    {
        _bytes = bytes;
        _maxRead = maxRead;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = Math.Min(Math.Min(buffer.Length, _maxRead), _bytes.Length - _position);
        _bytes.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Passes writes through to an inner stream until a byte budget is spent, then throws IOException.</summary>
internal sealed class FailingStream : Stream
{
    private readonly Stream _inner;
    private long _budget;

    public FailingStream(Stream inner, long failAfterBytes)
    {
        _inner = inner;
        _budget = failAfterBytes;
    }

    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > _budget)
        {
            _inner.Write(buffer.Slice(0, (int)_budget));
            Written += _budget;
            _budget = 0;
            throw new IOException("Simulated failure: no space left on device.");
        }

        _inner.Write(buffer);
        Written += buffer.Length;
        _budget -= buffer.Length;
    }

    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

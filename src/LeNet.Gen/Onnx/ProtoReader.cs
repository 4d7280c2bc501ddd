using System;
using System.Buffers.Binary;
using System.IO;
using System.Text;

namespace LeNet.Gen.Onnx;

/// <summary>A range of bytes inside the file being read: a message, a string or a packed field. Copies nothing.</summary>
internal readonly struct Segment
{
    public Segment(int start, int length)
    {
        Start = start;
        Length = length;
    }

    public int Start { get; }

    public int Length { get; }

    public bool IsEmpty => Length == 0;
}

/// <summary>
/// Reads the fields of one protocol buffers message from a byte array, in order, without allocating: each
/// length-delimited field comes back as a <see cref="Segment"/> of the same array. Every length and varint is checked
/// against the bytes that remain, unknown fields of any wire type are skipped, and anything malformed (a truncated
/// varint or field, a varint longer than ten bytes, field number 0, a group or an undefined wire type) is an
/// <see cref="InvalidDataException"/>.
/// </summary>
internal struct ProtoReader
{
    private readonly byte[] _buffer;
    private readonly int _end;
    private readonly string _where;
    private int _position;

    public ProtoReader(byte[] buffer, Segment segment, string where)
    {
        _buffer = buffer;
        _position = segment.Start;
        _end = segment.Start + segment.Length;
        _where = where;
    }

    /// <summary>The field number of the current field.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the current field: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.</summary>
    public int WireType { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (_position >= _end)
        {
            return false;
        }

        ulong tag = ReadVarint();
        if (tag >> 3 == 0 || tag >> 3 > int.MaxValue)
        {
            throw Invalid($"field number {tag >> 3} is not valid");
        }

        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        if (WireType is 3 or 4)
        {
            throw Invalid($"field {Field} uses a group (wire type {WireType}), which ONNX does not");
        }

        if (WireType is 6 or 7)
        {
            throw Invalid($"field {Field} has the undefined wire type {WireType}");
        }

        return true;
    }

    /// <summary>Skips the current field's value.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadSegment();
                break;
            default:
                Advance(4);
                break;
        }
    }

    /// <summary>The current field as a varint; an error if it has another wire type.</summary>
    public long ReadInt64()
    {
        Expect(0);
        return (long)ReadVarint();
    }

    /// <summary>The current field as a 32-bit float; an error if it has another wire type.</summary>
    public float ReadFloat()
    {
        Expect(5);
        int at = Advance(4);
        return BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(at, 4));
    }

    /// <summary>The current length-delimited field (a message, string, bytes or packed field).</summary>
    public Segment ReadSegment()
    {
        Expect(2);
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
        {
            throw Invalid($"field {Field} declares {length} bytes, but only {_end - _position} remain");
        }

        int start = Advance((int)length);
        return new Segment(start, (int)length);
    }

    /// <summary>
    /// Reads a repeated int64 field's current entry, a single varint or a packed run, into <paramref name="values"/>
    /// from index <paramref name="count"/> on; more values than the span holds are an error naming <paramref name="what"/>.
    /// </summary>
    public void ReadInt64s(Span<long> values, ref int count, string what)
    {
        if (WireType == 2)
        {
            Segment packed = ReadSegment();
            var inner = new ProtoReader(_buffer, packed, _where);
            while (inner._position < inner._end)
            {
                long value = (long)inner.ReadVarint();
                Add(values, ref count, value, what);
            }
        }
        else
        {
            Add(values, ref count, ReadInt64(), what);
        }
    }

    /// <summary>Reads the whole message as a run of varints (a packed field), checking each.</summary>
    public void CheckVarints()
    {
        while (_position < _end)
        {
            ReadVarint();
        }
    }

    public InvalidDataException Invalid(string message) => new($"{_where}: {message}");

    private void Add(Span<long> values, ref int count, long value, string what)
    {
        if (count >= values.Length)
        {
            throw Invalid($"{what} has more than {values.Length} values");
        }

        values[count++] = value;
    }

    private void Expect(int wireType)
    {
        if (WireType != wireType)
        {
            throw Invalid($"field {Field} has wire type {WireType}, expected {wireType}");
        }
    }

    private int Advance(int count)
    {
        if (count > _end - _position)
        {
            throw Invalid($"field {Field} is truncated: it needs {count} bytes, {_end - _position} remain");
        }

        int at = _position;
        _position += count;
        return at;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _end)
            {
                throw Invalid("a varint is truncated");
            }

            byte b = _buffer[_position++];
            if (shift == 63 && b > 1)
            {
                throw Invalid("a varint overflows 64 bits");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Invalid("a varint is longer than ten bytes");
    }
}

/// <summary>Helpers for the strings and names held in <see cref="Segment"/>s.</summary>
internal static class Segments
{
    private const int MaxQuoted = 80;

    public static ReadOnlySpan<byte> Span(byte[] buffer, Segment segment) => buffer.AsSpan(segment.Start, segment.Length);

    public static bool Equals(byte[] buffer, Segment a, Segment b) => Span(buffer, a).SequenceEqual(Span(buffer, b));

    public static bool Equals(byte[] buffer, Segment a, string ascii)
    {
        ReadOnlySpan<byte> bytes = Span(buffer, a);
        if (bytes.Length != ascii.Length)
        {
            return false;
        }

        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != ascii[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The text, for an error message: invalid UTF-8 replaced, long text shortened.</summary>
    public static string Quote(byte[] buffer, Segment segment)
    {
        int length = Math.Min(segment.Length, MaxQuoted);
        string text = Encoding.UTF8.GetString(buffer, segment.Start, length);
        return segment.Length > MaxQuoted ? $"{text}... ({segment.Length} bytes)" : text;
    }
}

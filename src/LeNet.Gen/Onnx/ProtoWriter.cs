using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LeNet.Gen.Onnx;

/// <summary>
/// A protocol buffers message under construction: fields in the order added, each a varint, a length-delimited byte
/// string or a nested message. Its encoded size is known before anything is written, so a model streams straight to
/// its destination, the weights included, without an intermediate copy of the whole file.
/// </summary>
/// <remarks>
/// Only what the ONNX messages need: wire types 0 (varint), 2 (length-delimited) and 5 (a float). Repeated scalars are written
/// unpacked, as proto2 (the syntax of <c>onnx.proto</c>) declares them, and every reader accepts both forms.
/// </remarks>
internal sealed class ProtoMessage
{
    private readonly List<Field> _fields = new();
    private long _length = -1;

    /// <summary>The encoded size of the message's fields, in bytes (without its own tag and length).</summary>
    public long Length
    {
        get
        {
            if (_length < 0)
            {
                long total = 0;
                foreach (Field entry in _fields)
                {
                    total += VarintSize((ulong)entry.Number << 3);
                    if (entry.Message is not null)
                    {
                        total += VarintSize((ulong)entry.Message.Length) + entry.Message.Length;
                    }
                    else if (entry.IsBytes)
                    {
                        total += VarintSize((ulong)entry.Bytes.Length) + entry.Bytes.Length;
                    }
                    else if (entry.IsFixed32)
                    {
                        total += 4;
                    }
                    else
                    {
                        total += VarintSize(entry.Varint);
                    }
                }

                _length = total;
            }

            return _length;
        }
    }

    /// <summary>Adds a varint field (int32, int64 and enum fields; negative values take ten bytes, as protobuf does).</summary>
    public ProtoMessage Int(int number, long value)
    {
        _fields.Add(new Field(number, (ulong)value, default, isBytes: false, null));
        _length = -1;
        return this;
    }

    /// <summary>Adds each value as its own varint field (an unpacked repeated field).</summary>
    public ProtoMessage Ints(int number, IEnumerable<long> values)
    {
        foreach (long value in values)
        {
            Int(number, value);
        }

        return this;
    }

    /// <summary>Adds a length-delimited field holding raw bytes.</summary>
    public ProtoMessage Bytes(int number, ReadOnlyMemory<byte> bytes)
    {
        _fields.Add(new Field(number, 0, bytes, isBytes: true, null));
        _length = -1;
        return this;
    }

    /// <summary>Adds a 32-bit fixed field (wire type 5), given as its four little-endian bytes.</summary>
    public ProtoMessage Fixed32(int number, byte[] bytes)
    {
        _fields.Add(new Field(number, 0, bytes, isBytes: false, null, isFixed32: true));
        _length = -1;
        return this;
    }

    /// <summary>Adds a string field, UTF-8 encoded.</summary>
    public ProtoMessage String(int number, string text) => Bytes(number, Encoding.UTF8.GetBytes(text));

    /// <summary>Adds a nested message field.</summary>
    public ProtoMessage Message(int number, ProtoMessage message)
    {
        _fields.Add(new Field(number, 0, default, isBytes: false, message));
        _length = -1;
        return this;
    }

    /// <summary>Writes the message's fields (without its own tag and length).</summary>
    public void WriteTo(Stream stream)
    {
        Span<byte> scratch = stackalloc byte[10];
        foreach (Field field in _fields)
        {
            if (field.Message is not null)
            {
                WriteVarint(stream, ((ulong)field.Number << 3) | 2, scratch);
                WriteVarint(stream, (ulong)field.Message.Length, scratch);
                field.Message.WriteTo(stream);
            }
            else if (field.IsFixed32)
            {
                WriteVarint(stream, ((ulong)field.Number << 3) | 5, scratch);
                stream.Write(field.Bytes.Span);
            }
            else if (field.IsBytes)
            {
                WriteVarint(stream, ((ulong)field.Number << 3) | 2, scratch);
                WriteVarint(stream, (ulong)field.Bytes.Length, scratch);
                stream.Write(field.Bytes.Span);
            }
            else
            {
                WriteVarint(stream, (ulong)field.Number << 3, scratch);
                WriteVarint(stream, field.Varint, scratch);
            }
        }
    }

    internal static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static void WriteVarint(Stream stream, ulong value, Span<byte> scratch)
    {
        int count = 0;
        while (value >= 0x80)
        {
            scratch[count++] = (byte)(value | 0x80);
            value >>= 7;
        }

        scratch[count++] = (byte)value;
        stream.Write(scratch[..count]);
    }

    private readonly struct Field
    {
        public Field(int number, ulong varint, ReadOnlyMemory<byte> bytes, bool isBytes, ProtoMessage? message, bool isFixed32 = false)
        {
            IsFixed32 = isFixed32;
            Number = number;
            Varint = varint;
            Bytes = bytes;
            IsBytes = isBytes;
            Message = message;
        }

        public int Number { get; }

        public ulong Varint { get; }

        public ReadOnlyMemory<byte> Bytes { get; }

        public bool IsBytes { get; }

        public bool IsFixed32 { get; }

        public ProtoMessage? Message { get; }
    }
}

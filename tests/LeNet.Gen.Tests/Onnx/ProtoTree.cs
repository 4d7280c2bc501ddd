using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>
/// A test-side protobuf codec, written separately from the runtime's: a message as an editable list of fields, with
/// the ONNX schema only as far as knowing which fields hold nested messages. The fuzz test rewrites models with it.
/// </summary>
internal sealed class ProtoField
{
    public int Number;
    public int Wire;
    public ulong Varint;
    public byte[] Bytes = Array.Empty<byte>();
    public List<ProtoField>? Children;

    public static ProtoField Int(int number, long value) => new() { Number = number, Wire = 0, Varint = (ulong)value };

    public static ProtoField Text(int number, string text) => new() { Number = number, Wire = 2, Bytes = Encoding.UTF8.GetBytes(text) };

    public static ProtoField Message(int number, List<ProtoField> children) => new() { Number = number, Wire = 2, Children = children };

    public string String => Encoding.UTF8.GetString(Bytes);

    public ProtoField Clone() => new()
    {
        Number = Number,
        Wire = Wire,
        Varint = Varint,
        Bytes = (byte[])Bytes.Clone(),
        Children = Children?.Select(c => c.Clone()).ToList(),
    };
}

internal static class ProtoTree
{
    // Which fields of which ONNX message are messages themselves, and of what type.
    private static readonly Dictionary<(string, int), string> Schema = new()
    {
        [("Model", 7)] = "Graph",
        [("Model", 8)] = "Opset",
        [("Graph", 1)] = "Node",
        [("Graph", 5)] = "Tensor",
        [("Graph", 11)] = "Value",
        [("Graph", 12)] = "Value",
        [("Graph", 13)] = "Value",
        [("Node", 5)] = "Attribute",
        [("Attribute", 5)] = "Tensor",
        [("Value", 2)] = "Type",
        [("Type", 1)] = "TensorType",
        [("TensorType", 2)] = "Shape",
        [("Shape", 1)] = "Dim",
    };

    public static List<ProtoField> Parse(byte[] bytes, string type = "Model") => Parse(bytes, 0, bytes.Length, type);

    public static byte[] Write(List<ProtoField> fields)
    {
        using var stream = new MemoryStream();
        Write(stream, fields);
        return stream.ToArray();
    }

    public static IEnumerable<ProtoField> Where(this List<ProtoField> fields, int number) => fields.Where(f => f.Number == number);

    public static ProtoField One(this List<ProtoField> fields, int number) => fields.Single(f => f.Number == number);

    private static List<ProtoField> Parse(byte[] bytes, int position, int end, string type)
    {
        var fields = new List<ProtoField>();
        while (position < end)
        {
            ulong tag = Varint(bytes, ref position);
            var field = new ProtoField { Number = (int)(tag >> 3), Wire = (int)(tag & 7) };
            switch (field.Wire)
            {
                case 0:
                    field.Varint = Varint(bytes, ref position);
                    break;
                case 1:
                    field.Bytes = bytes[position..(position + 8)];
                    position += 8;
                    break;
                case 5:
                    field.Bytes = bytes[position..(position + 4)];
                    position += 4;
                    break;
                case 2:
                    int length = (int)Varint(bytes, ref position);
                    if (Schema.TryGetValue((type, field.Number), out string? child))
                    {
                        field.Children = Parse(bytes, position, position + length, child);
                    }
                    else
                    {
                        field.Bytes = bytes[position..(position + length)];
                    }

                    position += length;
                    break;
                default:
                    throw new InvalidOperationException($"wire type {field.Wire}");
            }

            fields.Add(field);
        }

        return fields;
    }

    private static void Write(Stream stream, List<ProtoField> fields)
    {
        foreach (ProtoField field in fields)
        {
            WriteVarint(stream, ((ulong)field.Number << 3) | (uint)field.Wire);
            switch (field.Wire)
            {
                case 0:
                    WriteVarint(stream, field.Varint);
                    break;
                case 2:
                    byte[] body = field.Children is null ? field.Bytes : Write(field.Children);
                    WriteVarint(stream, (ulong)body.Length);
                    stream.Write(body);
                    break;
                default:
                    stream.Write(field.Bytes);
                    break;
            }
        }
    }

    private static ulong Varint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}

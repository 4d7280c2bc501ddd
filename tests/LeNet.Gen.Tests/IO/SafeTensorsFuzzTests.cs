using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using LeNet.Gen.IO;
using Xunit;
using Xunit.Abstractions;
using static LeNet.Gen.Tests.IO.SafeTensorsFixtures;

namespace LeNet.Gen.Tests.IO;

/// <summary>
/// Feeds thousands of mutated LeNet-5 files to <see cref="SafeTensors.Load(Stream, IReadOnlyList{TensorInfo}, Span{float})"/>.
/// Every mutation knows its verdict: it loads exactly the values its bytes hold, or it is rejected with an
/// InvalidDataException and the destination untouched, or (random header bytes, whose meaning the test cannot
/// foresee) one of the two with the original values. No other exception may escape, and no load may allocate more
/// than the file plus the model plus a small constant.
/// </summary>
public sealed class SafeTensorsFuzzTests
{
    private const int Cases = 12_000;
    private const int DataBytes = LeNet5Count * 4;

    /// <summary>What a load may allocate beyond the file and the model: names, bookkeeping, an exception and its message.</summary>
    private const long AllocationSlack = 16 * 1024;

    private static readonly IReadOnlyList<TensorInfo> Layout = LeNet5();
    private static readonly float[] Values = RandomValues(LeNet5Count, seed: 5);
    private const string JsonBytes = "{}[]\",:0123456789 \t\n-.eE\\u";

    private static readonly string[] Whitespace = { "", "", "", " ", "\n", "\t", "\r\n", "  " };

    private static readonly Dictionary<string, byte[]> TensorBytes = Layout.ToDictionary(t => t.Name, t => LittleEndian(Values.AsSpan(t.Offset, t.Length)));
    private static readonly string FillerSource = MakeFiller(1_200_000);
    private static readonly string ObjectBombSource = new StringBuilder().Insert(0, "{\"a\":", 300_000).ToString();

    private readonly ITestOutputHelper _output;

    public SafeTensorsFuzzTests(ITestOutputHelper output) => _output = output;

    private enum Verdict
    {
        /// <summary>Must load, giving <see cref="Mutation.Expected"/>.</summary>
        Loads,

        /// <summary>Must be rejected.</summary>
        Rejected,

        /// <summary>Either rejected, or loads the original values.</summary>
        Unforeseen,
    }

    private sealed record Mutation(string Kind, byte[] File, Verdict Verdict, float[]? Expected);

    [Fact]
    public void Mutated_files_load_their_own_values_or_are_rejected_cleanly_within_the_allocation_bound()
    {
        byte[] valid = SaveToBytes(Values, Layout);
        var random = new Random(61_706);
        var loaded = new Dictionary<string, int>();
        var rejected = new Dictionary<string, int>();
        float[] destination = new float[LeNet5Count];
        long worstSlack = long.MinValue;
        string worstKind = "";
        var clock = Stopwatch.StartNew();

        for (int i = 0; i < Cases; i++)
        {
            Mutation mutation = Mutate(random, valid);
            bool seekable = random.Next(4) != 0;
            Exception? error = Run(mutation, seekable, destination, out long allocated);
            string where = $"case {i} ({mutation.Kind}, {(seekable ? "seekable" : "not seekable")}, {mutation.File.Length} bytes)";

            if (error is not null && error is not InvalidDataException)
            {
                Assert.Fail($"{where}: {error.GetType().Name} escaped: {error}");
            }

            if (error is null)
            {
                if (mutation.Verdict == Verdict.Rejected)
                {
                    Assert.Fail($"{where}: loaded a file that must be rejected");
                }

                int difference = FirstDifference(mutation.Expected ?? Values, destination);
                if (difference >= 0)
                {
                    Assert.Fail($"{where}: value {difference} differs from what the file holds");
                }

                loaded[mutation.Kind] = loaded.GetValueOrDefault(mutation.Kind) + 1;
            }
            else
            {
                if (mutation.Verdict == Verdict.Loads)
                {
                    Assert.Fail($"{where}: rejected a valid file: {error.Message}");
                }

                if (!IsSentinel(destination))
                {
                    Assert.Fail($"{where}: the destination was written before rejecting: {error.Message}");
                }

                rejected[mutation.Kind] = rejected.GetValueOrDefault(mutation.Kind) + 1;
            }

            long slack = allocated - mutation.File.Length - DataBytes;
            if (slack > worstSlack)
            {
                worstSlack = slack;
                worstKind = mutation.Kind;
            }

            if (slack > AllocationSlack)
            {
                Assert.Fail($"{where}: allocated {allocated} bytes, more than file + model + {AllocationSlack}");
            }
        }

        foreach (string kind in loaded.Keys.Union(rejected.Keys).OrderBy(k => k, StringComparer.Ordinal))
        {
            _output.WriteLine($"{kind,-28} loaded {loaded.GetValueOrDefault(kind),5}  rejected {rejected.GetValueOrDefault(kind),5}");
        }

        _output.WriteLine($"{Cases} cases in {clock.Elapsed.TotalSeconds:F1} s; worst allocation beyond file + model: {worstSlack} bytes ({worstKind})");

        // Every family of mutations was exercised, and the verdicts were not all one way.
        Assert.Equal(Cases, loaded.Values.Sum() + rejected.Values.Sum());
        Assert.True(loaded.GetValueOrDefault("data bytes") > 1000, "too few data-byte mutations");
        Assert.True(loaded.GetValueOrDefault("valid rewrite") > 500, "too few valid rewrites");
        Assert.True(loaded.GetValueOrDefault("header bytes") > 0, "no header-byte mutation happened to stay valid");
        Assert.True(rejected.Keys.Count(k => k.StartsWith("invalid:", StringComparison.Ordinal)) >= 15, "too few kinds of invalid rewrites");
    }

    private static string MakeFiller(int length)
    {
        var random = new Random(3);
        var text = new StringBuilder(length + 2);
        while (text.Length < length)
        {
            text.Append(random.Next(20) switch { 0 => "é", 1 => "😀", 2 => "\\n", _ => "x" });
        }

        return text.ToString();
    }

    /// <summary>A copy of <paramref name="bytes"/> with <paramref name="remove"/> bytes at <paramref name="at"/> replaced by <paramref name="insert"/>.</summary>
    private static byte[] Splice(byte[] bytes, int at, int remove, byte[] insert)
    {
        byte[] result = new byte[bytes.Length - remove + insert.Length];
        bytes.AsSpan(0, at).CopyTo(result);
        insert.CopyTo(result, at);
        bytes.AsSpan(at + remove).CopyTo(result.AsSpan(at + insert.Length));
        return result;
    }

    private static Exception? Run(Mutation mutation, bool seekable, float[] destination, out long allocated)
    {
        Stream stream = seekable ? new MemoryStream(mutation.File, writable: false) : new NonSeekableStream(mutation.File, maxRead: 1024 + (mutation.File.Length % 70_000));
        destination.AsSpan().Fill(BitConverter.Int32BitsToSingle(SentinelBits));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? error = null;
        try
        {
            SafeTensors.Load(stream, Layout, destination);
        }
        catch (Exception exception)
        {
            error = exception;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return error;
    }

    private static Mutation Mutate(Random random, byte[] valid)
    {
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        int roll = random.Next(100);
        if (roll < 15)
        {
            // Any bytes of the data section: the file stays valid and holds other values.
            byte[] file = (byte[])valid.Clone();
            float[] expected = (float[])Values.Clone();
            int flips = 1 + random.Next(16);
            for (int i = 0; i < flips; i++)
            {
                int at = random.Next(DataBytes);
                file[headerEnd + at] ^= (byte)(1 + random.Next(255));
                int index = at / 4;
                expected[index] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(headerEnd + (4 * index))));
            }

            return new Mutation("data bytes", file, Verdict.Loads, expected);
        }

        if (roll < 35)
        {
            // Bytes of the JSON header: usually broken, sometimes harmless (padding, metadata text), never other values.
            byte[] file = (byte[])valid.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
            {
                int at = 8 + random.Next(headerEnd - 8);
                file[at] = random.Next(3) switch
                {
                    0 => (byte)(file[at] ^ (1 << random.Next(8))),
                    1 => (byte)random.Next(256),
                    _ => (byte)JsonBytes[random.Next(JsonBytes.Length)],
                };
            }

            return new Mutation("header bytes", file, Verdict.Unforeseen, null);
        }

        if (roll < 40)
        {
            // Bytes of the length prefix: the data section no longer starts where the tensors need it.
            byte[] file = (byte[])valid.Clone();
            int at = random.Next(8);
            file[at] ^= (byte)(1 + random.Next(255));
            return new Mutation("length bytes", file, Verdict.Rejected, null);
        }

        if (roll < 45)
        {
            ulong[] lengths =
            {
                ulong.MaxValue, long.MaxValue, 1UL << 63, uint.MaxValue, 200_000_000, SafeTensors.MaxHeaderLength + 1UL,
                (ulong)valid.Length, (ulong)valid.Length - 7, 0, (ulong)random.NextInt64(), (ulong)random.Next(headerEnd - 8),
            };
            byte[] file = (byte[])valid.Clone();
            ulong length = lengths[random.Next(lengths.Length)];
            if (length == (ulong)(headerEnd - 8))
            {
                length++;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(file, length);
            return new Mutation("header length", file, Verdict.Rejected, null);
        }

        if (roll < 52)
        {
            int length = random.Next(4) == 0 ? random.Next(headerEnd + 16) : random.Next(valid.Length);
            return new Mutation("truncate", valid[..length], Verdict.Rejected, null);
        }

        if (roll < 57)
        {
            byte[] tail = new byte[1 + random.Next(random.Next(2) == 0 ? 8 : 4000)];
            random.NextBytes(tail);
            return new Mutation("extend", Splice(valid, valid.Length, 0, tail), Verdict.Rejected, null);
        }

        return Rewrite(random);
    }

    /// <summary>
    /// A file written from scratch: tensors in random order with random formatting, then (mostly) one defect.
    /// </summary>
    private static Mutation Rewrite(Random random)
    {
        var model = new FileModel(random);
        if (random.Next(5) == 0)
        {
            model.Decorate();
            return new Mutation("valid rewrite", model.Build(), Verdict.Loads, null);
        }

        string defect = model.Break();
        return new Mutation("invalid: " + defect, model.Build(), Verdict.Rejected, null);
    }

    /// <summary>A safetensors file as editable parts: entries, metadata, formatting and data.</summary>
    private sealed class FileModel
    {
        private readonly Random _random;
        private readonly List<Entry> _entries = new();
        private readonly List<byte[]> _blocks = new();
        private string? _metadata = PtMetadata;
        private int _metadataPosition;
        private bool _align = true;
        private char _pad = ' ';
        private string _tail = "";
        private Func<string, string> _finish = json => json;
        private Func<byte[], byte[]> _finishBytes = bytes => bytes;
        private Func<byte[], byte[]> _finishData = data => data;

        public FileModel(Random random)
        {
            _random = random;
            foreach (TensorInfo tensor in Layout.OrderBy(_ => random.Next()))
            {
                long begin = DataLength;
                _blocks.Add(TensorBytes[tensor.Name]);
                _entries.Add(new Entry(tensor.Name, tensor.Length * 4L)
                {
                    Dtype = "\"F32\"",
                    Shape = Dims(tensor.Shape),
                    Offsets = $"[{begin},{DataLength}]",
                    Order = new[] { 0, 1, 2 }.OrderBy(_ => random.Next()).ToArray(),
                });
            }

            _metadataPosition = random.Next(_entries.Count + 1);
        }

        /// <summary>Harmless variations: metadata, escapes, whitespace, padding.</summary>
        public void Decorate()
        {
            switch (_random.Next(8))
            {
                case 0:
                    _metadata = null;
                    break;
                case 1:
                    _metadata = "null";
                    break;
                case 2:
                    _metadata = "{}";
                    break;
                case 3:
                    _metadata = "{\"format\":\"pt\",\"note\":\"" + Filler(_random.Next(2) == 0 ? 1000 : 800_000) + "\"}";
                    break;
                case 4:
                    _metadata = "{\"a\":\"\\ud83d\\ude00 \\\\ud800\",\"\\u00e9\":\"\\/\\b\\f\\n\\r\\t\\\"\"}";
                    break;
            }

            foreach (Entry entry in _entries)
            {
                if (_random.Next(3) == 0)
                {
                    entry.Key = string.Concat(entry.Key.Select(c => _random.Next(3) == 0 ? $"\\u{(int)c:x4}" : c.ToString()));
                }
            }

            _align = _random.Next(4) != 0;
            _pad = " \t\n\r"[_random.Next(4)];
            _tail = Whitespace[_random.Next(Whitespace.Length)];
            if (_random.Next(2) == 0)
            {
                _finish = json => json.Replace(",", Ws() + "," + Ws(), StringComparison.Ordinal).Replace(":", Ws() + ":" + Ws(), StringComparison.Ordinal);
            }
        }

        /// <summary>Introduces one defect and names it.</summary>
        public string Break()
        {
            Decorate();
            if (_metadata is not null && _metadata.Length > 100_000)
            {
                _metadata = PtMetadata; // keep invalid rewrites quick to build
            }

            Entry target = _entries[_random.Next(_entries.Count)];
            switch (_random.Next(15))
            {
                case 0:
                    string[] dtypes = { "\"F16\"", "\"BF16\"", "\"F64\"", "\"I32\"", "\"U8\"", "\"BOOL\"", "\"f32\"", "\"\"", "\" F32\"", "\"F32 \"", "\"F3\"", "\"F\\u0033\"", "32", "null", "[]", "{}", "true", "\"" + Filler(5000) + "\"" };
                    target.Dtype = dtypes[_random.Next(dtypes.Length)];
                    return "dtype";
                case 1:
                    target.Shape = BadShape(target);
                    return "shape";
                case 2:
                    target.Offsets = BadOffsets(target);
                    return "data_offsets";
                case 3:
                    Entry other = _entries.First(e => e != target);
                    (target.Offsets, other.Offsets) = (other.Offsets, target.Offsets);
                    return "swapped offsets";
                case 4:
                    _entries.Remove(target);
                    if (_random.Next(2) == 0)
                    {
                        RemoveData(target);
                    }

                    return "missing tensor";
                case 5:
                    string[] names = { "conv3.weight", "fc4.bias", "", " conv1.weight", "conv1.weight ", "Conv1.weight", "conv1_weight", "conv1.weight\\u0000", "__metadata", "__METADATA__", Filler(3000) };
                    _entries.Insert(_random.Next(_entries.Count + 1), new Entry(names[_random.Next(names.Length)], 4)
                    {
                        Dtype = "\"F32\"", Shape = "[1]", Offsets = $"[{DataLength},{DataLength + 4}]", Order = new[] { 0, 1, 2 },
                    });
                    _blocks.Add(new byte[4]);
                    return "unexpected tensor";
                case 6:
                    _entries.Insert(_random.Next(_entries.Count + 1), target.Copy());
                    return "duplicate tensor";
                case 7:
                    string bomb = Bomb();
                    switch (_random.Next(3))
                    {
                        case 0:
                            _metadata = _random.Next(2) == 0 ? bomb : "{\"a\":" + bomb + "}";
                            break;
                        case 1:
                            target.Extra = "\"x\":" + bomb;
                            break;
                        default:
                            target.Shape = bomb;
                            break;
                    }

                    return "nesting bomb";
                case 8:
                    string huge = Filler(_random.Next(4) == 0 ? 1_100_000 : 2000);
                    switch (_random.Next(3))
                    {
                        case 0:
                            target.Key = huge;
                            break;
                        case 1:
                            target.Dtype = "\"" + huge + "\"";
                            break;
                        default:
                            _metadata = "{\"" + huge + "\":1}";
                            break;
                    }

                    return "huge string";
                case 9:
                    string[] metadata = { "1", "\"pt\"", "[]", "true", "{\"format\":1}", "{\"format\":null}", "{\"format\":{}}", "{\"format\":[\"pt\"]}" };
                    _metadata = metadata[_random.Next(metadata.Length)];
                    return "metadata";
                case 10:
                    switch (_random.Next(10))
                    {
                        case 0: _tail += "x"; break;
                        case 1: _tail += "{}"; break;
                        case 2: _tail += "}"; break;
                        case 3: _finish = json => json[..^1]; break;
                        case 4: _finish = json => json[..^1] + ",}"; break;
                        case 5: _finish = json => "/**/" + json; break;
                        case 6: _finish = json => json.Replace("\"dtype\"", "'dtype'", StringComparison.Ordinal); break;
                        case 7: _finish = json => json.Replace("\"shape\"", "shape", StringComparison.Ordinal); break;
                        case 8: _finish = json => "[" + json + "]"; break;
                        default: _finish = json => "\uFEFF" + json; break;
                    }

                    return "syntax";
                case 11:
                    byte[][] invalid = { new byte[] { 0xFF }, new byte[] { 0xC0, 0x80 }, new byte[] { 0x80 }, new byte[] { 0xED, 0xA0, 0x80 }, new byte[] { 0xE2, 0x82 }, new byte[] { 0xF4, 0x90, 0x80, 0x80 } };
                    byte[] bad = invalid[_random.Next(invalid.Length)];
                    _metadata = "{\"format\":\"pt\",\"n\":\"a@b\"}";
                    _finishBytes = bytes =>
                    {
                        int at = Array.IndexOf(bytes, (byte)'@');
                        return Splice(bytes, at, 1, bad);
                    };
                    return "encoding";
                case 12:
                    string[] escapes = { "\\ud800", "\\udfff", "x\\ud83d", "\\ude00\\ud83d", "\\ud83d\\\\ude00" };
                    string escape = escapes[_random.Next(escapes.Length)];
                    if (_random.Next(2) == 0)
                    {
                        _metadata = "{\"format\":\"" + escape + "\"}";
                    }
                    else
                    {
                        target.Key += escape;
                    }

                    return "surrogate";
                case 13:
                    switch (_random.Next(5))
                    {
                        case 0: target.Dtype = null; break;
                        case 1: target.Shape = null; break;
                        case 2: target.Offsets = null; break;
                        case 3: target.Extra = "\"dtype\":\"F32\""; break;
                        default: target.Extra = "\"" + (_random.Next(2) == 0 ? "offsets" : "") + "\":[0,4]"; break;
                    }

                    return "fields";
                default:
                    int cut = _random.Next(DataLength - 4);
                    _finishData = _random.Next(2) == 0
                        ? data => Splice(data, cut, 4, Array.Empty<byte>())
                        : data => Splice(data, cut, 0, new byte[4]);

                    return "data length";
            }
        }

        public byte[] Build()
        {
            var parts = _entries.Select(e => $"{Ws()}\"{e.Key}\"{Ws()}:{Ws()}{e.Value(Ws)}{Ws()}").ToList();
            if (_metadata is not null)
            {
                parts.Insert(Math.Min(_metadataPosition, parts.Count), $"{Ws()}\"__metadata__\":{Ws()}{_metadata}");
            }

            string json = _finish("{" + string.Join(",", parts) + "}") + _tail;
            byte[] header = _finishBytes(Encoding.UTF8.GetBytes(json));
            int padding = _align ? (8 - (header.Length % 8)) % 8 : 0;
            byte[] padded = new byte[header.Length + padding];
            header.CopyTo(padded, 0);
            padded.AsSpan(header.Length).Fill((byte)_pad);

            byte[] data = new byte[DataLength];
            int at = 0;
            foreach (byte[] block in _blocks)
            {
                block.CopyTo(data, at);
                at += block.Length;
            }

            return Assemble(padded, _finishData(data), pad: false);
        }

        private string Ws() => Whitespace[_random.Next(Whitespace.Length)];

        private int DataLength => _blocks.Sum(b => b.Length);

        /// <summary>JSON string content of about <paramref name="length"/> characters: ASCII, "é", "😀" and escapes.</summary>
        private string Filler(int length)
        {
            int start = _random.Next(1000);
            if (char.IsLowSurrogate(FillerSource[start]))
            {
                start++;
            }

            int end = start + length;
            while (FillerSource[end - 1] == '\\' || char.IsHighSurrogate(FillerSource[end - 1]))
            {
                end--;
            }

            return FillerSource[start..end];
        }

        private string Bomb()
        {
            int depth = 1 + _random.Next(_random.Next(4) == 0 ? 300_000 : 20);
            bool closed = _random.Next(2) == 0;
            return _random.Next(2) == 0
                ? new string('[', depth) + (closed ? new string(']', depth) : "")
                : ObjectBombSource[..(5 * depth)] + "1" + (closed ? new string('}', depth) : "");
        }

        private string BadShape(Entry target)
        {
            TensorInfo tensor = Layout.Single(t => t.Name == target.Name);
            var dims = tensor.Shape.Select(d => (long)d).ToList();
            switch (_random.Next(10))
            {
                case 0:
                    int at = _random.Next(dims.Count);
                    dims[at] += _random.Next(2) == 0 ? -(1 + _random.Next(3)) : 1 + _random.Next(3);
                    break;
                case 1: dims.Add(1); break;
                case 2: dims.Insert(0, 1); break;
                case 3: dims.RemoveAt(_random.Next(dims.Count)); break;
                case 4:
                    if (dims.Count > 1 && dims[0] != dims[^1])
                    {
                        (dims[0], dims[^1]) = (dims[^1], dims[0]);
                    }
                    else
                    {
                        dims.Add(0);
                    }

                    break;
                case 5:
                    if (dims.Count > 1)
                    {
                        dims = new List<long> { tensor.Length };
                    }
                    else
                    {
                        dims = new List<long> { 1, tensor.Length };
                    }

                    break;
                case 6: return "[" + tensor.Shape[0] + ".0" + string.Concat(tensor.Shape.Skip(1).Select(d => "," + d)) + "]";
                case 7: return new[] { "[\"6\"]", "[null]", "null", "{}", "\"[6]\"", "[1e30]", "[99999999999999999999]", "[6,]" }[_random.Next(8)];
                case 8: dims[0] = -dims[0]; break;
                default: dims.Add(long.MaxValue); break;
            }

            return "[" + string.Join(",", dims.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
        }

        private string BadOffsets(Entry target)
        {
            (long begin, long end) = target.Range();
            long shift = 4L * (1 + _random.Next(50));
            return _random.Next(11) switch
            {
                0 => begin >= shift ? $"[{begin - shift},{end - shift}]" : $"[{begin + shift},{end + shift}]",
                1 => $"[{end},{begin}]",
                2 => $"[{begin},{end + 4}]",
                3 => $"[{begin},{end - 4}]",
                4 => $"[{begin + DataBytes},{end + DataBytes}]",
                5 => $"[-{begin + 4},{end}]",
                6 => $"[{begin}.0,{end}]",
                7 => $"[{begin}]",
                8 => $"[{begin},{end},{end}]",
                9 => $"[\"{begin}\",\"{end}\"]",
                _ => $"[{begin},99999999999999999999]",
            };
        }

        private void RemoveData(Entry removed)
        {
            (long begin, long end) = removed.Range();
            _blocks.RemoveAt(_entries.Count(e => e.Range().Begin < begin));
            foreach (Entry entry in _entries)
            {
                (long b, long e) = entry.Range();
                if (b >= end)
                {
                    entry.Offsets = $"[{b - (end - begin)},{e - (end - begin)}]";
                }
            }
        }
    }

    /// <summary>One tensor's key and fields as JSON text; a null field is left out.</summary>
    private sealed class Entry
    {
        public Entry(string name, long bytes)
        {
            Name = name;
            Key = name;
            Bytes = bytes;
        }

        public string Name { get; }

        public long Bytes { get; }

        public string Key { get; set; }

        public string? Dtype { get; set; }

        public string? Shape { get; set; }

        public string? Offsets { get; set; }

        public string? Extra { get; set; }

        public int[] Order { get; init; } = { 0, 1, 2 };

        public Entry Copy() => new(Name, Bytes) { Key = Key, Dtype = Dtype, Shape = Shape, Offsets = Offsets, Extra = Extra, Order = Order };

        public (long Begin, long End) Range()
        {
            long[] pair = Offsets!.Trim('[', ']').Split(',').Select(long.Parse).ToArray();
            return (pair[0], pair[1]);
        }

        public string Value(Func<string> ws)
        {
            string?[] fields =
            {
                Dtype is null ? null : $"\"dtype\":{ws()}{Dtype}",
                Shape is null ? null : $"\"shape\":{ws()}{Shape}",
                Offsets is null ? null : $"\"data_offsets\":{ws()}{Offsets}",
            };
            IEnumerable<string?> ordered = Order.Select(i => fields[i]);
            if (Extra is not null)
            {
                ordered = ordered.Append(Extra);
            }

            return "{" + ws() + string.Join("," + ws(), ordered.Where(f => f is not null)) + ws() + "}";
        }
    }
}

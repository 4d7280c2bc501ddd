using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using LeNet.Gen.IO;
using Xunit;
using static LeNet.Gen.Tests.IO.SafeTensorsFixtures;

namespace LeNet.Gen.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private const int DataBytes = LeNet5Count * 4;

    private static readonly IReadOnlyList<TensorInfo> Layout = LeNet5();
    private static readonly float[] Values = RandomValues(LeNet5Count, seed: 1998);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lenet-safetensors-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // ---------------------------------------------------------------- round trips and byte layout

    [Fact]
    public void LeNet5_layout_has_the_pytorch_size()
    {
        Assert.Equal(LeNet5Count, Layout.Sum(t => t.Length));
        Assert.Equal(LeNet5Count, Layout[^1].Offset + Layout[^1].Length);
    }

    [Fact]
    public void Round_trip_through_a_file_is_bit_exact()
    {
        string path = Path.Combine(_directory, "lenet5.safetensors");
        SafeTensors.Save(path, Values, Layout);
        float[] loaded = Sentinel(LeNet5Count);
        SafeTensors.Load(path, Layout, loaded);
        Assert.Equal(-1, FirstDifference(Values, loaded));
        Assert.Equal(new[] { "lenet5.safetensors" }, Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Round_trip_through_a_stream_is_bit_exact_at_the_streams_position()
    {
        using var stream = new MemoryStream();
        stream.Write("junk!"u8);
        SafeTensors.Save(stream, Values, Layout);
        Assert.Equal(5 + Expected().Length, stream.Length);
        Assert.Equal(Expected(), stream.ToArray().AsSpan(5).ToArray());

        stream.Position = 5;
        float[] loaded = Sentinel(LeNet5Count);
        SafeTensors.Load(stream, Layout, loaded);
        Assert.Equal(-1, FirstDifference(Values, loaded));
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Saved_bytes_equal_a_file_built_by_hand()
    {
        // Header: {"__metadata__":{"format":"pt"},"conv1.weight":{"dtype":"F32","shape":[6,1,5,5],"data_offsets":[0,600]},...}
        // padded with spaces to a multiple of 8, then the values in little-endian order.
        Assert.Equal(Expected(), SaveToBytes(Values, Layout));
    }

    [Fact]
    public void Saved_file_parses_by_hand()
    {
        byte[] file = SaveToBytes(Values, Layout);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0UL, headerLength % 8);
        string header = Encoding.UTF8.GetString(file, 8, (int)headerLength);
        Assert.StartsWith("{", header, StringComparison.Ordinal);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);

        using JsonDocument document = JsonDocument.Parse(header);
        var properties = document.RootElement.EnumerateObject().ToList();
        Assert.Equal(new[] { "__metadata__" }.Concat(Layout.Select(t => t.Name)), properties.Select(p => p.Name));
        Assert.Equal("pt", properties[0].Value.GetProperty("format").GetString());

        int dataStart = 8 + (int)headerLength;
        Assert.Equal(dataStart + DataBytes, file.Length);
        for (int i = 0; i < Layout.Count; i++)
        {
            JsonElement entry = properties[i + 1].Value;
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(Layout[i].Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            long[] offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(new[] { Layout[i].Offset * 4L, (Layout[i].Offset + Layout[i].Length) * 4L }, offsets);
            float[] tensor = FromLittleEndian(file.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0])));
            Assert.Equal(-1, FirstDifference(Values.AsSpan(Layout[i].Offset, Layout[i].Length), tensor));
        }
    }

    [Fact]
    public void Loads_a_file_laid_out_like_safetensors_torch_save_file()
    {
        // safetensors.torch.save_file sorts tensors by name (all F32), so biases come before weights.
        var sorted = Layout.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        Assert.Equal("conv1.bias", sorted[0].Name);
        var entries = new List<HeaderEntry>();
        var data = new List<byte>();
        foreach (TensorInfo tensor in sorted)
        {
            entries.Add(new HeaderEntry(tensor.Name, TensorValue("F32", Dims(tensor.Shape), data.Count, data.Count + (tensor.Length * 4L))));
            data.AddRange(LittleEndian(Values.AsSpan(tensor.Offset, tensor.Length)));
        }

        AssertLoads(Assemble(Json(entries), data.ToArray()));
    }

    public static IEnumerable<object[]> ValidVariants() => new[]
    {
        new object[] { "no metadata" },
        new object[] { "null metadata" },
        new object[] { "empty metadata" },
        new object[] { "more metadata" },
        new object[] { "unaligned header" },
        new object[] { "tabs and newlines as padding" },
        new object[] { "pretty printed" },
        new object[] { "escaped names" },
        new object[] { "fields reordered" },
        new object[] { "metadata last" },
        new object[] { "escapes in metadata" },
        new object[] { "non-ASCII metadata" },
    };

    [Theory]
    [MemberData(nameof(ValidVariants))]
    public void Loads_valid_variants(string variant)
    {
        byte[] data = LittleEndian(Values);
        List<HeaderEntry> entries = StandardEntries(Layout);
        byte[] file = variant switch
        {
            "no metadata" => Assemble(Json(entries, metadata: null), data),
            "null metadata" => Assemble(Json(entries, metadata: "null"), data),
            "empty metadata" => Assemble(Json(entries, metadata: "{}"), data),
            "more metadata" => Assemble(Json(entries, metadata: "{\"format\":\"pt\",\"epoch\":\"12\",\"note\":\"a \\\"quoted\\\" \\\\ note\"}"), data),
            "unaligned header" => Assemble(Json(entries) + " ", data, pad: false),
            "tabs and newlines as padding" => Assemble(Json(entries) + "\t\r\n\n ", data),
            "pretty printed" => Assemble(" \n" + Json(entries).Replace(",", ",\n  ", StringComparison.Ordinal).Replace(":", " : ", StringComparison.Ordinal), data),
            "escaped names" => Assemble(Json(entries.Select(e => e with { Key = e.Key.Replace(".", "\\u002e", StringComparison.Ordinal).Replace("c", "\\u0063", StringComparison.Ordinal) })), data),
            "fields reordered" => Assemble(Json(Layout.Select(t => new HeaderEntry(t.Name,
                $"{{\"data_offsets\":[{t.Offset * 4},{(t.Offset + t.Length) * 4}],\"shape\":{Dims(t.Shape)},\"dtype\":\"F32\"}}"))), data),
            "metadata last" => Assemble(Json(entries, metadata: null)[..^1] + ",\"__metadata__\":{\"format\":\"pt\"}}", data),
            "escapes in metadata" => Assemble(Json(entries, metadata: "{\"emoji\":\"\\ud83d\\ude00\\uD83D\\uDE00\",\"e\":\"\\u00e9\\n\\\\ud800\\\\\",\"\\\"\":\"\\/\"}"), data),
            "non-ASCII metadata" => Assemble(Json(entries, metadata: "{\"author\":\"Zoë ✓ \\u00e9 😀\"}"), data),
            _ => throw new ArgumentOutOfRangeException(nameof(variant)),
        };
        AssertLoads(file);
    }

    [Fact]
    public void Loads_from_a_stream_that_cannot_seek_and_returns_short_reads()
    {
        byte[] file = Expected();
        float[] loaded = Sentinel(LeNet5Count);
        SafeTensors.Load(new NonSeekableStream(file, maxRead: 7), Layout, loaded);
        Assert.Equal(-1, FirstDifference(Values, loaded));
    }

    [Fact]
    public void Loads_a_long_header_read_in_chunks_with_tokens_across_the_chunk_boundary()
    {
        // The header of a stream that cannot seek is read in 64 KiB chunks; shift every token of the first tensor
        // entry across the boundary, with multi-byte UTF-8 text right before it.
        byte[] data = LittleEndian(Values);
        List<HeaderEntry> entries = StandardEntries(Layout);
        entries[0] = entries[0] with { Key = "conv1\\u002eweight" };
        const string Before = "{\"__metadata__\":{\"format\":\"pt\",\"f\":\"";
        for (int distance = 0; distance <= 96; distance++)
        {
            // The chunk boundary falls `distance` bytes after the filler: inside "é😀", the key, then its value.
            string filler = new string('x', 65_536 - Encoding.UTF8.GetByteCount(Before) - distance) + "é😀";
            string json = Json(entries, metadata: "{\"format\":\"pt\",\"f\":\"" + filler + "\"}");
            Assert.StartsWith(Before, json, StringComparison.Ordinal);
            byte[] file = Assemble(json, data);
            float[] loaded = Sentinel(LeNet5Count);
            SafeTensors.Load(new NonSeekableStream(file, maxRead: 10_000), Layout, loaded);
            Assert.Equal(-1, FirstDifference(Values, loaded));
        }
    }

    [Fact]
    public void Rejects_invalid_utf8_split_across_the_chunk_boundary()
    {
        for (int shift = 0; shift < 4; shift++)
        {
            // The first 0xE2 lands at header index 65534 + shift: both bytes before, straddling, or after the boundary.
            string json = Json(StandardEntries(Layout), metadata: "{\"f\":\"" + new string('x', 65_536 - 22 - 2 + shift) + "@@\"}");
            byte[] header = Encoding.UTF8.GetBytes(json);
            int at = Array.IndexOf(header, (byte)'@');
            Assert.Equal(65_534 + shift, at);
            header[at] = 0xE2; // a three-byte sequence cut short by another lead byte
            header[at + 1] = 0xE2;
            AssertRejected(Assemble(header, LittleEndian(Values)), "header is not valid UTF-8", seekable: false);
        }
    }

    [Fact]
    public void Empty_layout_round_trips()
    {
        using var stream = new MemoryStream();
        SafeTensors.Save(stream, ReadOnlySpan<float>.Empty, Array.Empty<TensorInfo>());
        Assert.Equal(Assemble("{\"__metadata__\":{\"format\":\"pt\"}}", ReadOnlySpan<byte>.Empty), stream.ToArray());
        stream.Position = 0;
        SafeTensors.Load(stream, Array.Empty<TensorInfo>(), Span<float>.Empty);
    }

    // ---------------------------------------------------------------- rejected files

    public static IEnumerable<object[]> BadFiles() => BadFileCases.Select(c => new object[] { c.Key, c.Value.Expected });

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Rejects_bad_file_with_a_precise_message_and_leaves_the_destination_unchanged(string name, string expected)
    {
        byte[] file = BadFileCases[name].Build();
        AssertRejected(file, expected, seekable: true);

        // Without seeking the messages can differ (the file's length is unknown), but never the verdict.
        float[] destination = Sentinel(LeNet5Count);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(new NonSeekableStream(file, maxRead: 4096), Layout, destination));
        Assert.True(IsSentinel(destination));
    }

    [Fact]
    public void Rejects_a_header_over_the_limit_even_when_the_file_is_that_long()
    {
        string filler = new string('x', SafeTensors.MaxHeaderLength);
        byte[] file = Assemble(Json(StandardEntries(Layout), metadata: "{\"f\":\"" + filler + "\"}"), LittleEndian(Values));
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        AssertRejected(file, $"header length {length} exceeds the limit of 1048576 bytes", seekable: true);
    }

    [Fact]
    public void Accepts_a_header_exactly_at_the_limit()
    {
        string json = Json(StandardEntries(Layout));
        byte[] file = Assemble(json + new string(' ', SafeTensors.MaxHeaderLength - json.Length), LittleEndian(Values));
        Assert.Equal((ulong)SafeTensors.MaxHeaderLength, BinaryPrimitives.ReadUInt64LittleEndian(file));
        AssertLoads(file);
    }

    [Fact]
    public void Rejects_a_huge_header_length_on_a_stream_that_cannot_seek()
    {
        byte[] file = Expected();
        BinaryPrimitives.WriteUInt64LittleEndian(file, 200_000_000);
        AssertRejected(file, "header length 200000000 exceeds the limit of 1048576 bytes", seekable: false);
    }

    [Fact]
    public void Rejects_a_truncated_header_on_a_stream_that_cannot_seek()
    {
        byte[] file = new byte[108];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        file.AsSpan(8).Fill((byte)' ');
        AssertRejected(file, "file truncated: the header has 100 of 1000 bytes", seekable: false);
    }

    [Fact]
    public void Rejects_a_truncated_data_section_on_a_stream_that_cannot_seek()
    {
        byte[] file = Expected()[..^1];
        AssertRejected(file, $"file truncated: the data section has {DataBytes - 1} of {DataBytes} bytes", seekable: false);
    }

    [Fact]
    public void Rejects_a_long_data_section_on_a_stream_that_cannot_seek()
    {
        byte[] file = Expected().Append((byte)0).ToArray();
        AssertRejected(file, $"data section is more than {DataBytes} bytes but the tensors cover {DataBytes}", seekable: false);
    }

    [Fact]
    public void Rejects_offsets_beyond_the_model_size_on_a_stream_that_cannot_seek()
    {
        List<HeaderEntry> entries = StandardEntries(Layout);
        entries[9] = entries[9] with { Value = TensorValue("F32", "[10]", DataBytes, DataBytes + 40) };
        byte[] file = Assemble(Json(entries), LittleEndian(Values).Concat(new byte[40]).ToArray());
        AssertRejected(file, $"fc3.bias: data_offsets [{DataBytes},{DataBytes + 40}] end beyond the data section ({DataBytes} bytes for this model)", seekable: false);
    }

    [Fact]
    public void Missing_file_is_reported_as_file_not_found()
    {
        float[] destination = Sentinel(LeNet5Count);
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(Path.Combine(_directory, "absent.safetensors"), Layout, destination));
        Assert.True(IsSentinel(destination));
    }

    [Fact]
    public void Bad_file_on_disk_is_rejected_through_the_path_overload()
    {
        string path = Path.Combine(_directory, "bad.safetensors");
        File.WriteAllBytes(path, BadFileCases["duplicate tensor"].Build());
        float[] destination = Sentinel(LeNet5Count);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, Layout, destination));
        Assert.Contains("duplicate tensor name fc1.bias", error.Message, StringComparison.Ordinal);
        Assert.True(IsSentinel(destination));
    }

    // ---------------------------------------------------------------- argument checks

    [Fact]
    public void Parameter_count_must_match_the_layout()
    {
        float[] shortVector = new float[LeNet5Count - 1];
        var save = Assert.Throws<ArgumentException>(() => SafeTensors.Save(new MemoryStream(), shortVector, Layout));
        Assert.Contains("61705", save.Message, StringComparison.Ordinal);
        Assert.Contains("61706", save.Message, StringComparison.Ordinal);
        Assert.Equal("parameters", save.ParamName);

        var load = Assert.Throws<ArgumentException>(() => SafeTensors.Load(new MemoryStream(Expected()), Layout, shortVector));
        Assert.Contains("61705", load.Message, StringComparison.Ordinal);
        Assert.Contains("61706", load.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layout_must_tile_the_vector_in_order_with_unique_names()
    {
        float[] four = new float[4];
        var duplicate = Assert.Throws<ArgumentException>(() => SafeTensors.Save(new MemoryStream(), four, new[] { new TensorInfo("a", 0, 2), new TensorInfo("a", 2, 2) }));
        Assert.Contains("a appears more than once", duplicate.Message, StringComparison.Ordinal);

        var gap = Assert.Throws<ArgumentException>(() => SafeTensors.Save(new MemoryStream(), four, new[] { new TensorInfo("a", 0, 1), new TensorInfo("b", 2, 2) }));
        Assert.Contains("starts at offset 2, expected 1", gap.Message, StringComparison.Ordinal);

        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.Save(new MemoryStream(), four, new[] { new TensorInfo("__metadata__", 0, 4) }));
        Assert.Contains("reserves", reserved.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => SafeTensors.Load(new MemoryStream(), new TensorInfo[] { null! }, Span<float>.Empty));
        Assert.Throws<ArgumentNullException>(() => SafeTensors.Load(new MemoryStream(), null!, Span<float>.Empty));
        Assert.Throws<ArgumentNullException>(() => SafeTensors.Save((Stream)null!, four, Layout));
    }

    [Fact]
    public void Streams_must_support_the_direction()
    {
        var readOnly = new MemoryStream(new byte[16], writable: false);
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => SafeTensors.Save(readOnly, Values, Layout)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => SafeTensors.Load(new FailingStream(new MemoryStream(), 0), Layout, new float[LeNet5Count])).ParamName);
    }

    // ---------------------------------------------------------------- atomic saving

    [Fact]
    public void Stream_overload_leaves_a_partial_file_when_the_stream_fails()
    {
        var inner = new MemoryStream();
        var failing = new FailingStream(inner, failAfterBytes: 100_000);
        Assert.Throws<IOException>(() => SafeTensors.Save(failing, Values, Layout));
        Assert.Equal(100_000, inner.Length);
        Assert.Equal(Expected().AsSpan(0, 100_000).ToArray(), inner.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(100_000)]
    [InlineData(DataBytes)]
    public void Path_overload_keeps_the_previous_file_when_a_write_fails(int failAfterBytes)
    {
        string path = Path.Combine(_directory, "model.safetensors");
        float[] previousValues = RandomValues(LeNet5Count, seed: 7);
        SafeTensors.Save(path, previousValues, Layout);
        byte[] previous = File.ReadAllBytes(path);

        FailingStream? failing = null;
        Assert.Throws<IOException>(() => SafeTensors.Save(path, Values, Layout, file => failing = new FailingStream(file, failAfterBytes)));
        Assert.NotNull(failing);
        Assert.Equal(failAfterBytes, failing!.Written);

        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.safetensors" }, Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Path_overload_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        File.WriteAllText(path, "an older, longer file that is not even safetensors".PadRight(300_000, '.'));
        SafeTensors.Save(path, Values, Layout);
        Assert.Equal(Expected(), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Path_overload_creates_nothing_when_the_arguments_are_wrong()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new float[3], Layout));
        Assert.Empty(Directory.GetFiles(_directory));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(_directory + Path.DirectorySeparatorChar, Values, Layout));
        Assert.Throws<DirectoryNotFoundException>(() => SafeTensors.Save(Path.Combine(_directory, "no", "such.safetensors"), Values, Layout));
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] Expected() => Assemble(Json(StandardEntries(Layout)), LittleEndian(Values));

    private static void AssertLoads(byte[] file)
    {
        float[] loaded = Sentinel(LeNet5Count);
        SafeTensors.Load(new MemoryStream(file, writable: false), Layout, loaded);
        Assert.Equal(-1, FirstDifference(Values, loaded));

        float[] again = Sentinel(LeNet5Count);
        SafeTensors.Load(new NonSeekableStream(file, maxRead: 5000), Layout, again);
        Assert.Equal(-1, FirstDifference(Values, again));
    }

    private static void AssertRejected(byte[] file, string expected, bool seekable)
    {
        float[] destination = Sentinel(LeNet5Count);
        Stream stream = seekable ? new MemoryStream(file, writable: false) : new NonSeekableStream(file, maxRead: 4096);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(stream, Layout, destination));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.True(IsSentinel(destination), "the destination was written to");
    }

    private static byte[] WithEntry(string name, string value, byte[]? data = null)
    {
        List<HeaderEntry> entries = StandardEntries(Layout);
        int index = entries.FindIndex(e => e.Key == name);
        entries[index] = entries[index] with { Value = value };
        return Assemble(Json(entries), data ?? LittleEndian(Values));
    }

    private static byte[] WithPrefix(byte[] file, ulong headerLength)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength);
        return file;
    }

    private static readonly Dictionary<string, (Func<byte[]> Build, string Expected)> BadFileCases = new()
    {
        ["wrong shape"] = (() => WithEntry("fc1.weight", TensorValue("F32", "[120,256]", 10288, 202288)), "fc1.weight: shape [120,256], expected [120,400]"),
        ["zero dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[0]", 202288, 202768)), "fc1.bias: shape [0], expected [120]"),
        ["extra dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[120,1]", 202288, 202768)), "fc1.bias: shape [120,1], expected [120]"),
        ["many dimensions"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[1,1,1,1,1,1,1,1,1,120]", 202288, 202768)), "fc1.bias: shape [1,1,1,1,1,1,1,1,... (10 dimensions)], expected [120]"),
        ["scalar shape"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[]", 202288, 202768)), "fc1.bias: shape [], expected [120]"),
        ["negative dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[-120]", 202288, 202768)), "fc1.bias: shape holds -120, but dimensions must be non-negative integers"),
        ["fractional dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[120.5]", 202288, 202768)), "fc1.bias: shape holds 120.5, but dimensions"),
        ["huge dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[99999999999999999999999]", 202288, 202768)), "fc1.bias: shape holds 99999999999999999999999"),
        ["string dimension"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[\"120\"]", 202288, 202768)), "fc1.bias: shape holds \"120\", but dimensions"),
        ["shape not an array"] = (() => WithEntry("fc1.bias", TensorValue("F32", "120", 202288, 202768)), "fc1.bias: shape must be an array of integers, found a number"),
        ["wrong dtype"] = (() => WithEntry("fc1.weight", TensorValue("F16", "[120,400]", 10288, 202288)), "fc1.weight: dtype F16, expected F32"),
        ["lower-case dtype"] = (() => WithEntry("fc1.bias", TensorValue("f32", "[120]", 202288, 202768)), "fc1.bias: dtype f32, expected F32"),
        ["dtype not a string"] = (() => WithEntry("fc1.bias", "{\"dtype\":32,\"shape\":[120],\"data_offsets\":[202288,202768]}"), "fc1.bias: dtype must be a string, found a number"),
        ["missing tensor"] = (() => Assemble(Json(StandardEntries(Layout).Where(e => e.Key != "conv2.bias")), LittleEndian(Values)), "missing tensor conv2.bias"),
        ["unexpected tensor"] = (() => Assemble(Json(StandardEntries(Layout).Append(new HeaderEntry("conv3.weight", TensorValue("F32", "[1]", DataBytes, DataBytes + 4)))), LittleEndian(Values).Concat(new byte[4]).ToArray()), "unexpected tensor conv3.weight"),
        ["name differs in case"] = (() => Assemble(Json(StandardEntries(Layout).Select(e => e.Key == "fc1.bias" ? e with { Key = "FC1.bias" } : e)), LittleEndian(Values)), "unexpected tensor FC1.bias"),
        ["long unexpected name"] = (() => Assemble(Json(new[] { new HeaderEntry(new string('x', 5000), "{}") }.Concat(StandardEntries(Layout))), LittleEndian(Values)), "unexpected tensor " + new string('x', 80) + "... (5000 bytes)"),
        ["duplicate tensor"] = (() => Assemble(Json(StandardEntries(Layout).Append(StandardEntries(Layout)[5])), LittleEndian(Values)), "duplicate tensor name fc1.bias"),
        ["duplicate metadata"] = (() => Assemble(Json(StandardEntries(Layout).Prepend(new HeaderEntry("__metadata__", "{}"))), LittleEndian(Values)), "duplicate __metadata__"),
        ["huge header length"] = (() => WithPrefix(Expected(), ulong.MaxValue), "header length 18446744073709551615 exceeds the file"),
        ["header length one past the file"] = (() => WithPrefix(Expected(), (ulong)(Expected().Length - 8 + 1)), $"header length {Expected().Length - 7} exceeds the file ({Expected().Length - 8} bytes follow the 8-byte length)"),
        ["header length too short"] = (() => WithPrefix(Expected(), 64), "header is not valid JSON"),
        ["header length too long"] = (() => WithPrefix(Expected(), BinaryPrimitives.ReadUInt64LittleEndian(Expected()) + 8), "header is not valid "), // UTF-8 or JSON, as the data bytes fall
        ["empty header"] = (() => Assemble(Array.Empty<byte>(), LittleEndian(Values)), "header is not valid JSON"),
        ["truncated JSON"] = (() => Assemble("{\"conv1.weight\":", LittleEndian(Values)), "header is not valid JSON"),
        ["comment"] = (() => Assemble("/**/" + Json(StandardEntries(Layout)), LittleEndian(Values)), "header is not valid JSON"),
        ["trailing comma"] = (() => Assemble(Json(StandardEntries(Layout))[..^1] + ",}", LittleEndian(Values)), "header is not valid JSON"),
        ["trailing content"] = (() => Assemble(Json(StandardEntries(Layout)) + "x", LittleEndian(Values)), "header is not valid JSON"),
        ["second object"] = (() => Assemble(Json(StandardEntries(Layout)) + "{}", LittleEndian(Values)), "header is not valid JSON"),
        ["top-level array"] = (() => Assemble("[1,2]", LittleEndian(Values)), "header is not a JSON object but an array"),
        ["not UTF-8"] = (() => Assemble(Encoding.UTF8.GetBytes(Json(StandardEntries(Layout), "{\"a\":\"#\"}")).Select(b => b == (byte)'#' ? (byte)0xFF : b).ToArray(), LittleEndian(Values)), "header is not valid UTF-8"),
        ["lone surrogate escape"] = (() => Assemble(Json(StandardEntries(Layout).Prepend(new HeaderEntry("\\ud800", "{}"))), LittleEndian(Values)), "header is not valid JSON"),
        ["lone surrogate in metadata"] = (() => Assemble(Json(StandardEntries(Layout), "{\"a\":\"x\\ud800y\"}"), LittleEndian(Values)), "header is not valid JSON: the string \"x\\ud800y\" holds an unpaired surrogate escape"),
        ["reversed surrogate pair"] = (() => Assemble(Json(StandardEntries(Layout), "{\"a\":\"\\ude00\\ud83d\"}"), LittleEndian(Values)), "holds an unpaired surrogate escape"),
        ["high surrogate at the end"] = (() => Assemble(Json(StandardEntries(Layout), "{\"\\ud83d\":\"a\"}"), LittleEndian(Values)), "holds an unpaired surrogate escape"),
        ["high surrogate before an escaped backslash"] = (() => Assemble(Json(StandardEntries(Layout), "{\"a\":\"\\ud83d\\\\ude00\"}"), LittleEndian(Values)), "holds an unpaired surrogate escape"),
        ["nesting bomb"] = (() => Assemble(Json(StandardEntries(Layout), new string('[', 100_000) + new string(']', 100_000)), LittleEndian(Values)), "__metadata__ must map strings to strings, found an array"),
        ["nesting bomb in a shape"] = (() => WithEntry("fc1.bias", TensorValue("F32", new string('[', 100_000) + new string(']', 100_000), 202288, 202768)), "fc1.bias: shape holds an array, but dimensions"),
        ["unclosed nesting bomb"] = (() => Assemble(Json(StandardEntries(Layout))[..^1] + ",\"x\":" + new string('{', 100_000), LittleEndian(Values)), "unexpected tensor x"),
        ["shallow nesting"] = (() => Assemble(Json(StandardEntries(Layout), "{\"a\":{\"b\":\"c\"}}"), LittleEndian(Values)), "__metadata__ must map strings to strings, but a maps to an object"),
        ["metadata number"] = (() => Assemble(Json(StandardEntries(Layout), "{\"format\":1}"), LittleEndian(Values)), "__metadata__ must map strings to strings, but format maps to a number"),
        ["metadata array"] = (() => Assemble(Json(StandardEntries(Layout), "[\"pt\"]"), LittleEndian(Values)), "__metadata__ must map strings to strings, found an array"),
        ["tensor not an object"] = (() => WithEntry("fc1.bias", "[202288,202768]"), "fc1.bias: expected an object with dtype, shape and data_offsets, found an array"),
        ["unknown field"] = (() => WithEntry("fc1.weight", "{\"dtype\":\"F32\",\"shape\":[120,400],\"data_offsets\":[10288,202288],\"foo\":1}"), "fc1.weight: unexpected field foo"),
        ["missing field"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120]}"), "fc1.bias: missing field data_offsets"),
        ["duplicate field"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"shape\":[120],\"data_offsets\":[202288,202768]}"), "fc1.bias: duplicate field shape"),
        ["negative offset"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"data_offsets\":[-4,476]}"), "fc1.bias: data_offsets must be [begin, end] with non-negative integers, found -4 there"),
        ["fractional offset"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"data_offsets\":[202288.0,202768]}"), "found 202288.0 there"),
        ["offset beyond long"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"data_offsets\":[202288,99999999999999999999]}"), "fc1.bias: data_offsets must be [begin, end]"),
        ["three offsets"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"data_offsets\":[202288,202768,202768]}"), "fc1.bias: data_offsets must be [begin, end]"),
        ["one offset"] = (() => WithEntry("fc1.bias", "{\"dtype\":\"F32\",\"shape\":[120],\"data_offsets\":[202288]}"), "found the end of the array there"),
        ["reversed offsets"] = (() => WithEntry("fc2.bias", TensorValue("F32", "[84]", 10, 4)), "fc2.bias: data_offsets [10,4] are reversed"),
        ["overlapping offsets"] = (() => WithEntry("conv1.bias", TensorValue("F32", "[6]", 0, 24)), "conv1.bias: data_offsets [0,24] overlap conv1.weight [0,600]"),
        ["offsets beyond the data"] = (() => WithEntry("fc3.bias", TensorValue("F32", "[10]", DataBytes, DataBytes + 40)), $"fc3.bias: data_offsets [{DataBytes},{DataBytes + 40}] end beyond the data section ({DataBytes} bytes)"),
        ["offsets of the wrong size"] = (() => WithEntry("fc1.bias", TensorValue("F32", "[120]", 202288, 202772)), "fc1.bias: data_offsets [202288,202772] span 484 bytes, but F32 [120] needs 480"),
        ["extra data"] = (() => Assemble(Json(StandardEntries(Layout)), LittleEndian(Values).Concat(new byte[4]).ToArray()), $"data section is {DataBytes + 4} bytes but the tensors cover {DataBytes}"),
        ["gap in the data"] = (() => WithEntry("fc3.bias", TensorValue("F32", "[10]", DataBytes - 36, DataBytes + 4), LittleEndian(Values).Concat(new byte[4]).ToArray()), $"data section is {DataBytes + 4} bytes but the tensors cover {DataBytes}"),
        ["data cut short"] = (() => Expected()[..^1], $"fc3.bias: data_offsets [{DataBytes - 40},{DataBytes}] end beyond the data section ({DataBytes - 1} bytes)"),
        ["prefix cut short"] = (() => Expected()[..5], "file truncated: 5 of the 8 bytes of the header length"),
        ["empty file"] = (() => Array.Empty<byte>(), "file truncated: 0 of the 8 bytes of the header length"),
    };
}

using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LeNet.Gen.IO;

/// <summary>
/// Reads and writes a network's parameter vector as a Hugging Face <c>.safetensors</c> file: an 8-byte
/// little-endian header length, a UTF-8 JSON header naming every tensor with its dtype, shape and byte range, then
/// the raw little-endian values. Files written here load with Python's <c>safetensors.torch.load_file</c>, and
/// files that PyTorch writes for the same network load here, whatever the order of their tensors.
/// </summary>
/// <remarks>
/// <para>
/// Tensors are <c>F32</c>, except those the layout marks <see cref="TensorElementType.Int64"/> (<c>I64</c>, such as batch
/// norm's <c>num_batches_tracked</c>), and a file must hold exactly the tensors of the layout passed in: same
/// names, same shapes, no more, no fewer. Loading checks the whole file before it writes a single value, so a
/// rejected file leaves the destination untouched; every problem with the file's content is reported as an
/// <see cref="InvalidDataException"/> whose message names the tensor and the values involved.
/// </para>
/// <para>
/// The reader is stricter than the format's reference implementation in two ways that no conforming writer
/// notices: a repeated key and a field other than <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> in a tensor
/// entry are errors rather than silently resolved or ignored. The optional <c>__metadata__</c> map of strings is
/// checked for form and otherwise ignored; <see cref="Save(Stream, ReadOnlySpan{float}, IReadOnlyList{TensorInfo})"/>
/// writes <c>{"format":"pt"}</c> there, as PyTorch does.
/// </para>
/// <para>
/// Loading never allocates much more than the file itself: the header is read only after its declared length has
/// been checked against <see cref="MaxHeaderLength"/> and, for seekable streams, against the bytes that remain, and
/// the values go into one private buffer of exactly the model's size.
/// </para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>
    /// The largest JSON header accepted when loading, in bytes (1 MiB). A LeNet-5 header is about 1 KB, and even a
    /// network with thousands of tensors stays far below this; a larger declared length is treated as corrupt.
    /// </summary>
    public const int MaxHeaderLength = 1 << 20;

    /// <summary>Key of the optional string-to-string map in the header; never a tensor name.</summary>
    private const string MetadataKey = "__metadata__";

    /// <summary>Deepest JSON nesting accepted; a valid header needs 3 (root, tensor entry, shape array).</summary>
    private const int MaxJsonDepth = 8;

    /// <summary>Size of the chunks in which a header is read from a stream whose length is unknown.</summary>
    private const int HeaderChunk = 64 * 1024;

    /// <summary>At most this many floats are converted or moved as one block.</summary>
    private const int FloatChunk = 1 << 24;

    /// <summary>Longest text taken from the file into an error message.</summary>
    private const int MaxQuotedBytes = 80;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Writes the parameters to a file, replacing it atomically: the data goes to a temporary file in the same
    /// directory, which is flushed to disk and then moved over <paramref name="path"/>. If anything fails, the
    /// temporary file is deleted and an existing file at <paramref name="path"/> is left as it was.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="parameters">The parameter vector, laid out as <paramref name="tensors"/> describes.</param>
    /// <param name="tensors">The tensors, in the order of their offsets, covering the vector without gaps.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="path"/> is empty or names a directory; or the tensors do not describe the vector: an entry
    /// is null, names repeat or use <c>__metadata__</c>, an offset is not where the previous tensor ends, or the
    /// lengths do not add up to <c>parameters.Length</c>.
    /// </exception>
    /// <exception cref="IOException">The file system failed, e.g. the directory does not exist or the disk is full.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory or file may not be written.</exception>
    public static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors)
        => Save(path, parameters, tensors, wrap: null);

    /// <summary>
    /// Writes the parameters in safetensors format at the stream's current position and flushes the stream. If
    /// writing fails midway the stream holds a partial file; use <see cref="Save(string, ReadOnlySpan{float}, IReadOnlyList{TensorInfo})"/>
    /// to replace files atomically.
    /// </summary>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <param name="parameters">The parameter vector, laid out as <paramref name="tensors"/> describes.</param>
    /// <param name="tensors">The tensors, in the order of their offsets, covering the vector without gaps.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The stream cannot be written, or the tensors do not describe the vector (see the path overload).
    /// </exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static void Save(Stream stream, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        }

        byte[][] names = CheckLayout(parameters.Length, tensors, nameof(parameters));
        Write(stream, parameters, tensors, names);
        stream.Flush();
    }

    /// <summary>
    /// The path overload of <see cref="Save(string, ReadOnlySpan{float}, IReadOnlyList{TensorInfo})"/>, with a hook
    /// that may wrap the temporary file's stream (tests use it to make a write fail midway).
    /// </summary>
    internal static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, Func<Stream, Stream>? wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[][] names = CheckLayout(parameters.Length, tensors, nameof(parameters));
        using var file = AtomicFile.Create(path);
        Stream target = wrap is null ? file.Stream : wrap(file.Stream);
        Write(target, parameters, tensors, names);
        target.Flush();
        file.Commit();
    }

    /// <summary>
    /// Reads a safetensors file into the parameter vector. The file must hold exactly the given tensors as
    /// <c>F32</c> with the given shapes, in any order; nothing is written to <paramref name="parameters"/> unless the
    /// whole file is valid.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="tensors">The expected tensors, in the order of their offsets, covering the vector without gaps.</param>
    /// <param name="parameters">Receives the values.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="path"/> is empty, or the tensors do not describe the vector (see the stream overload).
    /// </exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file for these tensors.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file system failed while opening or reading the file.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static void Load(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckLayout(parameters.Length, tensors, nameof(parameters));
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            Load(file, tensors, parameters);
        }
        catch (InvalidDataException e)
        {
            // Name the file, as the IDX reader does: "weights.safetensors: fc1.weight: shape [120,256], expected [120,400]".
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a safetensors file from the stream's current position to its end into the parameter vector. The file
    /// must hold exactly the given tensors as <c>F32</c> with the given shapes, in any order; nothing is written to
    /// <paramref name="parameters"/> unless the whole file is valid.
    /// </summary>
    /// <remarks>
    /// A seekable stream is checked against its length before anything large is read. A stream that cannot seek is
    /// read up to the header's declared length (at most <see cref="MaxHeaderLength"/>) and then exactly the model's
    /// size, after which it must end.
    /// </remarks>
    /// <param name="stream">A readable stream; it is left open, positioned after what was read.</param>
    /// <param name="tensors">The expected tensors, in the order of their offsets, covering the vector without gaps.</param>
    /// <param name="parameters">Receives the values.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The stream cannot be read; or the tensors do not describe the vector: an entry is null, names repeat or use
    /// <c>__metadata__</c>, an offset is not where the previous tensor ends, or the lengths do not add up to
    /// <c>parameters.Length</c>.
    /// </exception>
    /// <exception cref="InvalidDataException">
    /// The content is not a valid safetensors file for these tensors: it is truncated or too long, the header is
    /// too long, not UTF-8, not JSON or not a safetensors header, a tensor is missing, unexpected or repeated, has
    /// another dtype or shape, or the byte ranges are reversed, overlap, leave gaps or pass the end of the data.
    /// </exception>
    /// <exception cref="IOException">The stream itself failed.</exception>
    public static void Load(Stream stream, IReadOnlyList<TensorInfo> tensors, Span<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        byte[][] names = CheckLayout(parameters.Length, tensors, nameof(parameters));
        bool mixed = HasInt64(tensors);
        long dataLength = parameters.Length * 4L;
        if (mixed)
        {
            dataLength = 0;
            foreach (TensorInfo tensor in tensors)
            {
                dataLength += ByteLength(tensor);
            }
        }

        Span<byte> prefix = stackalloc byte[8];
        int prefixRead = ReadFully(stream, prefix);
        if (prefixRead < prefix.Length)
        {
            throw Invalid($"file truncated: {prefixRead} of the 8 bytes of the header length");
        }

        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        long? remaining = stream.CanSeek ? Math.Max(0L, stream.Length - stream.Position) : null;
        if (remaining is long available && declared > (ulong)available)
        {
            throw Invalid($"header length {declared} exceeds the file ({available} bytes follow the 8-byte length)");
        }

        if (declared > MaxHeaderLength)
        {
            throw Invalid($"header length {declared} exceeds the limit of {MaxHeaderLength} bytes");
        }

        int headerLength = (int)declared;
        ReadOnlySequence<byte> header = ReadHeader(stream, headerLength, remaining.HasValue);
        long sectionLength = remaining is long total ? total - headerLength : dataLength;
        Placement[] placements = ParseHeader(header, tensors, names, sectionLength, remaining.HasValue);
        CheckCoverage(placements, tensors, sectionLength, dataLength);

        if (mixed)
        {
            float[] converted = ReadMixed(stream, tensors, placements, dataLength, parameters.Length);
            converted.CopyTo(parameters);
            return;
        }

        float[] values = ReadData(stream, parameters.Length);
        foreach (Placement placement in placements)
        {
            TensorInfo tensor = tensors[placement.Index];
            values.AsSpan((int)(placement.Begin / 4), tensor.Length).CopyTo(parameters.Slice(tensor.Offset, tensor.Length));
        }
    }

    // F32 values take 4 bytes; an I64 counter (batch norm's num_batches_tracked, held as a whole float) takes 8.
    private static bool IsInt64(TensorInfo tensor) => tensor.ElementType == TensorElementType.Int64;

    private static long ByteLength(TensorInfo tensor) => tensor.Length * (IsInt64(tensor) ? 8L : 4L);

    private static string DtypeOf(TensorInfo tensor) => IsInt64(tensor) ? "I64" : "F32";

    private static bool HasInt64(IReadOnlyList<TensorInfo> tensors)
    {
        foreach (TensorInfo tensor in tensors)
        {
            if (IsInt64(tensor))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Checks that the tensors tile a vector of <paramref name="parameterCount"/> values in order and returns each
    /// name in UTF-8.
    /// </summary>
    private static byte[][] CheckLayout(int parameterCount, IReadOnlyList<TensorInfo> tensors, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new byte[tensors.Count][];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        for (int i = 0; i < names.Length; i++)
        {
            TensorInfo tensor = tensors[i] ?? throw new ArgumentException($"Entry {i} of the tensor list is null.", nameof(tensors));
            if (tensor.Name == MetadataKey)
            {
                throw new ArgumentException($"Entry {i} of the tensor list is named {MetadataKey}, which the safetensors format reserves.", nameof(tensors));
            }

            if (!seen.Add(tensor.Name))
            {
                throw new ArgumentException($"The tensor name {tensor.Name} appears more than once.", nameof(tensors));
            }

            if (tensor.Offset != offset)
            {
                throw new ArgumentException(
                    $"Tensor {tensor.Name} starts at offset {tensor.Offset}, expected {offset}: the tensors must follow one another without gaps, in the order of their offsets.",
                    nameof(tensors));
            }

            try
            {
                names[i] = StrictUtf8.GetBytes(tensor.Name);
            }
            catch (EncoderFallbackException exception)
            {
                throw new ArgumentException($"The name of tensor {i} is not valid Unicode text.", nameof(tensors), exception);
            }

            offset += tensor.Length;
        }

        if (offset != parameterCount)
        {
            throw new ArgumentException(
                $"The parameter vector has {parameterCount} values, but the tensors cover {offset}.", parameterName);
        }

        return names;
    }

    private static void Write(Stream stream, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, byte[][] names)
    {
        var json = new ArrayBufferWriter<byte>(256 + (64 * names.Length));
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject(MetadataKey);
            writer.WriteString("format", "pt");
            writer.WriteEndObject();
            long begin = 0;
            for (int i = 0; i < names.Length; i++)
            {
                TensorInfo tensor = tensors[i];
                long end = begin + ByteLength(tensor);
                writer.WriteStartObject(names[i]);
                writer.WriteString("dtype", DtypeOf(tensor));
                writer.WriteStartArray("shape");
                foreach (int dimension in tensor.Shape)
                {
                    writer.WriteNumberValue(dimension);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(begin);
                writer.WriteNumberValue(end);
                writer.WriteEndArray();
                writer.WriteEndObject();
                begin = end;
            }

            writer.WriteEndObject();
        }

        int padding = (8 - (json.WrittenCount % 8)) % 8;
        json.GetSpan(padding).Slice(0, padding).Fill((byte)' ');
        json.Advance(padding);

        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.WrittenCount);
        stream.Write(prefix);
        stream.Write(json.WrittenSpan);

        if (HasInt64(tensors))
        {
            WriteMixed(stream, parameters, tensors);
            return;
        }

        if (BitConverter.IsLittleEndian)
        {
            for (int start = 0; start < parameters.Length; start += FloatChunk)
            {
                ReadOnlySpan<float> block = parameters.Slice(start, Math.Min(FloatChunk, parameters.Length - start));
                stream.Write(MemoryMarshal.AsBytes(block));
            }
        }
        else
        {
            int[] buffer = new int[Math.Min(FloatChunk, parameters.Length)];
            for (int start = 0; start < parameters.Length; start += buffer.Length)
            {
                ReadOnlySpan<int> block = MemoryMarshal.Cast<float, int>(parameters.Slice(start, Math.Min(buffer.Length, parameters.Length - start)));
                Span<int> swapped = buffer.AsSpan(0, block.Length);
                BinaryPrimitives.ReverseEndianness(block, swapped);
                stream.Write(MemoryMarshal.AsBytes(swapped));
            }
        }
    }

    // Tensor by tensor, when some are I64: those values are whole floats written as 64-bit integers.
    private static void WriteMixed(Stream stream, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors)
    {
        Span<byte> bytes = stackalloc byte[8];
        foreach (TensorInfo tensor in tensors)
        {
            ReadOnlySpan<float> values = parameters.Slice(tensor.Offset, tensor.Length);
            foreach (float value in values)
            {
                if (IsInt64(tensor))
                {
                    if (!(value >= 0 && value <= (1 << 24) && value == MathF.Floor(value)))
                    {
                        throw new ArgumentException($"Tensor {tensor.Name} is stored as I64, but holds {value.ToString(CultureInfo.InvariantCulture)}, which is not a whole number in [0, 2^24].", nameof(parameters));
                    }

                    BinaryPrimitives.WriteInt64LittleEndian(bytes, (long)value);
                    stream.Write(bytes);
                }
                else
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
                    stream.Write(bytes.Slice(0, 4));
                }
            }
        }
    }

    /// <summary>
    /// Reads the <paramref name="length"/>-byte header. With a known stream length (already checked) it is read in
    /// one piece; otherwise in chunks, so that a lying length cannot make us allocate more than the stream holds.
    /// </summary>
    private static ReadOnlySequence<byte> ReadHeader(Stream stream, int length, bool lengthKnown)
    {
        if (length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        HeaderSegment? first = null;
        HeaderSegment? last = null;
        int total = 0;
        while (total < length)
        {
            byte[] chunk = new byte[lengthKnown ? length : Math.Min(HeaderChunk, length - total)];
            int read = ReadFully(stream, chunk);
            total += read;
            if (read < chunk.Length)
            {
                throw Invalid($"file truncated: the header has {total} of {length} bytes");
            }

            last = new HeaderSegment(chunk, last);
            first ??= last;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>
    /// Parses and checks the header: every expected tensor present once as F32 with its shape and a byte range of
    /// the right size inside the data section, no other keys but an optional string-to-string <c>__metadata__</c>.
    /// </summary>
    private static Placement[] ParseHeader(ReadOnlySequence<byte> header, IReadOnlyList<TensorInfo> tensors, byte[][] names, long sectionLength, bool sectionKnown)
    {
        CheckUtf8(header);
        var placements = new Placement[names.Length];
        bool[] present = new bool[names.Length];
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxJsonDepth });
        try
        {
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Invalid($"header is not a JSON object but {Describe(reader.TokenType)}");
            }

            bool metadataSeen = false;
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                if (reader.ValueTextEquals("__metadata__"u8))
                {
                    if (metadataSeen)
                    {
                        throw Invalid($"duplicate {MetadataKey}");
                    }

                    metadataSeen = true;
                    SkipMetadata(ref reader);
                    continue;
                }

                int index = Find(ref reader, names);
                if (index < 0)
                {
                    throw Invalid($"unexpected tensor {Quote(ref reader)}");
                }

                TensorInfo tensor = tensors[index];
                if (present[index])
                {
                    throw Invalid($"duplicate tensor name {tensor.Name}");
                }

                present[index] = true;
                placements[index] = ParseTensor(ref reader, tensor, index, sectionLength, sectionKnown);
            }

            if (reader.Read())
            {
                throw Invalid("header is not valid JSON: more content after the top-level object");
            }
        }
        catch (JsonException exception)
        {
            throw Invalid($"header is not valid JSON: {exception.Message}", exception);
        }
        catch (InvalidOperationException exception)
        {
            // Utf8JsonReader reports an invalid escape (e.g. a lone surrogate in "\ud800") this way when it unescapes.
            throw Invalid($"header is not valid JSON: {exception.Message}", exception);
        }

        for (int i = 0; i < present.Length; i++)
        {
            if (!present[i])
            {
                throw Invalid($"missing tensor {tensors[i].Name}");
            }
        }

        return placements;
    }

    private static void CheckUtf8(ReadOnlySequence<byte> header)
    {
        Decoder decoder = StrictUtf8.GetDecoder();
        Span<char> scratch = stackalloc char[512];
        try
        {
            SequencePosition position = header.Start;
            while (header.TryGet(ref position, out ReadOnlyMemory<byte> memory))
            {
                ReadOnlySpan<byte> bytes = memory.Span;
                while (!bytes.IsEmpty)
                {
                    decoder.Convert(bytes, scratch, flush: false, out int used, out _, out _);
                    bytes = bytes.Slice(used);
                }
            }

            // A sequence cut off inside a character fails here.
            decoder.Convert(ReadOnlySpan<byte>.Empty, scratch, flush: true, out _, out _, out _);
        }
        catch (DecoderFallbackException exception)
        {
            throw Invalid("header is not valid UTF-8", exception);
        }
    }

    private static void SkipMetadata(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid($"{MetadataKey} must map strings to strings, found {Describe(reader.TokenType)}");
        }

        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return;
            }

            Utf8JsonReader key = reader;
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Invalid($"{MetadataKey} must map strings to strings, but {Quote(ref key)} maps to {Describe(reader.TokenType)}");
            }
        }
    }

    private static Placement ParseTensor(ref Utf8JsonReader reader, TensorInfo tensor, int index, long sectionLength, bool sectionKnown)
    {
        string name = tensor.Name;
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid($"{name}: expected an object with dtype, shape and data_offsets, found {Describe(reader.TokenType)}");
        }

        bool hasDtype = false, hasShape = false, hasOffsets = false;
        string? wrongDtype = null;
        string? wrongShape = null;
        long begin = 0, end = 0;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.ValueTextEquals("dtype"u8))
            {
                CheckFirst(ref hasDtype, name, "dtype");
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw Invalid($"{name}: dtype must be a string, found {Describe(reader.TokenType)}");
                }

                wrongDtype = reader.ValueTextEquals(IsInt64(tensor) ? "I64"u8 : "F32"u8) ? null : Quote(ref reader);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                CheckFirst(ref hasShape, name, "shape");
                wrongShape = ParseShape(ref reader, tensor);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                CheckFirst(ref hasOffsets, name, "data_offsets");
                (begin, end) = ParseOffsets(ref reader, name);
            }
            else
            {
                throw Invalid($"{name}: unexpected field {Quote(ref reader)}");
            }
        }

        string? missing = !hasDtype ? "dtype" : !hasShape ? "shape" : !hasOffsets ? "data_offsets" : null;
        if (missing is not null)
        {
            throw Invalid($"{name}: missing field {missing}");
        }

        if (wrongDtype is not null)
        {
            throw Invalid($"{name}: dtype {wrongDtype}, expected {DtypeOf(tensor)}");
        }

        if (wrongShape is not null)
        {
            throw Invalid($"{name}: shape {wrongShape}, expected {tensor.ShapeText}");
        }

        if (begin > end)
        {
            throw Invalid($"{name}: data_offsets [{begin},{end}] are reversed");
        }

        if (end > sectionLength)
        {
            string section = sectionKnown ? $"{sectionLength} bytes" : $"{sectionLength} bytes for this model";
            throw Invalid($"{name}: data_offsets [{begin},{end}] end beyond the data section ({section})");
        }

        long needed = ByteLength(tensor);
        if (end - begin != needed)
        {
            throw Invalid($"{name}: data_offsets [{begin},{end}] span {end - begin} bytes, but {DtypeOf(tensor)} {tensor.ShapeText} needs {needed}");
        }

        return new Placement(begin, end, index);
    }

    private static void CheckFirst(ref bool seen, string name, string field)
    {
        if (seen)
        {
            throw Invalid($"{name}: duplicate field {field}");
        }

        seen = true;
    }

    /// <summary>Reads a shape array; returns null when it equals the tensor's shape, else the file's shape as text.</summary>
    private static string? ParseShape(ref Utf8JsonReader reader, TensorInfo tensor)
    {
        const int Shown = 8;
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid($"{tensor.Name}: shape must be an array of integers, found {Describe(reader.TokenType)}");
        }

        IReadOnlyList<int> expected = tensor.Shape;
        Span<long> first = stackalloc long[Shown];
        int count = 0;
        bool matches = true;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                break;
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long dimension) || dimension < 0)
            {
                throw Invalid($"{tensor.Name}: shape holds {QuoteValue(ref reader)}, but dimensions must be non-negative integers");
            }

            matches &= count < expected.Count && dimension == expected[count];
            if (count < Shown)
            {
                first[count] = dimension;
            }

            count++;
        }

        if (matches && count == expected.Count)
        {
            return null;
        }

        var text = new StringBuilder("[");
        for (int i = 0; i < Math.Min(count, Shown); i++)
        {
            text.Append(i == 0 ? "" : ",").Append(first[i].ToString(CultureInfo.InvariantCulture));
        }

        if (count > Shown)
        {
            text.Append(CultureInfo.InvariantCulture, $",... ({count} dimensions)");
        }

        return text.Append(']').ToString();
    }

    private static (long Begin, long End) ParseOffsets(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            Next(ref reader);
            if (TryReadOffset(ref reader, out long begin))
            {
                Next(ref reader);
                if (TryReadOffset(ref reader, out long end))
                {
                    Next(ref reader);
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        return (begin, end);
                    }
                }
            }
        }

        throw Invalid($"{name}: data_offsets must be [begin, end] with non-negative integers, found {QuoteValue(ref reader)} there");
    }

    private static bool TryReadOffset(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>
    /// Rejects byte ranges that overlap, and data sections that the ranges do not cover exactly. Each range already
    /// lies inside the section and has its tensor's size, so these checks leave exactly one tiling.
    /// </summary>
    private static void CheckCoverage(Placement[] placements, IReadOnlyList<TensorInfo> tensors, long sectionLength, long dataLength)
    {
        var sorted = (Placement[])placements.Clone();
        Array.Sort(sorted);
        for (int i = 1; i < sorted.Length; i++)
        {
            Placement previous = sorted[i - 1];
            Placement current = sorted[i];
            if (current.Begin < previous.End)
            {
                throw Invalid(
                    $"{tensors[current.Index].Name}: data_offsets [{current.Begin},{current.End}] overlap {tensors[previous.Index].Name} [{previous.Begin},{previous.End}]");
            }
        }

        if (sectionLength != dataLength)
        {
            throw Invalid($"data section is {sectionLength} bytes but the tensors cover {dataLength}");
        }
    }

    // The data section of a layout with I64 tensors, read whole (its length is the model's), then converted tensor by
    // tensor; an I64 value must be a whole number that a float holds exactly.
    private static float[] ReadMixed(Stream stream, IReadOnlyList<TensorInfo> tensors, Placement[] placements, long dataLength, int count)
    {
        byte[] data = new byte[dataLength];
        int read = ReadFully(stream, data);
        if (read < data.Length)
        {
            throw Invalid($"file truncated: the data section has {read} of {dataLength} bytes");
        }

        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
        {
            throw Invalid($"data section is more than {dataLength} bytes but the tensors cover {dataLength}");
        }

        float[] values = new float[count];
        foreach (Placement placement in placements)
        {
            TensorInfo tensor = tensors[placement.Index];
            for (int i = 0; i < tensor.Length; i++)
            {
                if (IsInt64(tensor))
                {
                    long value = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan((int)placement.Begin + (8 * i), 8));
                    if (value < 0 || value > (1 << 24))
                    {
                        throw Invalid($"{tensor.Name}: value {value} is outside [0, 2^24]");
                    }

                    values[tensor.Offset + i] = value;
                }
                else
                {
                    values[tensor.Offset + i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan((int)placement.Begin + (4 * i), 4));
                }
            }
        }

        return values;
    }

    /// <summary>Reads exactly the model's values into a private buffer and checks that the stream ends there.</summary>
    private static float[] ReadData(Stream stream, int count)
    {
        float[] values = new float[count];
        long total = 0;
        for (int start = 0; start < count; start += FloatChunk)
        {
            Span<byte> block = MemoryMarshal.AsBytes(values.AsSpan(start, Math.Min(FloatChunk, count - start)));
            int read = ReadFully(stream, block);
            total += read;
            if (read < block.Length)
            {
                throw Invalid($"file truncated: the data section has {total} of {count * 4L} bytes");
            }
        }

        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
        {
            throw Invalid($"data section is more than {count * 4L} bytes but the tensors cover {count * 4L}");
        }

        if (!BitConverter.IsLittleEndian)
        {
            Span<int> bits = MemoryMarshal.Cast<float, int>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }

        return values;
    }

    private static int Find(ref Utf8JsonReader reader, byte[][] names)
    {
        for (int i = 0; i < names.Length; i++)
        {
            if (reader.ValueTextEquals(names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Reads the next token. Strings with escapes are checked for unpaired surrogates (<c>"\ud800"</c>), which
    /// the reader accepts until a string is decoded but JSON parsers such as Python's safetensors reject.
    /// </summary>
    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw Invalid("header is not valid JSON: it ends early");
        }

        if (reader.ValueIsEscaped && reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
        {
            var escapes = default(SurrogateEscapes);
            if (reader.HasValueSequence)
            {
                foreach (ReadOnlyMemory<byte> piece in reader.ValueSequence)
                {
                    escapes.Scan(piece.Span);
                }
            }
            else
            {
                escapes.Scan(reader.ValueSpan);
            }

            if (!escapes.Paired)
            {
                throw Invalid($"header is not valid JSON: the string \"{RawText(ref reader)}\" holds an unpaired surrogate escape");
            }
        }
    }

    /// <summary>The current string or property name, shortened when long; used only in error messages.</summary>
    private static string Quote(ref Utf8JsonReader reader)
    {
        long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length <= MaxQuotedBytes)
        {
            return reader.GetString() ?? "null";
        }

        return Shorten(ref reader, length);
    }

    /// <summary>The raw text of the current token, shortened when long; used only in error messages.</summary>
    private static string QuoteValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return RawText(ref reader);
            case JsonTokenType.String:
                return "\"" + Quote(ref reader) + "\"";
            default:
                return Describe(reader.TokenType);
        }
    }

    /// <summary>The current token's text as it stands in the file (escapes not decoded), shortened when long.</summary>
    private static string RawText(ref Utf8JsonReader reader)
    {
        long length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        return length <= MaxQuotedBytes
            ? Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray())
            : Shorten(ref reader, length);
    }

    private static string Shorten(ref Utf8JsonReader reader, long length)
    {
        byte[] start = reader.HasValueSequence
            ? reader.ValueSequence.Slice(0, MaxQuotedBytes).ToArray()
            : reader.ValueSpan.Slice(0, MaxQuotedBytes).ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetString(start)}... ({length} bytes)");
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.EndArray => "the end of the array",
        JsonTokenType.EndObject => "the end of the object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer.Slice(total));
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static InvalidDataException Invalid(string message, Exception? inner = null)
        => new(message, inner);

    /// <summary>Where one tensor's bytes lie in the data section, and which expected tensor it is.</summary>
    private readonly struct Placement : IComparable<Placement>
    {
        public Placement(long begin, long end, int index)
        {
            Begin = begin;
            End = end;
            Index = index;
        }

        public long Begin { get; }

        public long End { get; }

        public int Index { get; }

        public int CompareTo(Placement other)
        {
            int byBegin = Begin.CompareTo(other.Begin);
            return byBegin != 0 ? byBegin : Index.CompareTo(other.Index);
        }
    }

    /// <summary>
    /// Follows the <c>\uXXXX</c> escapes in a string's raw bytes (which the reader has already checked for syntax) and
    /// notes whether every high surrogate is directly followed by a low one and every low one preceded by a high one.
    /// Fed piece by piece, so that a string spread over several chunks needs no copy.
    /// </summary>
    private struct SurrogateEscapes
    {
        private int _state; // 0: text; 1: after a backslash; 2 to 5: reading the hex digits of \u
        private int _code;
        private bool _highPending;
        private bool _unpaired;

        public readonly bool Paired => !_unpaired && !_highPending;

        public void Scan(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                switch (_state)
                {
                    case 0:
                        if (b == (byte)'\\')
                        {
                            _state = 1;
                        }
                        else
                        {
                            NotLow();
                        }

                        break;
                    case 1:
                        if (b == (byte)'u')
                        {
                            _state = 2;
                            _code = 0;
                        }
                        else
                        {
                            NotLow();
                            _state = 0;
                        }

                        break;
                    default:
                        _code = (_code << 4) | HexValue(b);
                        if (++_state == 6)
                        {
                            _state = 0;
                            Escaped(_code);
                        }

                        break;
                }
            }
        }

        private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;

        private void Escaped(int code)
        {
            if (code is >= 0xD800 and <= 0xDBFF)
            {
                NotLow();
                _highPending = true;
            }
            else if (code is >= 0xDC00 and <= 0xDFFF)
            {
                _unpaired |= !_highPending;
                _highPending = false;
            }
            else
            {
                NotLow();
            }
        }

        /// <summary>Something other than a low surrogate came next: a pending high surrogate stays unpaired.</summary>
        private void NotLow()
        {
            _unpaired |= _highPending;
            _highPending = false;
        }
    }

    /// <summary>One piece of a header read in chunks.</summary>
    private sealed class HeaderSegment : ReadOnlySequenceSegment<byte>
    {
        public HeaderSegment(byte[] bytes, HeaderSegment? previous)
        {
            Memory = bytes;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}

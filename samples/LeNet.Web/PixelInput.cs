using System;
using System.Buffers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace LeNet.Web;

/// <summary>
/// Reads and checks the body of <c>/api/predict</c> and <c>/api/activations</c>: <c>{"pixels": [...]}</c> with 784 (28×28)
/// or 1,024 (32×32) numbers in [0, 1], row-major, ink = 1. Every problem is reported with the value that causes it.
/// </summary>
public static class PixelInput
{
    /// <summary>The largest body accepted, in bytes (64 KiB: 1,024 values written with 17 significant digits take about 21 KiB).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>The outcome: the 32×32 input for the network, or what is wrong with the body.</summary>
    /// <param name="Input">1,024 values (a 28×28 image gets a 2-pixel border of zeros, as the training digits have), or null.</param>
    /// <param name="Problem">What is wrong, naming the value, or null.</param>
    public readonly record struct Result(float[]? Input, string? Problem);

    /// <summary>Reads the request body (at most <see cref="MaxBodyBytes"/> + 1 bytes) and checks it.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Aborts the read.</param>
    public static async Task<Result> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is long declared && declared > MaxBodyBytes)
        {
            return Fail($"The body is {declared:N0} bytes, over the limit of {MaxBodyBytes:N0} bytes.");
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            int length = 0;
            while (length <= MaxBodyBytes)
            {
                int read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBodyBytes + 1 - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > MaxBodyBytes)
            {
                return Fail($"The body is over the limit of {MaxBodyBytes:N0} bytes.");
            }

            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks a body already read.</summary>
    /// <param name="body">The UTF-8 JSON text.</param>
    public static Result Parse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return Fail("The body is empty; send {\"pixels\": [...]} with 784 or 1024 numbers in [0, 1].");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed < body.Length && !IsWhiteSpace(body[(int)reader.BytesConsumed..]))
            {
                document.Dispose();
                return Fail($"The body is not valid JSON: there is text after the JSON value, at byte {reader.BytesConsumed}.");
            }
        }
        catch (JsonException e)
        {
            return Fail($"The body is not valid JSON: {e.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Fail($"The body must be a JSON object {{\"pixels\": [...]}}, but it is {Describe(root)}.");
            }

            if (!root.TryGetProperty("pixels", out JsonElement pixels))
            {
                return Fail("The body has no \"pixels\" property; send {\"pixels\": [...]} with 784 or 1024 numbers in [0, 1].");
            }

            if (pixels.ValueKind != JsonValueKind.Array)
            {
                return Fail($"\"pixels\" must be an array of numbers, but it is {Describe(pixels)}.");
            }

            int count = pixels.GetArrayLength();
            if (count != 28 * 28 && count != LeNet5.InputLength)
            {
                return Fail($"\"pixels\" has {count} values, but it needs 784 (28×28) or 1024 (32×32).");
            }

            int side = count == 28 * 28 ? 28 : 32;
            int border = (32 - side) / 2;
            var input = new float[LeNet5.InputLength];
            int i = 0;
            foreach (JsonElement pixel in pixels.EnumerateArray())
            {
                if (Check(pixel, i) is string problem)
                {
                    return Fail(problem);
                }

                int y = i / side;
                int x = i % side;
                input[((y + border) * 32) + x + border] = (float)pixel.GetDouble();
                i++;
            }

            return new Result(input, null);
        }
    }

    private static string? Check(JsonElement pixel, int index)
    {
        if (pixel.ValueKind == JsonValueKind.String)
        {
            string text = pixel.GetString() ?? "";
            return text is "NaN" or "Infinity" or "-Infinity"
                ? $"pixels[{index}] is {text}; every value must be a number in [0, 1]."
                : $"pixels[{index}] is the string {Quote(text)}; every value must be a number in [0, 1].";
        }

        if (pixel.ValueKind != JsonValueKind.Number)
        {
            return $"pixels[{index}] is {Describe(pixel)}; every value must be a number in [0, 1].";
        }

        string raw = Shorten(pixel.GetRawText());
        if (!pixel.TryGetDouble(out double value) || !double.IsFinite(value))
        {
            return $"pixels[{index}] is {raw}, which is not a finite number; every value must be in [0, 1].";
        }

        if (value < 0 || value > 1)
        {
            return $"pixels[{index}] is {raw}, outside [0, 1].";
        }

        return null;
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => $"an array of {element.GetArrayLength()} values",
        JsonValueKind.String => $"the string {Quote(element.GetString() ?? "")}",
        JsonValueKind.Number => $"the number {Shorten(element.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Quote(string text) => JsonSerializer.Serialize(Shorten(text));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static bool IsWhiteSpace(ReadOnlySpan<byte> rest)
    {
        foreach (byte b in rest)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static Result Fail(string problem) => new(null, problem);
}

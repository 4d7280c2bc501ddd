using System;
using System.IO;
using LeNet.Gen.Data;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Data;

/// <summary>
/// Bad IDX files on purpose: 10,000 random mutations of small valid image and label files, raw and gzip-compressed
/// (flipped bytes, truncation, extension, rewritten header fields with zero, huge or negative dimensions). Each must
/// either load, with a consistent shape, or throw <see cref="InvalidDataException"/>, and allocate no more than a small
/// multiple of the bytes actually present.
/// </summary>
public class IdxFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 10_000;

    [Fact]
    public void Mutated_idx_files_load_or_throw_InvalidDataException_with_bounded_allocation()
    {
        var random = new Random(1234);
        byte[] images = IdxBytes.Images(5, 6, 7, IdxBytes.PatternPixels(5, 6, 7));
        byte[] labels = IdxBytes.Labels(1, 2, 3, 4, 5, 6, 7, 8, 9);
        int loaded = 0, rejected = 0;
        for (int n = 0; n < Cases; n++)
        {
            bool imageFile = random.Next(2) == 0;
            byte[] data = Mutate(random, imageFile ? images : labels);
            if (random.Next(3) == 0)
            {
                data = IdxBytes.Gzip(data);
                if (random.Next(4) == 0 && data.Length > 0) // (an empty input compresses to nothing at all)
                {
                    data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8)); // corrupt the compressed stream
                }
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var stream = new MemoryStream(data, writable: false);
                if (imageFile)
                {
                    var result = Idx.ReadImages(stream);
                    Assert.Equal((long)result.Count * result.Rows * result.Columns, result.Pixels.Length);
                }
                else
                {
                    Assert.NotNull(Idx.ReadLabels(stream));
                }

                loaded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {n}: {e.GetType().Name} escaped for the {(imageFile ? "image" : "label")} file {Convert.ToHexString(data)}:\n{e}");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < (8L * data.Length) + (1 << 20), $"case {n}: {allocated} bytes allocated for a {data.Length}-byte file");
        }

        output.WriteLine($"{Cases} mutated IDX files: {loaded} loaded, {rejected} rejected with InvalidDataException, no other exception");
        Assert.True(rejected > Cases / 2 && loaded > 100, $"{loaded} loaded, {rejected} rejected: the mutations are not exercising both outcomes");
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        byte[] data = (byte[])valid.Clone();
        switch (random.Next(6))
        {
            case 0: // flip a byte anywhere
                data[random.Next(data.Length)] = (byte)random.Next(256);
                break;
            case 1: // truncate
                Array.Resize(ref data, random.Next(data.Length));
                break;
            case 2: // extend with junk
                int extra = random.Next(1, 64);
                Array.Resize(ref data, data.Length + extra);
                random.NextBytes(data.AsSpan(data.Length - extra));
                break;
            case 3: // a dimension set to an edge value
                int dimensions = data[3];
                if (dimensions > 0 && data.Length >= 4 + (4 * dimensions))
                {
                    uint value = random.Next(5) switch { 0 => 0u, 1 => uint.MaxValue, 2 => 0x7FFFFFFFu, 3 => 1_000_000_000u, _ => (uint)random.Next() };
                    int at = 4 + (4 * random.Next(dimensions));
                    data[at] = (byte)(value >> 24);
                    data[at + 1] = (byte)(value >> 16);
                    data[at + 2] = (byte)(value >> 8);
                    data[at + 3] = (byte)value;
                }

                break;
            case 4: // the magic number's type or dimension count
                data[random.Next(4)] = (byte)random.Next(256);
                break;
            default: // unchanged: must load
                break;
        }

        return data;
    }
}

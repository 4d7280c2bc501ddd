using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Emit;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Emit;

/// <summary>The emit-time arithmetic of the wide-row convolution kernels: register tiles, plane lengths, buffer sizes.</summary>
public class WideConvTests
{
    // LeNet-5's two convolutions: 1×32×32 → 6×28×28 and 6×14×14 → 16×10×10, kernel 5.
    private static readonly WideConv Conv1 = new(1, 32, 32, 5, 6, 28, 28);
    private static readonly WideConv Conv2 = new(6, 14, 14, 5, 16, 10, 10);

    [Fact]
    public void Positions_run_to_the_last_output_of_the_last_row()
    {
        Assert.Equal((27 * 32) + 28, Conv1.Positions); // 892
        Assert.Equal((9 * 14) + 10, Conv2.Positions); // 136
    }

    [Theory]
    // Worked by hand from the cost in WideConv.Tile: e.g. conv1 on AVX-512, 6 filters × 4 vectors fills 24 registers,
    // 14 tiles × 25 taps × (12 + 0.5) = 4,375, against 4,512 for 6 × 3 and 4,550 for 3 × 4 or 6 × 2.
    [InlineData(1, 16, 6, 4, 896)]
    [InlineData(1, 8, 6, 2, 896)]
    [InlineData(2, 16, 8, 3, 144)]
    [InlineData(2, 8, 4, 3, 144)]
    public void The_tiles_of_lenet5_are_the_cheapest_that_fit_the_registers(int layer, int lanes, int filters, int vectors, int plane)
    {
        var conv = layer == 1 ? Conv1 : Conv2;
        var isa = VectorIsa.All.Single(i => i.Lanes == lanes);

        Assert.Equal((filters, vectors, plane), conv.Tile(isa));
    }

    [Fact]
    public void Every_tile_fits_the_register_budget_divides_the_filters_and_covers_the_positions_in_whole_tiles()
    {
        foreach (var conv in Sample())
        {
            foreach (var isa in VectorIsa.All)
            {
                var (filters, vectors, plane) = conv.Tile(isa);
                int step = isa.Lanes * vectors;
                Assert.InRange(vectors, 1, 4);
                Assert.Equal(0, conv.OutChannels % filters);
                Assert.True(filters * vectors <= (isa.Registers == 32 ? 24 : 12), $"{conv} on {isa.Name}: {filters}×{vectors} accumulators");
                Assert.Equal(0, plane % step);
                Assert.True(plane >= conv.Positions && plane - conv.Positions < step, $"{conv} on {isa.Name}: plane {plane} for {conv.Positions} positions in steps of {step}");
            }
        }
    }

    [Fact]
    public void The_source_length_is_one_past_the_last_value_any_vector_load_reads()
    {
        foreach (var conv in Sample())
        {
            foreach (var isa in VectorIsa.All)
            {
                // A load at wide position p for channel c and tap (i, j) reads lanes values from c·plane + i·width + j + p,
                // for p a multiple of lanes below the tile plane: enumerate them all.
                int plane = conv.Tile(isa).Plane;
                long last = 0;
                for (int c = 0; c < conv.InChannels; c++)
                {
                    for (int i = 0; i < conv.Kernel; i++)
                    {
                        for (int j = 0; j < conv.Kernel; j++)
                        {
                            for (int p = 0; p < plane; p += isa.Lanes)
                            {
                                last = Math.Max(last, (c * conv.SourcePlane) + (i * conv.SourceWidth) + j + p + isa.Lanes - 1);
                            }
                        }
                    }
                }

                Assert.Equal(last + 1, conv.SourceLength(isa));
            }
        }

        Assert.Equal(1028, VectorIsa.All.Max(isa => Conv1.SourceLength(isa))); // LeNet-5's 32×32 input plus 4 values
    }

    [Fact]
    public void With_the_last_tile_ending_at_the_last_output_every_load_stays_inside_the_source_and_every_output_is_computed()
    {
        foreach (var conv in Sample().Where(c => VectorIsa.All.All(c.LastTileFits)))
        {
            foreach (var isa in VectorIsa.All)
            {
                // The tiles the generated loop visits: every step of the plane, the last one moved back to LastTile.
                var (_, vectors, plane) = conv.Tile(isa);
                int step = isa.Lanes * vectors;
                var starts = Enumerable.Range(0, plane / step).Select(t => Math.Min(t * step, conv.LastTile(isa))).ToArray();
                long last = 0;
                var computed = new bool[conv.Positions];
                foreach (int start in starts)
                {
                    for (int p = start; p < start + step; p++)
                    {
                        last = Math.Max(last, ((conv.InChannels - 1L) * conv.SourcePlane) + ((conv.Kernel - 1L) * conv.SourceWidth) + conv.Kernel - 1 + p);
                        if (p < conv.Positions)
                        {
                            computed[p] = true;
                        }
                    }
                }

                Assert.Equal((long)conv.InChannels * conv.SourcePlane - 1, last);
                Assert.All(computed, Assert.True);
            }
        }

        // LeNet-5's conv1 on AVX-512: 14 tiles of 64 positions, the last from 892 − 64 = 828; on AVX2, 56 of 16, the last from 876.
        Assert.Equal(828, Conv1.LastTile(VectorIsa.Avx512));
        Assert.Equal(876, Conv1.LastTile(VectorIsa.Avx2));
        Assert.False(new WideConv(1, 9, 9, 5, 6, 5, 5).LastTileFits(VectorIsa.Avx512)); // 4·9 + 5 = 41 positions, a tile of 6 × 4 vectors is 64
    }

    [Fact]
    public void A_plane_narrower_than_a_vector_does_not_fit()
    {
        var tiny = new WideConv(1, 4, 4, 3, 2, 2, 2); // positions: 1·4 + 2 = 6
        Assert.False(tiny.Fits(VectorIsa.Avx2));
        Assert.False(tiny.Fits(VectorIsa.Avx512));
        Assert.True(Conv2.Fits(VectorIsa.Avx512));
    }

    private static IEnumerable<WideConv> Sample()
    {
        yield return Conv1;
        yield return Conv2;
        foreach (int channels in new[] { 1, 3, 7 })
        {
            foreach (int kernel in new[] { 1, 3, 5 })
            {
                foreach (int filters in new[] { 1, 4, 6, 16, 32, 36 })
                {
                    foreach (int size in new[] { 9, 16, 23 })
                    {
                        int outSize = size - kernel + 1;
                        yield return new WideConv(channels, size, size, kernel, filters, outSize, outSize);
                    }
                }
            }
        }
    }
}

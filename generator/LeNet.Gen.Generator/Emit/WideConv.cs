using System;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// A stride-1 "valid" convolution computed on the rows of its source: the output at (y, x) is kept at position
/// <c>p = y·SourceWidth + x</c> of a wide plane, so every kernel tap (i, j) reads the source at the constant offset
/// <c>i·SourceWidth + j</c> from p and a vector of consecutive p needs one contiguous load per tap. Positions with
/// x ≥ OutWidth fall across a row end; they are computed and then dropped when the plane is compacted.
/// </summary>
internal sealed record WideConv(int InChannels, int SourceHeight, int SourceWidth, int Kernel, int OutChannels, int OutHeight, int OutWidth)
{
    /// <summary>
    /// How far apart the sources of adjacent kernel columns are: 1 on the source's own rows, where tap j reads one value
    /// further along; the length of a copy on shifted column copies (<see cref="OnColumnCopies"/>), where tap j reads copy j.
    /// </summary>
    public int ColumnStride { get; init; } = 1;

    /// <summary>True when the kernel reads shifted column copies of its source (<see cref="OnColumnCopies"/>).</summary>
    public bool ReadsColumnCopies => ColumnStride != 1;

    /// <summary>
    /// The same convolution on <c>Kernel</c> shifted copies of the source (<c>LeNet.Gen.Runtime.ColumnCopies</c>): copy j
    /// holds each source row's <c>OutWidth</c> values from column j, so the rows are <c>OutWidth</c> long, the outputs sit
    /// back to back, and tap (c, i, j) reads copy j at <c>c·SourceHeight·OutWidth + i·OutWidth</c> from p. A copy's length
    /// is rounded up to whole vectors of 16 so that every copy starts aligned like the first.
    /// </summary>
    public WideConv OnColumnCopies() =>
        new WideConv(InChannels, SourceHeight, OutWidth, Kernel, OutChannels, OutHeight, OutWidth) { ColumnStride = RoundUp(InChannels * SourceHeight * OutWidth, 16) };

    /// <summary>Wide positions that hold outputs: up to the last output of the last row.</summary>
    public int Positions => ((OutHeight - 1) * SourceWidth) + OutWidth;

    public int SourcePlane => SourceHeight * SourceWidth;

    /// <summary>True when the plane is wide enough for at least one full vector.</summary>
    public bool Fits(VectorIsa isa) => Positions >= isa.Lanes;

    /// <summary>
    /// The register tile: <c>Filters</c> output channels × <c>Vectors</c> position vectors are accumulated at once, chosen
    /// to minimise a simple cost (FMAs at 2 per cycle against loads at 2 per cycle) within the register budget; <c>Plane</c>
    /// is the wide plane's length, rounded up to whole tiles.
    /// </summary>
    public (int Filters, int Vectors, int Plane) Tile(VectorIsa isa)
    {
        int budget = isa.Registers == 32 ? 24 : 12;
        (int Filters, int Vectors, int Plane) best = (1, 1, RoundUp(Positions, isa.Lanes));
        double bestCost = double.MaxValue;
        for (int vectors = 1; vectors <= 4; vectors++)
        {
            for (int filters = 1; filters <= OutChannels; filters++)
            {
                if (OutChannels % filters != 0 || filters * vectors > budget)
                {
                    continue;
                }

                int plane = RoundUp(Positions, isa.Lanes * vectors);
                double tiles = (OutChannels / filters) * (plane / (isa.Lanes * vectors));
                double perTap = Math.Max(filters * vectors, vectors + filters) / 2.0;
                double cost = tiles * InChannels * Kernel * Kernel * (perTap + 0.5);
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = (filters, vectors, plane);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// True when one register tile spans no more than the used positions, so the last tile can start early and end at the
    /// last output (<see cref="LastTile"/>). A "valid" convolution's loads then stop at the source's last value: the last
    /// output reads from row <c>OutHeight − 1 + Kernel − 1 = SourceHeight − 1</c>, column <c>SourceWidth − 1</c>.
    /// </summary>
    public bool LastTileFits(VectorIsa isa) => Positions >= isa.Lanes * Tile(isa).Vectors;

    /// <summary>Where the last tile starts when it ends at the last output (<see cref="LastTileFits"/>).</summary>
    public int LastTile(VectorIsa isa) => Positions - (isa.Lanes * Tile(isa).Vectors);

    /// <summary>How many values the source buffer must hold so that every vector load stays inside it.</summary>
    public int SourceLength(VectorIsa isa) =>
        ((InChannels - 1) * SourcePlane) + (Tile(isa).Plane - 1) + ((Kernel - 1) * SourceWidth) + ((Kernel - 1) * ColumnStride) + 1;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}

/// <summary>
/// The layer's own weights, as a space-to-depth forward kernel reads them: F × <paramref name="Channels"/> ×
/// <paramref name="Kernel"/> × <paramref name="Kernel"/> with stride <paramref name="Stride"/>. Sub-kernel tap
/// (ch, pa, pb, i, j) of the <see cref="WideConv"/> is tap (s·i + pa, s·j + pb) of channel ch, so the kernel needs no
/// rearranged copy and skips the taps past the kernel's edge.
/// </summary>
internal sealed record StridedWeights(int Stride, int Kernel, int Channels);

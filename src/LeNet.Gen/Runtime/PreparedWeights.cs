using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Lets a layer keep weights it prepared from the parameters (Winograd's transform, the filters-in-lanes packing) from
/// one call to the next while the parameters do not change. The parameters are a writable span, so nothing announces a
/// change made through it: each preparation compares the layer's weights, byte for byte, with the copy taken when they
/// were last prepared. (While the network has not handed that span out, its <see cref="ParameterVersion"/> vouches for
/// unchanged parameters and the preparation is skipped altogether.) The
/// comparison reads the weights once, at memory speed, where the preparation reads them and writes a larger buffer with
/// arithmetic in between; training changes every weight each step and so fails the comparison on its first bytes.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PreparedWeights
{
    /// <summary>
    /// True when <paramref name="weights"/> holds exactly the bytes of <paramref name="copy"/> (so what was prepared from
    /// them is still current); otherwise copies them into <paramref name="copy"/>, allocated on first use, and returns false
    /// for the caller to prepare its weights again.
    /// </summary>
    public static bool Unchanged(ReadOnlySpan<float> weights, ref float[]? copy)
    {
        if (copy is not null && Same(weights, copy))
        {
            return true;
        }

        if (copy is null || copy.Length != weights.Length)
        {
            copy = new float[weights.Length];
        }

        weights.CopyTo(copy);
        return false;
    }

    /// <summary>True when the two hold the same bytes: NaN equals the same NaN, and +0 differs from −0.</summary>
    internal static bool Same(ReadOnlySpan<float> weights, ReadOnlySpan<float> copy) =>
        MemoryMarshal.AsBytes(weights).SequenceEqual(MemoryMarshal.AsBytes(copy));
}

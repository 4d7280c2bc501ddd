using System;

namespace LeNet.Gen.Data;

/// <summary>
/// Steele, Lea and Flood's SplitMix64 generator: a 64-bit counter advanced by the golden-ratio increment and passed
/// through a fixed mixing function. Pure integer arithmetic, so the sequence for a given state is the same on every
/// machine and runtime, unlike <see cref="Random"/>.
/// </summary>
internal struct SplitMix64(ulong state)
{
    private ulong _state = state;

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        ulong z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A uniformly distributed integer in [0, <paramref name="bound"/>), by Lemire's multiply-and-reject method:
    /// the high half of <c>Next() × bound</c>, drawing again in the rare cases that would bias the result.
    /// </summary>
    public ulong NextBelow(ulong bound)
    {
        ulong high = Math.BigMul(Next(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0UL - bound) % bound;
            while (low < threshold)
            {
                high = Math.BigMul(Next(), bound, out low);
            }
        }

        return high;
    }
}

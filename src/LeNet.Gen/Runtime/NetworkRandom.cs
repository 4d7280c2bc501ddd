using System;

namespace LeNet.Gen;

/// <summary>
/// A small deterministic random number generator (SplitMix64) for weight initialisation and data shuffling: the same
/// seed gives the same numbers on every machine, operating system and .NET version, unlike <see cref="Random"/>,
/// whose sequence is not guaranteed across versions.
/// </summary>
public struct NetworkRandom
{
    private ulong _state;

    /// <summary>Starts a sequence from a seed.</summary>
    public NetworkRandom(long seed) => _state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;

    /// <summary>Starts a sequence from a raw 64-bit state, as SplitMix64 is usually specified (no mixing of the seed).</summary>
    public static NetworkRandom FromState(ulong state)
    {
        var random = default(NetworkRandom);
        random._state = state;
        return random;
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = unchecked(_state += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>A float uniformly distributed in [0, 1), with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>An integer uniformly distributed in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)NextBelow((ulong)maxExclusive);
    }

    /// <summary>
    /// An integer uniformly distributed in [0, <paramref name="bound"/>), by Lemire's multiply-and-reject method: the high
    /// half of the 128-bit product of the next 64 random bits and the bound, drawing again in the rare cases that would
    /// bias the result.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is 0.</exception>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            ulong threshold = (0UL - bound) % bound;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), bound, out low);
            }
        }

        return high;
    }

    /// <summary>Fills <paramref name="values"/> with numbers uniformly distributed in [−<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public void FillUniform(Span<float> values, float bound)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = ((NextSingle() * 2f) - 1f) * bound;
        }
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates).</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}

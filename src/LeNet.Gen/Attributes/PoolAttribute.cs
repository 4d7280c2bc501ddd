using System;

namespace LeNet.Gen;

/// <summary>
/// A pooling layer with a square <paramref name="size"/> × <paramref name="size"/> window, applied to each channel separately.
/// Output size per spatial axis: <c>(in − size) / Stride + 1</c>. Pooling layers have no parameters.
/// </summary>
/// <param name="kind">Maximum or average.</param>
/// <param name="size">Side of the square window.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class PoolAttribute(PoolKind kind, int size) : Attribute
{
    /// <summary>Maximum or average.</summary>
    public PoolKind Kind { get; } = kind;

    /// <summary>Side of the square window.</summary>
    public int Size { get; } = size;

    /// <summary>Step between neighbouring windows; the window size unless set (non-overlapping windows).</summary>
    public int Stride { get; set; }
}

namespace LeNet.Gen;

/// <summary>How a pooling layer combines the values in its window.</summary>
public enum PoolKind
{
    /// <summary>The largest value in the window.</summary>
    Max = 0,

    /// <summary>The mean of the values in the window.</summary>
    Average = 1,
}

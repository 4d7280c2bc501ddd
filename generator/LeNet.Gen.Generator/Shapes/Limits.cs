namespace LeNet.Gen.Generator.Shapes;

/// <summary>
/// Sizes beyond which a spec is rejected (LNG0004) before any code is emitted, so a typo such as
/// <c>[Dense(1000000000)]</c> cannot make the IDE emit gigabytes of code or the program allocate them.
/// The README documents these numbers.
/// </summary>
internal static class Limits
{
    /// <summary>The largest kernel or pooling window side; windows are unrolled in the generated code.</summary>
    public const int MaxWindow = 15;

    /// <summary>The largest number of values in any layer's input or output (2^24).</summary>
    public const long MaxTensorLength = 16_777_216;

    /// <summary>The largest total number of weights and biases.</summary>
    public const long MaxParameterCount = 50_000_000;

    /// <summary>The largest number of layers.</summary>
    public const int MaxLayers = 64;
}

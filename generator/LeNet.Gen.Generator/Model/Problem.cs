namespace LeNet.Gen.Generator.Model;

/// <summary>
/// A diagnostic to report, as plain values: the rule, what it points at and the message arguments.
/// Shape inference and the spec reader produce these without knowing about source locations; the analyzer
/// turns <see cref="Target"/> into a location.
/// </summary>
internal sealed record Problem(string RuleId, ProblemTarget Target, EquatableArray<string> MessageArguments)
{
    public Problem(string ruleId, ProblemTarget target, params string[] messageArguments)
        : this(ruleId, target, messageArguments.ToEquatableArray())
    {
    }
}

/// <summary>What a problem points at.</summary>
internal enum TargetKind
{
    /// <summary>The class name.</summary>
    Type,

    /// <summary>The <c>[Network]</c> attribute, or one of its arguments.</summary>
    Network,

    /// <summary>A layer attribute (by its index among the layer attributes), or one of its arguments.</summary>
    Layer,
}

/// <summary>
/// The attribute (and optionally the argument, by its parameter or property name such as <c>kernel</c> or <c>Stride</c>)
/// a problem belongs to. When the argument is not written in source, the whole attribute is the location.
/// </summary>
internal sealed record ProblemTarget(TargetKind Kind, int LayerIndex, string? Argument)
{
    public static ProblemTarget Type { get; } = new(TargetKind.Type, -1, null);

    public static ProblemTarget Network(string? argument = null) => new(TargetKind.Network, -1, argument);

    public static ProblemTarget Layer(int index, string? argument = null) => new(TargetKind.Layer, index, argument);
}

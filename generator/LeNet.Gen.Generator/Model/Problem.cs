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

    /// <summary>
    /// The fixes the message names, best first, for the IDE's light bulb and <c>dotnet format</c>. Worked out here, where
    /// the numbers are, so that the code-fix assembly only applies edits and never repeats the arithmetic.
    /// </summary>
    public EquatableArray<FixSuggestion> Fixes { get; init; }
}

/// <summary>
/// A fix for a problem: a title that says what it does (<c>Set Stride = 1 (conv2 → 10×10)</c>), an equivalence key
/// that names the kind of fix (for Fix All) and its edits.
/// </summary>
internal sealed record FixSuggestion(string Title, string EquivalenceKey, EquatableArray<FixEdit> Edits)
{
    public FixSuggestion(string title, string equivalenceKey, params FixEdit[] edits)
        : this(title, equivalenceKey, edits.ToEquatableArray())
    {
    }
}

/// <summary>
/// One edit of a fix, as plain values. <see cref="Target"/> names the attribute (for argument edits) or the type;
/// for <see cref="Diagnostics.FixEditKind.AddPartial"/>, <see cref="Value"/> is how many types out from the network
/// class the declaration to change is (0 for the class itself, 1 for its containing type, …).
/// </summary>
internal sealed record FixEdit(Diagnostics.FixEditKind Kind, ProblemTarget Target, string Name, string Value)
{
    /// <summary>Sets the named argument <paramref name="name"/> of the target attribute to the expression <paramref name="value"/>.</summary>
    public static FixEdit Set(ProblemTarget target, string name, string value) => new(Diagnostics.FixEditKind.SetArgument, target, name, value);

    /// <summary>Removes the named argument <paramref name="name"/> from the target attribute.</summary>
    public static FixEdit Remove(ProblemTarget target, string name) => new(Diagnostics.FixEditKind.RemoveArgument, target, name, string.Empty);

    /// <summary>Removes the target attribute.</summary>
    public static FixEdit RemoveAttribute(ProblemTarget target) => new(Diagnostics.FixEditKind.RemoveAttribute, target, string.Empty, string.Empty);

    /// <summary>Adds <c>partial</c> to the network class (<paramref name="depth"/> 0) or one of its containing types.</summary>
    public static FixEdit AddPartial(int depth) =>
        new(Diagnostics.FixEditKind.AddPartial, ProblemTarget.Type, string.Empty, depth.ToString(System.Globalization.CultureInfo.InvariantCulture));
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

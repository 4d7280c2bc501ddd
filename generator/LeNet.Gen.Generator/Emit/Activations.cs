using LeNet.Gen.Generator.Model;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// One row per activation: how comments write it, its scalar C# expression, how it is applied to a whole output and
/// undone in the backward pass, and whether the vector kernels apply it as they store. The only place that knows them.
/// </summary>
internal sealed class ActivationRow
{
    private readonly string _math;
    private readonly string _scalar;

    private ActivationRow(ActivationKind kind, string math, string scalar, string? spanForward, string? backward, string? backwardComment, bool fusesIntoVectorStore)
    {
        Kind = kind;
        _math = math;
        _scalar = scalar;
        SpanForward = spanForward;
        Backward = backward;
        BackwardComment = backwardComment;
        FusesIntoVectorStore = fusesIntoVectorStore;
    }

    public ActivationKind Kind { get; }

    /// <summary>True for no activation: the layer's sums are its output.</summary>
    public bool IsIdentity => Kind == ActivationKind.None;

    /// <summary>
    /// The runtime method that applies the activation in place to a span of outputs, or null when a scalar loop over
    /// <see cref="Scalar"/> does it (ReLU: one compare per value is what the JIT vectorises best).
    /// </summary>
    public string? SpanForward { get; }

    /// <summary>The runtime method turning the output gradient into the pre-activation gradient in place, from the output; null when there is nothing to undo.</summary>
    public string? Backward { get; }

    /// <summary>The derivative, for the comment beside <see cref="Backward"/>.</summary>
    public string? BackwardComment { get; }

    /// <summary>True when the vector kernels apply the activation to each vector as they store it.</summary>
    public bool FusesIntoVectorStore { get; }

    /// <summary>The activation of <paramref name="value"/> in mathematical notation, for comments: <c>relu(x)</c>.</summary>
    public string Math(string value) => _math.Length == 0 ? value : $"{_math}({value})";

    /// <summary>The activation of <paramref name="value"/> as a C# expression.</summary>
    public string Scalar(string value) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _scalar, value);

    /// <summary>The row of <paramref name="kind"/>.</summary>
    public static ActivationRow Of(ActivationKind kind) => kind switch
    {
        ActivationKind.ReLU => ReLU,
        ActivationKind.Tanh => Tanh,
        ActivationKind.Sigmoid => Sigmoid,
        ActivationKind.Softmax => Softmax,
        _ => None,
    };

    private static readonly ActivationRow None = new(ActivationKind.None, string.Empty, "{0}", null, null, null, fusesIntoVectorStore: false);

    private static readonly ActivationRow ReLU = new(ActivationKind.ReLU, "relu", MathF + ".Max({0}, 0f)", null,
        Simd + ".ReluBackward", "ReLU′ = 1 where the output is positive, else 0", fusesIntoVectorStore: true);

    private static readonly ActivationRow Tanh = new(ActivationKind.Tanh, "tanh", MathF + ".Tanh({0})", Simd + ".Tanh",
        Simd + ".TanhBackward", "tanh′ = 1 − y²", fusesIntoVectorStore: false);

    private static readonly ActivationRow Sigmoid = new(ActivationKind.Sigmoid, "σ", "1f / (1f + " + MathF + ".Exp(-({0})))", Simd + ".Sigmoid",
        Simd + ".SigmoidBackward", "sigmoid′ = y · (1 − y)", fusesIntoVectorStore: false);

    // Softmax is applied by the runtime after the last layer's logits (Runtime.Softmax), and the loss supplies the
    // logits' gradient directly: a layer never applies or undoes it itself.
    private static readonly ActivationRow Softmax = new(ActivationKind.Softmax, "softmax", "{0}", null, null, null, fusesIntoVectorStore: false);
}

using System.Globalization;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// The pieces of C# text every emitter writes: fully qualified type names (generated code must not depend on the
/// user's <c>using</c> directives) and literals that read the same whatever the build machine's culture.
/// </summary>
internal static class Code
{
    public const string Span = "global::System.Span<float>";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
    public const string ReadOnlyIntSpan = "global::System.ReadOnlySpan<int>";
    public const string ReadOnlyDoubleSpan = "global::System.ReadOnlySpan<double>";
    public const string MathF = "global::System.MathF";
    public const string Simd = "global::LeNet.Gen.Runtime.Simd";
    public const string Pooling = "global::LeNet.Gen.Runtime.Pooling";
    public const string BatchNormMath = "global::LeNet.Gen.Runtime.BatchNormMath";
    public const string SpaceToDepth = "global::LeNet.Gen.Runtime.SpaceToDepth";
    public const string Winograd = "global::LeNet.Gen.Runtime.Winograd";
    public const string ColumnGradient = "global::LeNet.Gen.Runtime.ColumnGradient";
    public const string ColumnCopies = "global::LeNet.Gen.Runtime.ColumnCopies";
    public const string Check = "global::LeNet.Gen.Runtime.Check";
    public const string ImageLanes = "global::LeNet.Gen.Runtime.ImageLanes";
    public const string FilterLanes = "global::LeNet.Gen.Runtime.FilterLanes";
    public const string PreparedWeights = "global::LeNet.Gen.Runtime.PreparedWeights";

    /// <summary>
    /// The attribute on every generated method whose loops run on each call (the layers' methods, the padding copies, the
    /// vector kernels): the JIT compiles it fully optimized at its first call. Without it, .NET first runs a method with
    /// loops as quick, unoptimized code (no inlining, so each vector helper is a call) and swaps in the optimized code only
    /// after the method has been called a few dozen times and the process has been quiet for 100 ms; a program that
    /// predicts one image at a time can spend its first second there, at 2–10 times the optimized time (LeNet-5: 88 µs an
    /// image against 9), and on a machine whose cores are all busy (training on every core) the swap may not come at all.
    /// The network's passes that call the layers (<c>Forward</c>, <c>Backward</c>, <c>PrepareKernels</c>,
    /// <c>FinishExamples</c>, the batch-norm stages) carry it too, as do the runtime's training and threading methods:
    /// compiled again later, they keep .NET's background compiler busy on one core just as training has taken both cores
    /// of a two-core machine (in a one-second LeNet-5 run on two threads, its share of the processor time fell from 4.6% to
    /// 2.6% with them marked; what is left is the base library's own methods).
    /// </summary>
    public const string Hot = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    /// <summary>An integer literal, e.g. <c>61706</c>.</summary>
    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float literal that round-trips exactly, e.g. <c>0.25f</c>.</summary>
    public static string Float(float value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return (text.Contains(".") || text.Contains("E") ? text : text + ".0") + "f";
    }

    /// <summary>A C# string literal holding <paramref name="text"/>.</summary>
    public static string Literal(string text) =>
        "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";

    /// <summary><paramref name="text"/> escaped for an XML doc comment.</summary>
    public static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}

namespace LeNet.Gen.Generator.Emit;

/// <summary>A vector width the generated code is specialised for, and the runtime check that selects it.</summary>
internal sealed record VectorIsa(string Name, int Lanes, int Registers, string Condition, string Description)
{
    public static readonly VectorIsa Avx512 = new("Vector512", 16, 32, "global::LeNet.Gen.Runtime.Simd.Use512", "AVX-512, 16 lanes");

    public static readonly VectorIsa Avx2 = new("Vector256", 8, 16, "global::LeNet.Gen.Runtime.Simd.Use256", "AVX2 with FMA, 8 lanes");

    /// <summary>Widest first: the dispatch tries them in this order, then falls back to scalar code.</summary>
    public static readonly VectorIsa[] All = { Avx512, Avx2 };

    /// <summary>The vector type, as the kernels' namespace (which imports <c>System.Runtime.Intrinsics</c>) writes it.</summary>
    public string Type => $"{Name}<float>";

    /// <summary>The static class of the vector operations, as the kernels' namespace writes it.</summary>
    public string Static => Name;
}

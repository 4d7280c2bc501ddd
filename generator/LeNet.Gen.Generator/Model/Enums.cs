namespace LeNet.Gen.Generator.Model;

// The generator cannot reference the runtime library (it runs inside the compiler, on netstandard2.0), so these
// mirror the public enums of LeNet.Gen by value. A test checks that names and values agree.

/// <summary>Mirrors <c>LeNet.Gen.Activation</c>.</summary>
internal enum ActivationKind
{
    None = 0,
    ReLU = 1,
    Tanh = 2,
    Sigmoid = 3,
    Softmax = 4,
}

/// <summary>Mirrors <c>LeNet.Gen.PoolKind</c>.</summary>
internal enum PoolingKind
{
    Max = 0,
    Average = 1,
}

/// <summary>Mirrors <c>LeNet.Gen.ShapeRounding</c>.</summary>
internal enum RoundingMode
{
    Exact = 0,
    Floor = 1,
    Ceiling = 2,
}

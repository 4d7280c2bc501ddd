namespace LeNet.Gen;

/// <summary>The function a layer applies to its output, element by element (or, for <see cref="Softmax"/>, across the layer).</summary>
public enum Activation
{
    /// <summary>No activation: the layer's output is its linear result.</summary>
    None = 0,

    /// <summary>Rectified linear unit, <c>max(0, x)</c>.</summary>
    ReLU = 1,

    /// <summary>Hyperbolic tangent, <c>tanh(x)</c>.</summary>
    Tanh = 2,

    /// <summary>Logistic sigmoid, <c>1 / (1 + e^-x)</c>.</summary>
    Sigmoid = 3,

    /// <summary>Softmax over the layer's outputs; allowed only on the last layer, where it makes the outputs class probabilities.</summary>
    Softmax = 4,
}

using System;
using System.ComponentModel;

namespace LeNet.Gen.Runtime;

/// <summary>
/// The part of a network that inference needs: its sizes and its forward pass. A generated network implements it (or
/// <see cref="INetworkKernels{TWorkspace}"/>, which extends it) on a private struct, and
/// <see cref="NetworkInference{TKernels, TWorkspace}"/> builds <c>Predict</c> on top of it. Because the implementation is a
/// struct, the JIT compiles the inference code once per network with direct, inlinable calls into that network's pass.
/// Not meant to be implemented by hand, except in tests.
/// </summary>
/// <typeparam name="TWorkspace">The network's buffers for one pass.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IInferenceKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>The network's type name, as argument errors name it.</summary>
    static abstract string Name { get; }

    /// <summary>The shape of one input as text (for example <c>1×32×32</c>), as argument errors show it.</summary>
    static abstract string InputShape { get; }

    /// <summary>The shape of one output as text (for example <c>10</c>), as argument errors show it.</summary>
    static abstract string OutputShape { get; }

    /// <summary>Values in one input.</summary>
    static abstract int InputLength { get; }

    /// <summary>Values in one output: the number of classes for a network with a softmax head.</summary>
    static abstract int OutputLength { get; }

    /// <summary>
    /// The calling thread's inference buffers (without gradients), created on the thread's first call: every thread that
    /// runs <see cref="Forward"/> for inference, the caller's or a pool worker, uses its own.
    /// </summary>
    static abstract TWorkspace InferenceWorkspace { get; }

    /// <summary>Runs the layers on one input and leaves the output (and, with a softmax head, the logits) in <paramref name="workspace"/>.</summary>
    static abstract void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace);

    /// <summary>What <c>Predict</c> returns after <see cref="Forward"/>: <see cref="OutputLength"/> values (the probabilities, with a softmax head).</summary>
    static abstract Span<float> Output(TWorkspace workspace);
}

/// <summary>
/// The part of a trainable network that depends on its layers: sizes, buffers and the forward and backward passes.
/// A generated network implements it on a private struct, and <see cref="NetworkTraining{TKernels, TWorkspace}"/>
/// builds training on top of it. Because the implementation is a struct, the JIT compiles the training code once per
/// network with direct, inlinable calls into that network's passes. Not meant to be implemented by hand, except in tests.
/// </summary>
/// <typeparam name="TWorkspace">The network's buffers for one forward and backward pass.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface INetworkKernels<TWorkspace> : IInferenceKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>Number of weights and biases.</summary>
    static abstract int ParameterCount { get; }

    /// <summary>New buffers for one pass; <paramref name="training"/> adds the gradient buffers.</summary>
    static abstract TWorkspace CreateWorkspace(bool training);

    /// <summary>
    /// Runs the layers backwards from the gradient in <see cref="LogitsGradient"/>, after <see cref="IInferenceKernels{TWorkspace}.Forward"/> on the
    /// same input, and adds the gradient of every parameter to <paramref name="gradients"/>.
    /// </summary>
    static abstract void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace, Span<float> gradients);

    /// <summary>The last layer's output before the softmax: <see cref="IInferenceKernels{TWorkspace}.OutputLength"/> values.</summary>
    static abstract Span<float> Logits(TWorkspace workspace);

    /// <summary>The softmax of the logits: <see cref="IInferenceKernels{TWorkspace}.OutputLength"/> values.</summary>
    static abstract Span<float> Probabilities(TWorkspace workspace);

    /// <summary>Where <see cref="Backward"/> reads the gradient of the loss with respect to the logits.</summary>
    static abstract Span<float> LogitsGradient(TWorkspace workspace);
}

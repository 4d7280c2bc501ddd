using System;
using System.ComponentModel;

namespace LeNet.Gen.Runtime;

/// <summary>
/// The part of a trainable network that depends on its layers: sizes, buffers and the forward and backward passes.
/// A generated network implements it on a private struct, and <see cref="NetworkTraining{TKernels, TWorkspace}"/>
/// builds training on top of it. Because the implementation is a struct, the JIT compiles the training code once per
/// network with direct, inlinable calls into that network's passes. Not meant to be implemented by hand, except in tests.
/// </summary>
/// <typeparam name="TWorkspace">The network's buffers for one forward and backward pass.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface INetworkKernels<TWorkspace>
    where TWorkspace : class
{
    /// <summary>The network's type name, as argument errors name it.</summary>
    static abstract string Name { get; }

    /// <summary>The shape of one input as text (for example <c>1×32×32</c>), as argument errors show it.</summary>
    static abstract string InputShape { get; }

    /// <summary>Values in one input.</summary>
    static abstract int InputLength { get; }

    /// <summary>Values in one output: the number of classes.</summary>
    static abstract int OutputLength { get; }

    /// <summary>Number of weights and biases.</summary>
    static abstract int ParameterCount { get; }

    /// <summary>New buffers for one pass; <paramref name="training"/> adds the gradient buffers.</summary>
    static abstract TWorkspace CreateWorkspace(bool training);

    /// <summary>The calling thread's inference buffers (without gradients), the ones <c>Predict</c> uses.</summary>
    static abstract TWorkspace InferenceWorkspace { get; }

    /// <summary>Runs the layers on one input and leaves the logits and the probabilities in <paramref name="workspace"/>.</summary>
    static abstract void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace);

    /// <summary>
    /// Runs the layers backwards from the gradient in <see cref="LogitsGradient"/>, after <see cref="Forward"/> on the
    /// same input, and adds the gradient of every parameter to <paramref name="gradients"/>.
    /// </summary>
    static abstract void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace, Span<float> gradients);

    /// <summary>The last layer's output before the softmax: <see cref="OutputLength"/> values.</summary>
    static abstract Span<float> Logits(TWorkspace workspace);

    /// <summary>The softmax of the logits: <see cref="OutputLength"/> values.</summary>
    static abstract Span<float> Probabilities(TWorkspace workspace);

    /// <summary>Where <see cref="Backward"/> reads the gradient of the loss with respect to the logits.</summary>
    static abstract Span<float> LogitsGradient(TWorkspace workspace);

    /// <summary>
    /// Called in training before <see cref="Forward"/> on each example, with that example's key (from the network's
    /// seed, the training step and the example's place in its batch): a network with dropout keeps it in the workspace
    /// and draws its masks from it. Does nothing unless the network overrides it.
    /// </summary>
    static virtual void BeginExample(TWorkspace workspace, ulong key)
    {
    }
}

using System;
using System.Collections.Generic;

namespace LeNet.Gen;

/// <summary>
/// What every generated network offers, so that helpers (evaluation, weight files, training loops) can work with any of them.
/// The generated class also has these members as constants and methods of its own.
/// </summary>
public interface INetwork
{
    /// <summary>Values in one input (channels × height × width).</summary>
    int InputLength { get; }

    /// <summary>Values in one output.</summary>
    int OutputLength { get; }

    /// <summary>Number of weights and biases.</summary>
    int ParameterCount { get; }

    /// <summary>All weights and biases, contiguous, in the layout of <see cref="Tensors"/>.</summary>
    /// <remarks>
    /// Writable, and <c>Predict</c> sees every write made through it. For that, once a network has handed this span out,
    /// each of its <c>Predict</c> calls checks that the convolution weights its kernels prepared are still those of the
    /// parameters, a read of those weights per call; a network whose weights only change through <c>Load</c>,
    /// <c>LoadOnnx</c> or training skips that check.
    /// </remarks>
    Span<float> Parameters { get; }

    /// <summary>The named tensors inside <see cref="Parameters"/>, in order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>Runs the network on one input and returns the index of the largest output (the predicted class).</summary>
    /// <param name="input"><see cref="InputLength"/> values, channels × height × width, row-major.</param>
    int Predict(ReadOnlySpan<float> input);

    /// <summary>
    /// Runs the network on one input, or on N inputs one after another, and writes each input's
    /// <see cref="OutputLength"/> outputs in input order. A batch is split over <see cref="InferenceThreads"/> threads,
    /// with bit-identical results for any thread count. A call of fewer than 16 inputs gives bit-identical outputs to a
    /// call on each input alone; a larger one may run batch kernels (Winograd convolutions, or all the layers on several
    /// images at once) and differs from those by
    /// rounding only, within 10⁻⁵ relative.
    /// </summary>
    /// <param name="input">N × <see cref="InputLength"/> values, each input channels × height × width, row-major.</param>
    /// <param name="output">Receives N × <see cref="OutputLength"/> values.</param>
    void Predict(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Runs the network on N inputs, one after another, and writes each one's predicted class (the index of its
    /// largest output, −1 for NaN outputs) in input order. The batch is split over <see cref="InferenceThreads"/>
    /// threads; each class is the largest of the outputs <see cref="Predict(ReadOnlySpan{float}, Span{float})"/> gives for
    /// the same call (the one <see cref="Predict(ReadOnlySpan{float})"/> returns for that input alone, unless the two
    /// largest outputs are within rounding of each other).
    /// </summary>
    /// <param name="inputs">N × <see cref="InputLength"/> values, each input channels × height × width, row-major.</param>
    /// <param name="classes">Receives N values.</param>
    void Predict(ReadOnlySpan<float> inputs, Span<int> classes);

    /// <summary>How many threads a batched <c>Predict</c> splits its inputs over (1 unless set); the results do not depend on it.</summary>
    int InferenceThreads { get; set; }
}

/// <summary>A network with a softmax head, which can be trained on labelled examples by minimising cross-entropy.</summary>
public interface ITrainableNetwork : INetwork
{
    /// <summary>One plain SGD step on one example; returns its cross-entropy loss before the step.</summary>
    float Train(ReadOnlySpan<float> input, int label, float learningRate);

    /// <summary>One plain SGD step on the batch-mean cross-entropy; returns the mean loss before the step.</summary>
    float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate);

    /// <summary>One step of <paramref name="optimizer"/> on the batch-mean cross-entropy; returns the mean loss before the step.</summary>
    float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer);

    /// <summary>
    /// Computes the gradient of the batch-mean cross-entropy with respect to every parameter, without changing the
    /// parameters; returns the mean loss.
    /// </summary>
    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients);

    /// <summary>The cross-entropy loss of one example, without training.</summary>
    float Loss(ReadOnlySpan<float> input, int label);

    /// <summary>
    /// How many threads a training step splits its batch over (1 unless set). The result does not depend on it: the
    /// batch is cut into fixed chunks whose gradients are added in a fixed order, so any thread count gives
    /// bit-identical parameters.
    /// </summary>
    int TrainingThreads { get; set; }
}

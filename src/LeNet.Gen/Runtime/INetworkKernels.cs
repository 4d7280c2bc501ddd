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

    /// <summary>
    /// Called on a workspace before it runs the inputs of one <c>Predict</c> call or the examples of one training step, by
    /// each thread that uses it (and before every other use of <see cref="InferenceWorkspace"/>), except when the
    /// thread's inference workspace was last set up for the same kind of call from the same network's parameters and its
    /// <see cref="ParameterVersion"/> says they have not changed since. The network sets up
    /// the kernels its cost model chose for this kind of call from the current parameters (such as the transformed
    /// weights of its Winograd convolutions), and its passes use them until the next call. <paramref name="batch"/> is
    /// true for a call or step of at least <see cref="NetworkInference{TKernels, TWorkspace}.BatchKernelMinimum"/> inputs,
    /// over which a set-up too costly for one input pays for itself; <paramref name="training"/> is true for a training
    /// workspace, whose backward pass may use prepared kernels too. <paramref name="kept"/> is true when the set-up will be
    /// kept across calls until the parameters change (an inference workspace whose <see cref="ParameterVersion"/> is not
    /// shared), and false when this runs before every call: a set-up that pays for itself only over several calls (such as
    /// dense weights packed for one image, each weight read once per call) is then not worth making. Does nothing unless
    /// the network has such kernels.
    /// </summary>
    static virtual void PrepareKernels(ReadOnlySpan<float> parameters, TWorkspace workspace, bool batch, bool training, bool kept)
    {
    }

    /// <summary>
    /// True when the network has <see cref="ForwardImages"/>, the batched pass with one image per vector lane, which batch
    /// calls of at least <see cref="NetworkInference{TKernels, TWorkspace}.BatchKernelMinimum"/> inputs run when
    /// <see cref="ImageLanes.Count"/> is above 0.
    /// </summary>
    static virtual bool HasImageLanes => false;

    /// <summary>
    /// The most inputs one <see cref="ForwardImages"/> call takes, and so the unit a batch call is cut into for its threads:
    /// <see cref="ImageLanes.Batch"/> unless the network says otherwise. A network that runs its batches image by image,
    /// with only some layers on small groups of images, takes one such group. 0 when the pass cannot run (no AVX2 and FMA).
    /// </summary>
    static virtual int ImagesPerPass => ImageLanes.Batch;

    /// <summary>
    /// Runs the layers on <paramref name="count"/> inputs at once (1 to <see cref="ImageLanes.Batch"/>, one after another in
    /// <paramref name="inputs"/>) and writes their outputs (the probabilities, with a softmax head) into
    /// <paramref name="outputs"/>, <see cref="OutputLength"/> values per input. Only when <see cref="HasImageLanes"/>.
    /// </summary>
    static virtual void ForwardImages(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, int count, TWorkspace workspace, Span<float> outputs) =>
        throw new NotSupportedException("This network has no image-lanes pass.");
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

    /// <summary>
    /// Called in training before <see cref="IInferenceKernels{TWorkspace}.Forward"/> on each example, with that example's key (from the network's
    /// seed, the training step and the example's place in its batch): a network with dropout keeps it in the workspace
    /// and draws its masks from it. Does nothing unless the network overrides it.
    /// </summary>
    static virtual void BeginExample(TWorkspace workspace, ulong key)
    {
    }

    /// <summary>
    /// Called after <see cref="Backward"/> has run on the last of a range of examples (a chunk) in <paramref name="workspace"/>,
    /// all of whose gradients went to <paramref name="gradients"/>: a network that defers some weight gradients to do them
    /// for the whole range at once (its large dense layers) adds them now. Does nothing unless the network overrides it.
    /// </summary>
    static virtual void FinishExamples(TWorkspace workspace, Span<float> gradients)
    {
    }

    /// <summary>
    /// How many layers take their weight gradient over a training step's whole batch at once (<see cref="BatchGradients"/>):
    /// 0 unless the network has such layers (its large dense layers).
    /// </summary>
    static virtual int BatchGradientCount => 0;

    /// <summary>Layer <paramref name="index"/> (from 0) of those counted by <see cref="BatchGradientCount"/>.</summary>
    static virtual BatchGradientInfo BatchGradient(int index) => throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>
    /// Called in a training step before <see cref="Backward"/> on each example, for a network with
    /// <see cref="BatchGradientCount"/> above 0: its layers of <see cref="BatchGradient"/> keep the example's factors in
    /// <paramref name="store"/> as example <paramref name="example"/> of the step, and add no weight gradient of their own.
    /// A workspace never given a store adds them per example.
    /// </summary>
    static virtual void KeepForBatch(TWorkspace workspace, BatchGradients store, int example)
    {
    }

    /// <summary>
    /// True when the network has <see cref="TrainLanes"/>, the training pass on a whole chunk with one example per vector
    /// lane (<see cref="TrainingLanes"/>), and it runs on this processor: training then calls it for each chunk instead
    /// of <see cref="IInferenceKernels{TWorkspace}.Forward"/> and <see cref="Backward"/> for each example.
    /// </summary>
    static virtual bool TrainsInLanes => false;

    /// <summary>
    /// The fewest examples a chunk needs to run through <see cref="TrainLanes"/>: the pass costs the same for any count, so
    /// a chunk of fewer (a small batch, or a batch's last chunk) runs one example at a time. From the network's cost model;
    /// <see cref="TrainingLanes.Count"/> unless the network says otherwise.
    /// </summary>
    static virtual int TrainingLanesMinimum => TrainingLanes.Count;

    /// <summary>
    /// Forward pass, loss and backward pass of a chunk's examples (1 to <see cref="TrainingLanes.Count"/>: the inputs one
    /// after another in <paramref name="inputs"/>, one label each in <paramref name="labels"/>), adding
    /// <paramref name="scale"/> × the gradient of their summed loss to <paramref name="gradients"/>, except the weight
    /// gradients of the layers of <paramref name="batch"/>, whose factors it keeps there as examples
    /// <paramref name="first"/> onwards. Returns the sum of their losses. Only when <see cref="TrainsInLanes"/>.
    /// </summary>
    static virtual float TrainLanes(ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int first, float scale, TWorkspace workspace, Span<float> gradients, BatchGradients? batch) =>
        throw new NotSupportedException("This network has no training pass in lanes.");

    /// <summary>
    /// Values after the parameters in the network's storage: the running statistics of its batch-norm layers (mean,
    /// variance and batch count of each). 0 unless the network has batch norm.
    /// </summary>
    static virtual int StateLength => 0;

    /// <summary>How many batch-norm layers the network has. With any, training goes through the stages below instead of <see cref="IInferenceKernels{TWorkspace}.Forward"/> and <see cref="Backward"/>.</summary>
    static virtual int BatchNormCount => 0;

    /// <summary>Values in the batch-statistics buffers: 2 × channels for each batch-norm layer.</summary>
    static virtual int BatchStatisticsLength => 0;

    /// <summary>Batch-norm layer <paramref name="index"/> (from 0).</summary>
    static virtual BatchNormInfo BatchNorm(int index) => throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>One per-example buffer of batch-norm layer <paramref name="index"/>.</summary>
    static virtual Span<float> BatchNormValues(TWorkspace workspace, int index, BatchNormBuffer buffer) => throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>
    /// Training forward stage <paramref name="stage"/> of one example (0 … <see cref="BatchNormCount"/>): stage 0 runs
    /// the layers up to the first batch norm's input; stage k normalises with batch norm k's batch statistics (mean and
    /// 1 / √(var + ε) in <paramref name="statistics"/>) and runs on to the next one's input, the last stage to the probabilities.
    /// </summary>
    static virtual void ForwardStage(int stage, ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace, ReadOnlySpan<double> statistics) =>
        throw new ArgumentOutOfRangeException(nameof(stage));

    /// <summary>
    /// Training backward stage <paramref name="stage"/> of one example, from <see cref="BatchNormCount"/> down to 0: it takes
    /// the gradient through batch norm k + 1 (with the batch means of its gradient in <paramref name="sums"/>), runs back
    /// through the layers after batch norm k, adding their parameter gradients, and leaves the gradient of batch norm k's
    /// output in its <see cref="BatchNormBuffer.OutputGradient"/>.
    /// </summary>
    static virtual void BackwardStage(int stage, ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, TWorkspace workspace, Span<float> gradients, ReadOnlySpan<double> statistics, ReadOnlySpan<double> sums) =>
        throw new ArgumentOutOfRangeException(nameof(stage));
}

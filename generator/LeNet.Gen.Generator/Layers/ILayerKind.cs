using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Microsoft.CodeAnalysis;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// Everything the generator knows about one kind of layer that is not shape arithmetic: its attribute, how it reads
/// it, how it names and describes its layers and their tensors, and the scalar forward and backward code it emits.
/// A new kind is a new unit listed in <see cref="LayerKinds.All"/>.
/// </summary>
internal interface ILayerKind
{
    /// <summary>The metadata name of the attribute that declares such a layer, e.g. <c>LeNet.Gen.ConvAttribute</c>.</summary>
    string AttributeName { get; }

    /// <summary>The name of its layers before their number, as in the equivalent PyTorch model: <c>conv</c>, <c>pool</c>, <c>fc</c>.</summary>
    string NamePrefix { get; }

    /// <summary>
    /// The name of a layer of this kind when it is the network's only one (<c>gap</c>, as PyTorch models usually call
    /// their one global pooling module), or null when its layers are numbered even then (<c>conv1</c>).
    /// </summary>
    string? SoleName { get; }

    /// <summary>
    /// True when the layer's forward and backward methods take the workspace as their last argument for what is not a
    /// tensor: whether the pass is a training one, and the example's key (dropout masks). They also take it when the layer
    /// declares scratch buffers (<see cref="LayerWorkspace.Scratch"/>).
    /// </summary>
    bool NeedsWorkspace { get; }

    /// <summary>True when <paramref name="spec"/> is a layer of this kind.</summary>
    bool Owns(LayerSpec spec);

    /// <summary>Reads the attribute (whose arguments the compiler has bound without errors) at position <paramref name="index"/>.</summary>
    LayerSpec Read(AttributeData attribute, int index);

    /// <summary>
    /// Checks the attribute's values on their own (counts at least 1, windows within the unrolling limit, known enum
    /// values), reporting each bad one; true when all are usable.
    /// </summary>
    bool CheckValues(LayerSpec spec, string name, List<Problem> problems);

    /// <summary>
    /// Plans the layer on <paramref name="input"/> (produced by <paramref name="source"/>): its output shape (with the
    /// formula of <see cref="ShapeFormula"/>) and its place in the parameter vector after <paramref name="parametersSoFar"/>
    /// values. Null after reporting why there is no plan.
    /// </summary>
    LayerPlan? Plan(NetworkSpec network, LayerSpec spec, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar);

    /// <summary>The sliding window (size, stride, padding, and whether padding could help), or null for a kind without one.</summary>
    (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec);

    /// <summary>The activation the layer applies to its output; <see cref="ActivationKind.None"/> for kinds without one.</summary>
    ActivationKind ActivationOf(LayerSpec spec);

    /// <summary>
    /// True when the attribute has an <c>Activation</c> argument, which <see cref="ActivationOf"/> returns and a code fix may
    /// set; false for kinds without one (pooling, dropout, normalisation).
    /// </summary>
    bool HasActivation { get; }

    /// <summary>
    /// True when a layer of this kind applies the activation written on the layer before it, which then writes its output
    /// without one: a normalisation sits between a layer's sums and their activation.
    /// </summary>
    bool AppliesPreviousActivation { get; }

    /// <summary>
    /// The tensors the layer keeps after the network's parameters, in order (running statistics): state that the forward
    /// pass reads and training updates, but that optimizers do not move and that does not count as parameters. Empty for
    /// kinds without state.
    /// </summary>
    IReadOnlyList<StateTensor> StateTensors(LayerPlan layer);

    /// <summary>
    /// True when the network's constructor draws the layer's weights and biases uniform in ±1/√fan_in, as PyTorch
    /// initialises <c>Conv2d</c> and <c>Linear</c>; false for kinds without parameters and for kinds that set their own
    /// starting values in <see cref="EmitFixedInitialization"/>.
    /// </summary>
    bool DrawsParameters { get; }

    /// <summary>
    /// Writes the constructor statements that set the layer's parameters and state to fixed starting values other than
    /// zero (a normalisation's scale of 1 and running variance of 1) in the network's storage, the <c>float[]</c> field
    /// <c>_parameters</c>; nothing for kinds without such values. They come before the random draws. The layer's state starts <paramref name="stateOffset"/> values after the network's last
    /// parameter.
    /// </summary>
    void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset);

    /// <summary>The layer without its shapes and activation, e.g. <c>conv1 5×5×6 s1 p0</c>.</summary>
    string Describe(LayerPlan layer);

    /// <summary>The PyTorch shape of the weight tensor as C# arguments (<c>6, 1, 5, 5</c>), or null for a kind without parameters.</summary>
    string? WeightShape(LayerPlan layer);

    /// <summary>
    /// The layer's <c>LeNet.Gen.LayerInfo</c> as a C# expression, from its shapes, rounding and activation already written
    /// as C# (<paramref name="input"/>, <paramref name="output"/>, <paramref name="rounding"/>, <paramref name="activation"/>).
    /// </summary>
    string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation);

    /// <summary>Writes the layer's scalar forward method and, when training, its backward method right after it.</summary>
    void Emit(SourceWriter w, LayerCode code, bool training);

    /// <summary>
    /// The workspace buffers the layer's chosen code reads and writes besides its <see cref="LayerCode.Written"/> buffer and
    /// that buffer's gradient: a staged copy of its input, scratch for its vector kernels, and how far past its input tensor
    /// it reads. <see cref="LayerWorkspace.None"/> for a layer that needs none.
    /// </summary>
    LayerWorkspace Workspace(LayerCode code);

    /// <summary>True when the layer has vector kernels, which <see cref="EmitVectorKernels"/> writes.</summary>
    bool HasVectorKernels(LayerCode code);

    /// <summary>
    /// Writes the layer's vector kernels (with training, their backward ones too) as members of the network's kernel class,
    /// <see cref="LayerCode.VectorKernels"/>, which its scalar methods call when the processor has the instructions; nothing
    /// when <see cref="HasVectorKernels"/> is false.
    /// </summary>
    void EmitVectorKernels(SourceWriter w, LayerCode code, bool training);

    /// <summary>
    /// True when the layer has prepared kernels: kernels with a set-up (such as transformed weights) that the runtime's
    /// <c>Predict</c> calls and training steps make once per call and workspace (<c>PrepareKernels</c>), for batch calls or for every call as
    /// the layer's cost model decides; its forward pass uses them while its workspace flag says so.
    /// </summary>
    bool HasPreparedKernels(LayerCode code);

    /// <summary>Writes the workspace fields the layer's prepared kernels keep; nothing without prepared kernels.</summary>
    void EmitPreparedKernelFields(SourceWriter w, LayerCode code);

    /// <summary>
    /// Writes the statements that decide whether the layer's prepared kernels run in this call (from <c>batch</c>,
    /// <c>training</c>, <c>kept</c> and <c>vectors</c>) and set them up from <c>parameters</c> into <c>workspace</c>, inside the
    /// network's <c>PrepareKernels</c>; nothing without prepared kernels.
    /// </summary>
    void EmitPreparedKernelSetup(SourceWriter w, LayerCode code);

    /// <summary>True when the layer defers weight gradients over a range of examples (<see cref="EmitFinishExamples"/> adds them).</summary>
    bool HasDeferredGradients(LayerCode code);

    /// <summary>
    /// Writes the statements that add the weight gradients the layer deferred over a range of examples into
    /// <c>gradients</c> (the whole network's), inside the network's <c>FinishExamples</c>; nothing for a layer that defers none.
    /// </summary>
    void EmitFinishExamples(SourceWriter w, LayerCode code);

    /// <summary>
    /// The weight matrix whose gradient a training step takes over its whole batch at once, rows (outputs) by columns
    /// (inputs), or null when the layer has none: the runtime's <c>BatchGradients</c> keeps each example's two factors
    /// (the layer's backward pass hands them over when the workspace has a store) and writes the gradient after the last
    /// example, row block by row block on the training threads.
    /// </summary>
    (int WeightOffset, int Rows, int Columns)? BatchGradient(LayerCode code);

    /// <summary>
    /// The statement that runs the layer's inference forward pass in a batch <c>Predict</c> call's <c>ForwardImages</c> (the
    /// runtime's <c>ImageLanes</c>). A layer on a spatial input runs on a group of images held one per vector lane: it
    /// reads <paramref name="source"/> and writes <paramref name="target"/>, spans holding each value of the tensors for
    /// every lane, and may use <paramref name="scratch"/> (<see cref="ImageLanesScratch"/> values per lane). A layer on a
    /// flat input runs on the whole call's inputs at once, one per lane of <c>ImageLanes.Batch</c>. <c>parameters</c> is in scope. A layer whose
    /// fused activation is ReLU applies it as it stores; the network applies tanh and sigmoid after the call. An empty
    /// string for a layer that passes its input through in inference (dropout), and null for a layer without such code:
    /// the network then runs its batches image by image.
    /// </summary>
    string? ImageLanesCall(LayerCode code, string source, string target, string scratch);

    /// <summary>
    /// The statement that runs this layer and <paramref name="next"/>, the layer after it, in one call on a group of images
    /// in lanes, with the values <see cref="ImageLanesCall"/> would give for the two in turn (its arguments as there,
    /// <paramref name="target"/> receiving <paramref name="next"/>'s output); null when the layer has no such call for
    /// that layer. <see cref="ImageLanesScratch"/> covers the fused call's scratch too.
    /// </summary>
    string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch);

    /// <summary>
    /// For a layer before this one to fuse (<see cref="ImageLanesFusedCall"/>): when this layer is a 2 × 2 pooling of
    /// stride 2 whose windows tile its input exactly, true for a maximum and false for an average; null otherwise.
    /// </summary>
    bool? ImageLanesPairPooling(LayerCode code);

    /// <summary>Values per lane of scratch that <see cref="ImageLanesCall"/> uses; 0 for none.</summary>
    int ImageLanesScratch(LayerCode code);

    /// <summary>
    /// True when <see cref="ImageLanesCall"/> runs on the whole call's inputs at once (a dense layer, after the images are
    /// flat) rather than on a group of images in lanes.
    /// </summary>
    bool ImageLanesOnRows(LayerCode code);

    /// <summary>
    /// The layer's estimated nanoseconds per image in a batch call: through <see cref="ImageLanesCall"/>, and through
    /// the single-image kernels (as batch calls run them: with the set-up of prepared kernels spread over the batch), by
    /// the rates of <see cref="ImageLanesCostModel"/>. Zero for layers whose time the choice can ignore (pooling, dropout).
    /// </summary>
    (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code);

    /// <summary>
    /// For a network whose batch <c>Predict</c> calls run image by image (no image-lanes pass), the layer's step that runs on
    /// a group of images at once (<see cref="ImageGroupStep"/>), as its cost model chose; null for a layer without one.
    /// </summary>
    ImageGroupStep? ImageGroup(LayerCode code);

    /// <summary>
    /// The statement that runs the layer's forward pass in a training chunk's pass with one example per lane (<c>TrainLanes</c>,
    /// the runtime's <c>TrainingLanes</c>): it reads <paramref name="source"/> and writes <paramref name="target"/>, spans
    /// holding each value of the tensors for every lane, and may use <paramref name="scratch"/>
    /// (<see cref="TrainingLanesScratch"/> values). ReLU is applied as the layer stores; the network applies tanh and
    /// sigmoid after the call. Null for a layer without such code: the network then trains example by example.
    /// </summary>
    string? TrainingLanesForward(LayerCode code, string source, string target, string scratch);

    /// <summary>
    /// The statement that runs the layer's backward pass in <c>TrainLanes</c>: from <paramref name="outputGradient"/> (the
    /// gradient of <paramref name="output"/>, already through the activation's derivative), it adds the chunk's gradients
    /// of the layer's parameters into <c>gradients</c> and writes the gradient of <paramref name="source"/> into
    /// <paramref name="inputGradient"/> (null for the network's first layer, which needs none). <c>count</c>, <c>first</c>
    /// (the chunk's first example in the batch) and <c>batch</c> are in scope. Several statements are separated by line
    /// breaks. Empty when there is nothing to do; null
    /// exactly when <see cref="TrainingLanesForward"/> is.
    /// </summary>
    string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch);

    /// <summary>
    /// A C# expression for the values of scratch (all lanes) that the layer's <c>TrainLanes</c> calls use, such as a call of
    /// the runtime function that knows the size; null for none.
    /// </summary>
    string? TrainingLanesScratch(LayerCode code);
}

/// <summary>
/// One tensor of a layer's state (<see cref="ILayerKind.StateTensors"/>), named after the layer's own name and a dot, as in
/// the equivalent PyTorch model's <c>state_dict</c> (<c>running_mean</c>).
/// </summary>
/// <param name="Suffix">The name after the layer's name and the dot.</param>
/// <param name="Shape">The PyTorch shape, outermost first; empty for a scalar.</param>
/// <param name="IsInt64">True for an integer tensor held as a whole float (a batch count), false for 32-bit floats.</param>
internal sealed record StateTensor(string Suffix, IReadOnlyList<int> Shape, bool IsInt64)
{
    /// <summary>Values the tensor takes in the storage: the product of its dimensions, 1 for a scalar.</summary>
    public int Length => Shape.Aggregate(1, (product, dimension) => product * dimension);
}

/// <summary>The registry: every layer kind the generator knows. An attribute not listed here is never read as a layer.</summary>
internal static class LayerKinds
{
    public static readonly ImmutableArray<ILayerKind> All = ImmutableArray.Create<ILayerKind>(
        ConvLayer.Instance, PoolLayer.Instance, DenseLayer.Instance, GlobalAveragePoolLayer.Instance, DropoutLayer.Instance, BatchNormLayer.Instance);

    /// <summary>The kind declared by the attribute named <paramref name="attributeName"/>, or null for any other attribute.</summary>
    public static ILayerKind? ForAttribute(string? attributeName) => All.FirstOrDefault(k => k.AttributeName == attributeName);

    /// <summary>The kind of <paramref name="spec"/>; every spec was read by one of the units, so one owns it.</summary>
    public static ILayerKind Of(LayerSpec spec) => All.First(k => k.Owns(spec));
}

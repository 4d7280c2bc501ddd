using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Writes the public surface of a generated network (tensors, constructor, <c>Predict</c>, <c>Train</c>, gradients,
/// loss) and the plumbing that chains the layer methods: the buffers, the forward pass, the backward pass.
/// </summary>
internal static class MembersEmitter
{
    private const string Training = "global::LeNet.Gen.Runtime.NetworkTraining<Kernels, Workspace>";
    private const string Inference = "global::LeNet.Gen.Runtime.NetworkInference<Kernels, Workspace>";
    private const string Version = "global::LeNet.Gen.Runtime.ParameterVersion";

    /// <summary>True when some layer reads the workspace for more than tensors (the training flag, the example's key).</summary>
    private static bool HasExampleState(NetworkPlan plan) => plan.Layers.Any(l => LayerKinds.Of(l.Spec).NeedsWorkspace);

    /// <summary>The state of every layer (running statistics), stored after the parameters.</summary>
    private static int StateLength(NetworkPlan plan) => LayerCode.StateOffsets(plan)[plan.Layers.Count];

    /// <summary>
    /// A layer that needs whole-batch statistics in training (<see cref="IBatchWideKind"/>), numbered from 0 in network
    /// order, with where its state starts after the parameters and where its values start in the batch statistics.
    /// </summary>
    private sealed record BatchWideLayer(LayerCode Code, IBatchWideKind Kind, int Number, int StateOffset, int StatisticsOffset)
    {
        public int StatisticsLength => Kind.StatisticsLength(Code.Layer);

        /// <summary>The layer's part of a span of batch statistics or sums named <paramref name="span"/>.</summary>
        public string Slice(string span) => $"{span}.Slice({Int(StatisticsOffset)}, {Int(StatisticsLength)})";
    }

    /// <summary>The batch-wide layers in network order; training cuts its stages at each one.</summary>
    private static List<BatchWideLayer> BatchWideLayers(NetworkPlan plan, LayerCode[] layers)
    {
        var state = LayerCode.StateOffsets(plan);
        var result = new List<BatchWideLayer>();
        int statistics = 0;
        foreach (var code in layers)
        {
            if (code.Kind is IBatchWideKind kind)
            {
                var batchWide = new BatchWideLayer(code, kind, result.Count, state[code.Position], statistics);
                result.Add(batchWide);
                statistics += batchWide.StatisticsLength;
            }
        }

        return result;
    }

    /// <summary>", workspace" when the layer's methods take the workspace: vector scratch buffers, or example state.</summary>
    private static string ScratchArgument(LayerCode code) => code.TakesWorkspace ? ", workspace" : string.Empty;

    public static void Emit(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        string name = plan.Spec.Type.Name;
        string gc = NetworkEmitter.GeneratedCode;

        // As a learner reads it: the layer table (above), then the passes as a table of contents, then each layer's
        // definition, forward and backward side by side; the public surface after that; the vector kernels in a class of
        // their own after this one (VectorEmitter.EmitKernelClass).
        w.Line();
        EmitForward(w, plan, layers);
        if (plan.CanTrain)
        {
            EmitBackward(w, plan, layers);
        }

        foreach (var layer in layers)
        {
            LayerEmitter.Emit(w, layer, plan.CanTrain);
        }

        EmitTensors(w, plan, gc);
        EmitLayers(w, plan, gc);
        EmitStorageAndConstructor(w, plan, layers, name, gc);
        EmitPredict(w, plan, name, gc);
        if (plan.CanTrain)
        {
            EmitTraining(w, plan, name, gc);
        }

        EmitWeightFiles(w, gc);
        EmitOnnxFiles(w, gc);
        EmitInterfaceMembers(w, plan, gc);
        EmitKernels(w, plan, layers);
        EmitWorkspace(w, plan, layers);
    }

    private static void EmitTensors(SourceWriter w, NetworkPlan plan, string gc)
    {
        w.Line("/// <summary>");
        w.Line("/// The named tensors inside <see cref=\"Parameters\"/>, in order, with the names and shapes of the equivalent PyTorch");
        w.Line("/// model's <c>state_dict</c>: for each convolution k <c>conv{k}.weight</c> [out, in, kh, kw] and <c>conv{k}.bias</c>,");
        w.Line("/// for each dense layer k <c>fc{k}.weight</c> [out, in] and <c>fc{k}.bias</c>.");
        w.Line("/// </summary>");
        w.Line(gc);
        w.Line("public static global::System.Collections.Generic.IReadOnlyList<global::LeNet.Gen.TensorInfo> Tensors { get; } = global::System.Array.AsReadOnly(new global::LeNet.Gen.TensorInfo[]");
        w.Line("{");
        w.Indent();
        foreach (var layer in plan.Layers)
        {
            if (LayerKinds.Of(layer.Spec).WeightShape(layer) is not { } shape)
            {
                continue;
            }

            w.Line($"new global::LeNet.Gen.TensorInfo(\"{layer.Name}.weight\", {Int(layer.WeightOffset)}, {shape}),");
            w.Line($"new global::LeNet.Gen.TensorInfo(\"{layer.Name}.bias\", {Int(layer.BiasOffset)}, {Int(layer.BiasCount)}),");
        }

        // State (batch norm's running statistics) is not parameters: it follows the parameters in the storage.
        int at = plan.ParameterCount;
        foreach (var layer in plan.Layers)
        {
            foreach (var tensor in LayerKinds.Of(layer.Spec).StateTensors(layer))
            {
                string shape = string.Concat(tensor.Shape.Select(d => ", " + Int(d)));
                string element = tensor.IsInt64 ? " { ElementType = global::LeNet.Gen.TensorElementType.Int64 }" : string.Empty;
                w.Line($"new global::LeNet.Gen.TensorInfo(\"{layer.Name}.{tensor.Suffix}\", {Int(at)}{shape}){element},");
                at += tensor.Length;
            }
        }

        w.Outdent();
        w.Line("});");
        w.Line();
    }

    private static void EmitLayers(SourceWriter w, NetworkPlan plan, string gc)
    {
        const string Info = "global::LeNet.Gen.LayerInfo";
        string rounding = "global::LeNet.Gen.ShapeRounding." + plan.Spec.Rounding;
        w.Line("/// <summary>The layers in order, as plain data (kind, window, stride, padding, rounding, activation, shapes, tensor names): what the ONNX export and import build and check graphs from.</summary>");
        w.Line(gc);
        w.Line($"public static global::System.Collections.Generic.IReadOnlyList<{Info}> Layers {{ get; }} = global::System.Array.AsReadOnly(new {Info}[]");
        w.Line("{");
        w.Indent();
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            // The activation where it is applied: after a batch norm rather than on the layer it was written on.
            var layer = plan.Layers[i];
            var code = new LayerCode(plan, i);
            string input = Shape(layer.Input);
            string output = Shape(layer.Output);
            string activation = "global::LeNet.Gen.Activation." + (code.IsSoftmaxHead ? ActivationKind.Softmax : code.FusedActivation);
            w.Line(LayerKinds.Of(layer.Spec).LayerInfo(layer, input, output, rounding, activation) + ",");
        }

        w.Outdent();
        w.Line("});");
        w.Line();
    }

    private static string Shape(TensorShape shape) => shape.IsSpatial
        ? $"new[] {{ {Int(shape.Channels)}, {Int(shape.Height)}, {Int(shape.Width)} }}"
        : $"new[] {{ {Int(shape.Length)} }}";

    private static void EmitStorageAndConstructor(SourceWriter w, NetworkPlan plan, LayerCode[] layers, string name, string gc)
    {
        int stateLength = StateLength(plan);
        if (stateLength > 0)
        {
            w.Line("/// <summary>Running statistics of the batch-norm layers (mean, variance and batch count of each): state, not parameters.</summary>");
            w.Line(gc);
            w.Line($"public const int StateLength = {Int(stateLength)};");
            w.Line();
            w.Line("// The parameters, then the running statistics of the batch-norm layers, which optimizers do not move.");
            w.Line("private readonly float[] _parameters = new float[ParameterCount + StateLength];");
        }
        else
        {
            w.Line("private readonly float[] _parameters = new float[ParameterCount];");
        }

        w.Line();
        w.Line("// Moved on by every change made through the library (Load, training), so that Predict keeps the weights its kernels");
        w.Line("// prepared without reading the parameters; shared once Parameters (or State) has been handed out, see ParameterVersion.");
        w.Line($"private readonly {Version} _parametersVersion = new();");
        w.Line();
        if (HasExampleState(plan) && plan.CanTrain)
        {
            w.Line("// The seed also keys the dropout masks in training, with the step count and each example's place in its batch.");
            w.Line("private readonly long _seed;");
            w.Line();
        }

        w.Line("// Predict may run on several threads at once: each thread gets its own buffers, created on its first call.");
        w.Line("[global::System.ThreadStatic]");
        w.Line("private static Workspace? t_inferenceWorkspace;");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Creates the network with weights and biases drawn from <paramref name=\"seed\"/>: each uniform in ±1/√fan_in,");
        w.Line("/// as PyTorch initialises <c>Conv2d</c> and <c>Linear</c>. The same seed always gives the same parameters.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"seed\">Seed of the deterministic random generator.</param>");
        w.Line(gc);
        using (w.Block($"public {name}(int seed)"))
        {
            if (HasExampleState(plan) && plan.CanTrain)
            {
                w.Line("_seed = seed;");
            }

            w.Line("var random = new global::LeNet.Gen.NetworkRandom(seed);");
            var state = LayerCode.StateOffsets(plan);
            foreach (var code in layers)
            {
                code.Kind.EmitFixedInitialization(w, code, state[code.Position]);
            }

            foreach (var layer in plan.Layers.Where(l => l.ParameterCount > 0 && LayerKinds.Of(l.Spec).DrawsParameters))
            {
                int fanIn = layer.WeightCount / layer.BiasCount;
                string bound = Float((float)(1.0 / Math.Sqrt(fanIn)));
                w.Line($"random.FillUniform(global::System.MemoryExtensions.AsSpan(_parameters, {Int(layer.WeightOffset)}, {Int(layer.WeightCount)}), {bound}); // {layer.Name}.weight, 1/√{fanIn}");
                w.Line($"random.FillUniform(global::System.MemoryExtensions.AsSpan(_parameters, {Int(layer.BiasOffset)}, {Int(layer.BiasCount)}), {bound}); // {layer.Name}.bias");
            }
        }

        w.Line();
        w.Line("/// <summary>All weights and biases, contiguous, laid out as <see cref=\"Tensors\"/> lists them. Writable: load or edit weights here.</summary>");
        w.Line("/// <remarks>");
        w.Line("/// <c>Predict</c> sees every write made through this span, even one made later through a span kept from an earlier read.");
        w.Line("/// So once it has been read, each <c>Predict</c> call checks that the convolution weights its kernels prepared (Winograd's");
        w.Line("/// transform, the filters-in-lanes packing) are still those of the parameters, which costs a read of those weights per call.");
        w.Line("/// <c>Load</c>, <c>LoadOnnx</c> and training change the parameters without that cost.");
        w.Line("/// </remarks>");
        w.Line(gc);
        if (stateLength > 0)
        {
            w.Line($"public {Span} Parameters {{ get {{ _parametersVersion.Share(); return global::System.MemoryExtensions.AsSpan(_parameters, 0, ParameterCount); }} }}");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// The running statistics of the batch-norm layers, laid out as the <c>running_mean</c>, <c>running_var</c> and");
            w.Line("/// <c>num_batches_tracked</c> entries of <see cref=\"Tensors\"/> list them (offsets counted from the start of <see cref=\"Parameters\"/>).");
            w.Line("/// Training updates them; Predict uses them. Writable, and read with the same cost as <see cref=\"Parameters\"/>.");
            w.Line("/// </summary>");
            w.Line(gc);
            w.Line($"public {Span} State {{ get {{ _parametersVersion.Share(); return global::System.MemoryExtensions.AsSpan(_parameters, ParameterCount); }} }}");
        }
        else
        {
            w.Line($"public {Span} Parameters {{ get {{ _parametersVersion.Share(); return _parameters; }} }}");
        }

        w.Line();
    }

    private static void EmitPredict(SourceWriter w, NetworkPlan plan, string name, string gc)
    {
        string shape = plan.Input.ToString();
        string outputs = plan.CanTrain ? " (the class probabilities)" : string.Empty;
        const string ThreadSafe = "/// Safe to call from several threads at once, as long as no thread is training or changing <see cref=\"Parameters\"/>.";
        const string Identical = "/// Each input's result is bit-identical whatever <see cref=\"InferenceThreads\"/> is: every input runs on its own, and nothing is summed across inputs.";
        const string Why = "/// A call of fewer than 16 inputs runs the single-input code, bit for bit; a larger one may run batch kernels (Winograd convolutions, or all the layers on several images at once), whose outputs differ from the single-input ones by rounding only, within 10⁻⁵ relative.";
        w.Line("// Inference is the same for every network: argument checks and the split of a batch over threads live in the runtime");
        w.Line("// (LeNet.Gen.Runtime.NetworkInference), which reaches this network's forward pass through the Kernels struct below.");
        w.Line("private int _inferenceThreads = 1;");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs the network on one input and returns the index of its largest output (the first, on a tie): the predicted class.");
        w.Line("/// Returns −1 when the outputs are NaN, which is what an input holding NaN or infinity produces.");
        w.Line("/// </summary>");
        w.Line($"/// <param name=\"input\"><see cref=\"InputLength\"/> values, {shape} (channels × height × width), row-major.</param>");
        w.Line("/// <remarks>" + ThreadSafe.Substring(4) + " Allocates nothing after each thread's first call.</remarks>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"input\"/> does not hold <see cref=\"InputLength\"/> values.</exception>");
        w.Line(gc);
        w.Line($"public int Predict({ReadOnlySpan} input) => {Inference}.Predict(_parameters, _parametersVersion, input);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// Runs the network on one input, or on N inputs one after another, and writes each input's <see cref=\"OutputLength\"/> outputs{outputs},");
        w.Line("/// in input order. A batch is split over <see cref=\"InferenceThreads\"/> threads.");
        w.Line("/// </summary>");
        w.Line($"/// <param name=\"input\">N × <see cref=\"InputLength\"/> values: N inputs, each {shape} (channels × height × width), row-major.</param>");
        w.Line("/// <param name=\"output\">Receives N × <see cref=\"OutputLength\"/> values; NaN where an input holds NaN or infinity.</param>");
        w.Line("/// <remarks>");
        w.Line(Identical);
        w.Line(Why);
        w.Line(ThreadSafe);
        w.Line("/// Allocates nothing after each thread's first call. Empty spans (N = 0) do nothing.");
        w.Line("/// </remarks>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"input\"/> is not a whole number of inputs, or <paramref name=\"output\"/> does not hold one output per input.</exception>");
        w.Line(gc);
        w.Line($"public void Predict({ReadOnlySpan} input, {Span} output) => {Inference}.Predict(_parameters, _parametersVersion, _inferenceThreads, input, output);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs the network on N inputs, one after another, and writes each one's predicted class: the index of its largest output");
        w.Line("/// (the first, on a tie), or −1 when its outputs are NaN. The batch is split over <see cref=\"InferenceThreads\"/> threads.");
        w.Line("/// </summary>");
        w.Line($"/// <param name=\"inputs\">N × <see cref=\"InputLength\"/> values: N inputs, each {shape} (channels × height × width), row-major.</param>");
        w.Line("/// <param name=\"classes\">Receives N values, in input order.</param>");
        w.Line("/// <remarks>");
        w.Line(Identical);
        w.Line(Why);
        w.Line(ThreadSafe);
        w.Line("/// Allocates nothing after each thread's first call. Empty spans (N = 0) do nothing.");
        w.Line("/// </remarks>");
        w.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"inputs\"/> is not a whole number of inputs, or <paramref name=\"classes\"/> does not hold one value per input.</exception>");
        w.Line(gc);
        w.Line($"public void Predict({ReadOnlySpan} inputs, global::System.Span<int> classes) => {Inference}.Predict(_parameters, _parametersVersion, _inferenceThreads, inputs, classes);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// How many threads a batched <c>Predict</c> splits its inputs over; 1 unless set. The results do not depend on it.");
        w.Line("/// The threads are the calling thread and workers of a pool shared by every network in the process.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The value is below 1.</exception>");
        w.Line(gc);
        w.Line($"public int InferenceThreads {{ get => _inferenceThreads; set => _inferenceThreads = {Check}.Threads(value, nameof(InferenceThreads)); }}");
        w.Line();
    }

    private static string NewInferenceWorkspace(NetworkPlan plan) => plan.CanTrain ? "new Workspace(training: false)" : "new Workspace()";

    private static void EmitTraining(SourceWriter w, NetworkPlan plan, string name, string gc)
    {
        string shape = plan.Input.ToString();
        const string NotThreadSafe = "/// <remarks>Not thread-safe: do not call it on one instance from several threads at once, nor while another thread calls <c>Predict</c>.</remarks>";
        w.Line("// Training is the same for every network: it lives in the runtime (LeNet.Gen.Runtime.NetworkTraining), which reaches");
        w.Line("// this network's passes through the Kernels struct below. The members here forward to it.");
        w.Line($"private {Training}? _training;");
        w.Line();
        w.Line($"private {Training} Training => _training ??= new {Training}(_parameters, {(HasExampleState(plan) ? "_seed" : "0")}, _parametersVersion);");
        w.Line();
        w.Line("/// <summary>One plain SGD step on one example's cross-entropy loss: every parameter moves by −<paramref name=\"learningRate\"/> × its gradient.</summary>");
        w.Line($"/// <param name=\"input\"><see cref=\"InputLength\"/> values, {shape}, row-major.</param>");
        w.Line("/// <param name=\"label\">The correct class, in [0, <see cref=\"OutputLength\"/>).</param>");
        w.Line("/// <param name=\"learningRate\">Step size; finite and positive.</param>");
        w.Line("/// <returns>The loss before the step.</returns>");
        w.Line(NotThreadSafe);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">A wrong span length, a label outside [0, OutputLength) or a learning rate that is not finite and positive.</exception>");
        w.Line("/// <exception cref=\"global::System.ArithmeticException\">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>");
        w.Line(gc);
        w.Line($"public float Train({ReadOnlySpan} input, int label, float learningRate) => Training.Train(input, label, learningRate);");
        w.Line();
        w.Line("/// <summary>One plain SGD step on the batch-mean cross-entropy: every parameter moves by −<paramref name=\"learningRate\"/> × its gradient.</summary>");
        w.Line($"/// <param name=\"inputs\">The batch: labels.Length × <see cref=\"InputLength\"/> values, each input {shape}, row-major, one after another.</param>");
        w.Line("/// <param name=\"labels\">The correct class of each input, in [0, <see cref=\"OutputLength\"/>).</param>");
        w.Line("/// <param name=\"learningRate\">Step size; finite and positive.</param>");
        w.Line("/// <returns>The mean loss before the step.</returns>");
        w.Line(NotThreadSafe);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">An empty batch, mismatched sizes, a label outside [0, OutputLength) or a learning rate that is not finite and positive.</exception>");
        w.Line("/// <exception cref=\"global::System.ArithmeticException\">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>");
        w.Line(gc);
        w.Line($"public float Train({ReadOnlySpan} inputs, {ReadOnlyIntSpan} labels, float learningRate) => Training.Train(inputs, labels, learningRate);");
        w.Line();
        w.Line("/// <summary>One step of <paramref name=\"optimizer\"/> (momentum SGD, Adam, …) on the batch-mean cross-entropy.</summary>");
        w.Line($"/// <param name=\"inputs\">The batch: labels.Length × <see cref=\"InputLength\"/> values, each input {shape}, row-major, one after another.</param>");
        w.Line("/// <param name=\"labels\">The correct class of each input, in [0, <see cref=\"OutputLength\"/>).</param>");
        w.Line("/// <param name=\"optimizer\">How to turn the gradients into an update; it keeps its own state between steps.</param>");
        w.Line("/// <returns>The mean loss before the step.</returns>");
        w.Line(NotThreadSafe);
        w.Line("/// <exception cref=\"global::System.ArgumentException\">An empty batch, mismatched sizes or a label outside [0, OutputLength).</exception>");
        w.Line("/// <exception cref=\"global::System.ArithmeticException\">The loss or a gradient is NaN or infinite; the parameters are left unchanged.</exception>");
        w.Line(gc);
        w.Line($"public float Train({ReadOnlySpan} inputs, {ReadOnlyIntSpan} labels, global::LeNet.Gen.Optimizer optimizer) => Training.Train(inputs, labels, optimizer);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Computes the gradient of the batch-mean cross-entropy with respect to every parameter (laid out as <see cref=\"Parameters\"/>),");
        w.Line("/// without changing the parameters, and returns the mean loss.");
        w.Line("/// </summary>");
        w.Line($"/// <param name=\"inputs\">The batch: labels.Length × <see cref=\"InputLength\"/> values.</param>");
        w.Line("/// <param name=\"labels\">The correct class of each input.</param>");
        w.Line("/// <param name=\"gradients\">Receives <see cref=\"ParameterCount\"/> values.</param>");
        w.Line(NotThreadSafe);
        w.Line(gc);
        w.Line($"public float ComputeGradients({ReadOnlySpan} inputs, {ReadOnlyIntSpan} labels, {Span} gradients) => Training.ComputeGradients(inputs, labels, gradients);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// How many threads a training step splits its batch over; 1 unless set. The parameters after training do not");
        w.Line("/// depend on it: the batch is cut into fixed chunks whose gradients are added in a fixed order.");
        w.Line("/// </summary>");
        w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The value is below 1.</exception>");
        w.Line(gc);
        w.Line("public int TrainingThreads { get => Training.TrainingThreads; set => Training.TrainingThreads = value; }");
        w.Line();
        w.Line("/// <summary>The cross-entropy loss −log p[label] of one example, without training.</summary>");
        w.Line($"/// <param name=\"input\"><see cref=\"InputLength\"/> values, {shape}, row-major.</param>");
        w.Line("/// <param name=\"label\">The correct class, in [0, <see cref=\"OutputLength\"/>).</param>");
        w.Line(gc);
        w.Line($"public float Loss({ReadOnlySpan} input, int label) => Training.Loss(input, label);");
        w.Line();
    }

    private static void EmitWeightFiles(SourceWriter w, string gc)
    {
        const string Files = "global::LeNet.Gen.IO.SafeTensors";
        w.Line("/// <summary>");
        w.Line("/// Writes the weights to a safetensors file (F32, little-endian) with the tensor names and shapes of <see cref=\"Tensors\"/>, which");
        w.Line("/// PyTorch reads with <c>safetensors.torch.load_file</c>. The file is written to a temporary file and renamed over");
        w.Line("/// <paramref name=\"path\"/>, so an interrupted save leaves the previous file intact.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"path\">The file to write.</param>");
        w.Line(gc);
        w.Line($"public void Save(string path) => {Files}.Save(path, _parameters, Tensors);");
        w.Line();
        w.Line("/// <summary>Writes the weights in the safetensors format to <paramref name=\"stream\"/>, at its position.</summary>");
        w.Line("/// <param name=\"stream\">A writable stream.</param>");
        w.Line(gc);
        w.Line($"public void Save(global::System.IO.Stream stream) => {Files}.Save(stream, _parameters, Tensors);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Reads weights from a safetensors file. Everything is checked before anything changes: every tensor of");
        w.Line("/// <see cref=\"Tensors\"/> present with dtype F32 and the right shape, nothing else, offsets in range and not overlapping.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"path\">The file to read.</param>");
        w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The file is malformed or does not fit this network; the message names the problem and the weights are unchanged.</exception>");
        w.Line(gc);
        w.Line($"public void Load(string path) {{ _parametersVersion.Advance(); {Files}.Load(path, Tensors, _parameters); }}");
        w.Line();
        w.Line("/// <summary>Reads weights in the safetensors format from <paramref name=\"stream\"/>; checks everything before anything changes.</summary>");
        w.Line("/// <param name=\"stream\">A readable stream.</param>");
        w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The data is malformed or does not fit this network; the weights are unchanged.</exception>");
        w.Line(gc);
        w.Line($"public void Load(global::System.IO.Stream stream) {{ _parametersVersion.Advance(); {Files}.Load(stream, Tensors, _parameters); }}");
        w.Line();
    }

    private static void EmitOnnxFiles(SourceWriter w, string gc)
    {
        const string Onnx = "global::LeNet.Gen.Onnx.OnnxModel";
        w.Line("/// <summary>");
        w.Line("/// Writes the network as an ONNX model (opset 13): one input <c>input</c> [N, C, H, W] with a dynamic batch, one output");
        w.Line("/// <c>output</c> holding what <c>Predict</c> writes, the weights as initializers with the names of <see cref=\"Tensors\"/>, and");
        w.Line("/// <see cref=\"Summary\"/> as the model's doc string. The file is written to a temporary file and renamed over <paramref name=\"path\"/>.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"path\">The file to write.</param>");
        w.Line(gc);
        w.Line($"public void SaveOnnx(string path) => {Onnx}.Save(path, _parameters, Tensors, Layers, Summary);");
        w.Line();
        w.Line("/// <summary>Writes the network as an ONNX model to <paramref name=\"stream\"/>, at its position.</summary>");
        w.Line("/// <param name=\"stream\">A writable stream.</param>");
        w.Line(gc);
        w.Line($"public void SaveOnnx(global::System.IO.Stream stream) => {Onnx}.Save(stream, _parameters, Tensors, Layers, Summary);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Reads the weights from an ONNX model of this network, such as <c>torch.onnx.export</c> writes for the equivalent PyTorch module.");
        w.Line("/// The graph is checked operator by operator (kind, kernel, stride, pads, pooling, rounding, activations, shapes) before anything changes.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"path\">The file to read.</param>");
        w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The model is malformed or does not match this network; the message names the node, the attribute, the expected and the found value, and the weights are unchanged.</exception>");
        w.Line(gc);
        w.Line($"public void LoadOnnx(string path) {{ _parametersVersion.Advance(); {Onnx}.Load(path, Tensors, Layers, _parameters); }}");
        w.Line();
        w.Line("/// <summary>Reads the weights from an ONNX model of this network in <paramref name=\"stream\"/>; checks everything before anything changes.</summary>");
        w.Line("/// <param name=\"stream\">A readable stream.</param>");
        w.Line("/// <exception cref=\"global::System.IO.InvalidDataException\">The model is malformed or does not match this network; the weights are unchanged.</exception>");
        w.Line(gc);
        w.Line($"public void LoadOnnx(global::System.IO.Stream stream) {{ _parametersVersion.Advance(); {Onnx}.Load(stream, Tensors, Layers, _parameters); }}");
        w.Line();
    }

    private static void EmitInterfaceMembers(SourceWriter w, NetworkPlan plan, string gc)
    {
        w.Line(gc);
        w.Line("int global::LeNet.Gen.INetwork.InputLength => InputLength;");
        w.Line();
        w.Line(gc);
        w.Line("int global::LeNet.Gen.INetwork.OutputLength => OutputLength;");
        w.Line();
        w.Line(gc);
        w.Line("int global::LeNet.Gen.INetwork.ParameterCount => ParameterCount;");
        w.Line();
        w.Line(gc);
        w.Line("global::System.Collections.Generic.IReadOnlyList<global::LeNet.Gen.TensorInfo> global::LeNet.Gen.INetwork.Tensors => Tensors;");
        w.Line();
    }

    /// <summary>The weight matrices whose gradients a training step takes over its whole batch (<see cref="ILayerKind.BatchGradient"/>), in layer order.</summary>
    private static List<(int WeightOffset, int Rows, int Columns)> BatchGradientLayers(NetworkPlan plan, LayerCode[] layers) =>
        plan.CanTrain
            ? layers.Select(code => code.Kind.BatchGradient(code)).Where(b => b is not null).Select(b => b!.Value).ToList()
            : new List<(int WeightOffset, int Rows, int Columns)>();

    /// <summary>True when some layer has prepared kernels (<see cref="ILayerKind.HasPreparedKernels"/>).</summary>
    private static bool HasPreparedKernels(LayerCode[] layers) => layers.Any(code => LayerKinds.Of(code.Layer.Spec).HasPreparedKernels(code));

    private static void EmitPrepareKernels(SourceWriter w, LayerCode[] layers)
    {
        if (!HasPreparedKernels(layers))
        {
            return;
        }

        w.Line("// Before a workspace runs the inputs of one Predict call or the examples of one training step (the runtime calls it):");
        w.Line("// the layers whose cost model chose kernels with a set-up (Winograd's transformed weights, the filters-in-lanes");
        w.Line("// packing, dense rows packed by groups) for this kind of call set them up from the current parameters, or keep them");
        w.Line("// while those are unchanged. kept: the set-up lasts until the parameters change, rather than for this call only.");
        w.Line(Code.Hot);
        using (w.Block($"private static void PrepareKernels({ReadOnlySpan} parameters, Workspace workspace, bool batch, bool training, bool kept)"))
        {
            w.Line($"bool vectors = {Simd}.Use256;");
            foreach (var code in layers)
            {
                LayerKinds.Of(code.Layer.Spec).EmitPreparedKernelSetup(w, code);
            }
        }

        w.Line();
    }

    private static void EmitFinishExamples(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (!plan.CanTrain || !layers.Any(code => code.Kind.HasDeferredGradients(code)))
        {
            return;
        }

        w.Line("// After the last example of a chunk (the runtime's NetworkTraining calls it): the weight gradients the layers deferred");
        w.Line("// over the chunk, added into the chunk's gradient.");
        w.Line(Code.Hot);
        using (w.Block($"private static void FinishExamples(Workspace workspace, {Span} gradients)"))
        {
            foreach (var code in layers)
            {
                code.Kind.EmitFinishExamples(w, code);
            }
        }

        w.Line();
    }

    private static void EmitForward(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        EmitPrepareKernels(w, layers);
        EmitFinishExamples(w, plan, layers);
        w.Line("// The forward pass: each layer reads its source's output buffer (or the input) and writes its own.");
        w.Line(Code.Hot);
        using (w.Block($"private static void Forward({ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace)"))
        {
            foreach (var code in layers)
            {
                EmitForwardCall(w, plan, code, layers, training: false);
            }

            if (plan.CanTrain)
            {
                w.Line($"global::LeNet.Gen.Runtime.Softmax.Apply(workspace.Logits, workspace.{layers[layers.Length - 1].Output});");
            }
        }

        w.Line();
        ImageLanesEmitter.EmitMethod(w, plan, layers);
        TrainingLanesEmitter.EmitMethod(w, plan, layers);
    }

    /// <summary>
    /// One layer of a forward pass, reading its source's buffer (or <c>input</c>) and writing its own. In a training stage
    /// a batch-wide layer (batch norm) normalises with the batch statistics instead of the running ones in its state.
    /// </summary>
    internal static void EmitForwardCall(SourceWriter w, NetworkPlan plan, LayerCode code, LayerCode[] layers, bool training)
    {
        var layer = code.Layer;
        string source = EmitForwardSource(w, code, layers);
        string scratch = ScratchArgument(code);
        string weights = code.ParameterSlices;
        if (code.Kind is IBatchWideKind)
        {
            var batchWide = BatchWideLayers(plan, layers).Single(b => b.Code == code);
            w.Line(training
                ? batchWide.Kind.TrainingForwardCall(code, source, weights, batchWide.Slice("statistics"))
                : batchWide.Kind.InferenceForwardCall(code, source, weights, batchWide.StateOffset));
            return;
        }

        w.Line(layer.ParameterCount > 0
            ? $"{code.Forward}({source}, {weights}, workspace.{code.Written}{scratch});"
            : $"{code.Forward}({source}, workspace.{code.Written}{scratch});");
    }

    /// <summary>
    /// What a layer's forward pass reads: its source's output buffer (or <c>input</c>), or the staged copy of it the layer
    /// keeps (a zero-padded input), whose fill this writes first.
    /// </summary>
    internal static string EmitForwardSource(SourceWriter w, LayerCode code, LayerCode[] layers)
    {
        string previous = code.SourcePosition is int from ? "workspace." + layers[from].Output : "input";
        if (code.Workspace.Input is { BackwardOnly: false } staged)
        {
            w.Line(staged.Fill(previous));
            return "workspace." + staged.Buffer.Name;
        }

        return previous;
    }

    private static void EmitBackward(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (BatchWideLayers(plan, layers).Count > 0)
        {
            EmitStages(w, plan, layers);
            return;
        }

        w.Line("// The backward pass, last layer first: each layer turns the gradient of its output into the gradient of its input");
        w.Line("// and adds the gradients of its weights and biases. workspace.LogitsGradient holds the loss gradient on entry.");
        w.Line(Code.Hot);
        using (w.Block($"private static void Backward({ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {Span} gradients)"))
        {
            for (int i = layers.Length - 1; i >= 0; i--)
            {
                EmitBackwardCall(w, layers[i], layers);
            }
        }

        w.Line();
    }

    // One layer of a backward pass (not a batch-wide layer: its backward is split around the batch reduction, see EmitStages).
    private static void EmitBackwardCall(SourceWriter w, LayerCode code, LayerCode[] layers)
    {
        var layer = code.Layer;
        if (code.IsFirst && layer.ParameterCount == 0)
        {
            return; // a layer on the input without parameters has nothing to learn and no earlier layer to pass a gradient to
        }

        var from = code.SourcePosition is int s ? layers[s] : null;
        string layerInput = from is null ? "input" : "workspace." + from.Output;
        var staged = code.Workspace.Input;
        string windowInput = staged is null ? layerInput : "workspace." + staged.Buffer.Name;
        if (staged is { BackwardOnly: true })
        {
            w.Line(staged.Fill(layerInput));
        }

        string scratch = ScratchArgument(code);
        string inputGradient = code.IsFirst ? string.Empty
            : staged?.Gradient is { } stagedGradient ? $"workspace.{stagedGradient.Name}, " : $"workspace.{from!.WrittenGradient}, ";
        if (layer.ParameterCount > 0)
        {
            w.Line($"{code.Backward}({windowInput}, parameters.Slice({Int(layer.WeightOffset)}, {Int(layer.WeightCount)}), workspace.{code.Written}, workspace.{code.WrittenGradient}, {inputGradient}" +
                $"gradients.Slice({Int(layer.WeightOffset)}, {Int(layer.WeightCount)}), gradients.Slice({Int(layer.BiasOffset)}, {Int(layer.BiasCount)}){scratch});");
        }
        else
        {
            w.Line($"{code.Backward}({layerInput}, workspace.{code.Written}, workspace.{code.WrittenGradient}, {inputGradient.TrimEnd(',', ' ')}{scratch});");
        }

        if (!code.IsFirst && staged?.Drain is { } drain)
        {
            w.Line(drain($"workspace.{from!.WrittenGradient}"));
        }
    }

    /// <summary>
    /// A network with batch-wide layers (batch norm, <see cref="IBatchWideKind"/>) trains in stages cut at each one, so
    /// that the runtime can reduce the batch statistics over the whole batch in between (<c>NetworkTraining</c>): forward
    /// stage k runs batch-wide layer k (from 1) with its statistics and runs on to layer k + 1's input; backward stage k
    /// takes the gradient through layer k + 1's input backward, runs back to layer k's output and through its output
    /// backward, and leaves there the gradient whose batch sums the runtime reduces.
    /// </summary>
    private static void EmitStages(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        var batchWide = BatchWideLayers(plan, layers);
        int[] cuts = batchWide.Select(b => b.Code.Position).ToArray();
        int stages = cuts.Length;
        w.Line("// Training with batch norm goes through ForwardStage and BackwardStage: the statistics come from the whole batch, so");
        w.Line("// the runtime reduces them between the stages. Backward on one example alone is not defined for this network.");
        using (w.Block($"private static void Backward({ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {Span} gradients)"))
        {
            w.Line("throw new global::System.InvalidOperationException(\"A network with batch norm trains through ForwardStage and BackwardStage, over a whole batch.\");");
        }

        w.Line();
        w.Line("// Training forward stage k: batch norm k (from 1) normalises with the batch statistics, then the layers up to the next batch norm's input.");
        w.Line(Code.Hot);
        using (w.Block($"private static void ForwardStage(int stage, {ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {ReadOnlyDoubleSpan} statistics)"))
        using (w.Block("switch (stage)"))
        {
            for (int k = 0; k <= stages; k++)
            {
                int first = k == 0 ? 0 : cuts[k - 1];
                int end = k == stages ? layers.Length : cuts[k];
                w.Line($"case {k}:");
                w.Indent();
                for (int i = first; i < end; i++)
                {
                    EmitForwardCall(w, plan, layers[i], layers, training: true);
                }

                if (k == stages)
                {
                    w.Line($"global::LeNet.Gen.Runtime.Softmax.Apply(workspace.Logits, workspace.{layers[layers.Length - 1].Output});");
                }

                w.Line("return;");
                w.Outdent();
            }

            w.Line("default:");
            w.Indent();
            w.Line("throw new global::System.ArgumentOutOfRangeException(nameof(stage));");
            w.Outdent();
        }

        w.Line();
        w.Line("// Training backward stage k: through batch norm k + 1's input, back through the layers after batch norm k, to its output gradient.");
        w.Line(Code.Hot);
        using (w.Block($"private static void BackwardStage(int stage, {ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {Span} gradients, {ReadOnlyDoubleSpan} statistics, {ReadOnlyDoubleSpan} sums)"))
        using (w.Block("switch (stage)"))
        {
            for (int k = stages; k >= 0; k--)
            {
                w.Line($"case {k}:");
                w.Indent();
                int end = k == stages ? layers.Length : cuts[k];
                if (k < stages)
                {
                    var next = batchWide[k];
                    var from = layers[next.Code.SourcePosition!.Value];
                    w.Line(next.Kind.InputBackwardCall(next.Code, from, next.Slice("statistics"), next.Slice("sums")));
                }

                int first = k == 0 ? 0 : cuts[k - 1] + 1;
                for (int i = end - 1; i >= first; i--)
                {
                    EmitBackwardCall(w, layers[i], layers);
                }

                if (k > 0 && batchWide[k - 1].Kind.OutputBackwardCall(batchWide[k - 1].Code) is { } outputBackward)
                {
                    w.Line(outputBackward);
                }

                w.Line("return;");
                w.Outdent();
            }

            w.Line("default:");
            w.Indent();
            w.Line("throw new global::System.ArgumentOutOfRangeException(nameof(stage));");
            w.Outdent();
        }

        w.Line();
    }

    private static void EmitKernels(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        string type = plan.Spec.Type.NameWithTypeParameters;
        string output = layers[layers.Length - 1].Output;
        string kernels = plan.CanTrain ? "INetworkKernels" : "IInferenceKernels";
        w.Line(plan.CanTrain
            ? "// What the runtime's inference and training code needs from this network: its sizes, its buffers and its two passes."
            : "// What the runtime's inference code needs from this network: its sizes, its buffers and its forward pass.");
        using (w.Block($"private readonly struct Kernels : global::LeNet.Gen.Runtime.{kernels}<Workspace>"))
        {
            w.Line($"public static string Name => \"{plan.Spec.Type.Name}\";");
            w.Line($"public static string InputShape => \"{plan.Input}\";");
            w.Line($"public static string OutputShape => \"{plan.Output}\";");
            w.Line($"public static int InputLength => {type}.InputLength;");
            w.Line($"public static int OutputLength => {type}.OutputLength;");
            w.Line($"public static Workspace InferenceWorkspace => t_inferenceWorkspace ??= {NewInferenceWorkspace(plan)};");
            w.Line($"public static void Forward({ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace) => {type}.Forward(parameters, input, workspace);");
            w.Line($"public static {Span} Output(Workspace workspace) => workspace.{output};");
            ImageLanesEmitter.EmitKernelMembers(w, plan, layers);
            TrainingLanesEmitter.EmitKernelMembers(w, plan, layers);
            var batchGradients = BatchGradientLayers(plan, layers);
            if (batchGradients.Count > 0)
            {
                const string Info = "global::LeNet.Gen.Runtime.BatchGradientInfo";
                w.Line($"public static int BatchGradientCount => {batchGradients.Count};");
                w.Line($"public static {Info} BatchGradient(int index) => index switch");
                w.Line("{");
                w.Indent();
                for (int k = 0; k < batchGradients.Count; k++)
                {
                    var (offset, rows, columns) = batchGradients[k];
                    w.Line($"{k} => new {Info}({Int(offset)}, {Int(rows)}, {Int(columns)}),");
                }

                w.Line("_ => throw new global::System.ArgumentOutOfRangeException(nameof(index)),");
                w.Outdent();
                w.Line("};");
                using (w.Block("public static void KeepForBatch(Workspace workspace, global::LeNet.Gen.Runtime.BatchGradients store, int example)"))
                {
                    w.Line("workspace.BatchGradients = store;");
                    w.Line("workspace.Example = example;");
                }
            }

            if (plan.CanTrain && layers.Any(code => code.Kind.HasDeferredGradients(code)))
            {
                w.Line($"public static void FinishExamples(Workspace workspace, {Span} gradients) => {type}.FinishExamples(workspace, gradients);");
            }

            if (HasPreparedKernels(layers))
            {
                w.Line($"public static void PrepareKernels({ReadOnlySpan} parameters, Workspace workspace, bool batch, bool training, bool kept) => {type}.PrepareKernels(parameters, workspace, batch, training, kept);");
            }

            if (plan.CanTrain)
            {
                w.Line($"public static int ParameterCount => {type}.ParameterCount;");
                w.Line("public static Workspace CreateWorkspace(bool training) => new Workspace(training);");
                w.Line($"public static void Backward({ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {Span} gradients) => {type}.Backward(parameters, input, workspace, gradients);");
                w.Line($"public static {Span} Logits(Workspace workspace) => workspace.Logits;");
                w.Line($"public static {Span} Probabilities(Workspace workspace) => workspace.{output};");
                w.Line($"public static {Span} LogitsGradient(Workspace workspace) => workspace.LogitsGradient;");
                if (HasExampleState(plan))
                {
                    w.Line("public static void BeginExample(Workspace workspace, ulong key) => workspace.ExampleKey = key;");
                }

                var batchWide = BatchWideLayers(plan, layers);
                if (batchWide.Count > 0)
                {
                    // The runtime's contract (INetworkKernels) names its batch-wide layers after batch norm, the one such kind.
                    const string Info = "global::LeNet.Gen.Runtime.BatchNormInfo";
                    const string Buffer = "global::LeNet.Gen.Runtime.BatchNormBuffer";
                    w.Line($"public static int StateLength => {type}.StateLength;");
                    w.Line($"public static int BatchNormCount => {batchWide.Count};");
                    w.Line($"public static int BatchStatisticsLength => {Int(batchWide.Sum(b => b.StatisticsLength))};");
                    w.Line($"public static {Info} BatchNorm(int index) => index switch");
                    w.Line("{");
                    w.Indent();
                    foreach (var b in batchWide)
                    {
                        w.Line($"{b.Number} => {b.Kind.RuntimeInfo(b.Code, b.StateOffset, b.StatisticsOffset)},");
                    }

                    w.Line("_ => throw new global::System.ArgumentOutOfRangeException(nameof(index)),");
                    w.Outdent();
                    w.Line("};");
                    using (w.Block($"public static {Span} BatchNormValues(Workspace workspace, int index, {Buffer} buffer)"))
                    {
                        w.Line("switch (index)");
                        w.Line("{");
                        w.Indent();
                        foreach (var b in batchWide)
                        {
                            var from = layers[b.Code.SourcePosition!.Value];
                            w.Line($"case {b.Number}: return buffer == {Buffer}.Input ? workspace.{from.Output} : workspace.{b.Code.WrittenGradient};");
                        }

                        w.Line("default: throw new global::System.ArgumentOutOfRangeException(nameof(index));");
                        w.Outdent();
                        w.Line("}");
                    }

                    w.Line($"public static void ForwardStage(int stage, {ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {ReadOnlyDoubleSpan} statistics) => {type}.ForwardStage(stage, parameters, input, workspace, statistics);");
                    w.Line($"public static void BackwardStage(int stage, {ReadOnlySpan} parameters, {ReadOnlySpan} input, Workspace workspace, {Span} gradients, {ReadOnlyDoubleSpan} statistics, {ReadOnlyDoubleSpan} sums) => {type}.BackwardStage(stage, parameters, input, workspace, gradients, statistics, sums);");
                }
            }
        }

        w.Line();
    }

    /// <summary>
    /// The workspace buffers of <paramref name="code"/>'s layer in the order the workspace declares them: what its unit
    /// declares on its input side (<see cref="LayerWorkspace.Input"/>), the buffer it writes and that buffer's gradient
    /// (the logits and the probabilities for a softmax head), then its scratch.
    /// </summary>
    private static IEnumerable<WorkspaceBuffer> BuffersOf(LayerCode code, LayerCode[] layers)
    {
        var declared = code.Workspace;
        if (declared.Input is { } staged)
        {
            yield return staged.Buffer;
            if (staged.Gradient is not null)
            {
                yield return staged.Gradient;
            }
        }

        long length = code.Layer.Output.Length;
        if (code.IsSoftmaxHead)
        {
            yield return WorkspaceBuffer.Always("Logits", length, $"{code.Layer.Name} before softmax");
            yield return WorkspaceBuffer.Always(code.Output, length, "probabilities");
            yield return WorkspaceBuffer.Training("LogitsGradient", length);
        }
        else
        {
            // The layers that read this output may read past its end (vector loads past the last row): it is allocated for them.
            long readable = layers.Where(l => l.SourcePosition == code.Position).Select(l => l.Workspace.SourceLength).DefaultIfEmpty(0).Max();
            yield return WorkspaceBuffer.Always(code.Output, Math.Max(length, readable), $"{code.Layer.Name}: {code.Layer.Output}");
            yield return WorkspaceBuffer.Training(code.WrittenGradient, length);
        }

        foreach (var buffer in declared.Scratch)
        {
            yield return buffer;
        }
    }

    private static void EmitWorkspace(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        bool training = plan.CanTrain;
        var buffers = layers.SelectMany(code => BuffersOf(code, layers)).ToList();
        var gradients = buffers.Where(b => b.TrainingOnly).ToList();
        w.Line("// Every intermediate value of one forward (and, for training, backward) pass, allocated once and reused.");
        w.Line("// Buffers a vectorised convolution reads are a little longer than their tensor: its last vector loads run past the last row.");
        using (w.Block("private sealed class Workspace"))
        {
            foreach (var buffer in buffers.Where(b => !b.TrainingOnly))
            {
                w.Line($"public readonly float[] {buffer.Name} = new float[{Int(buffer.Length)}]; // {buffer.Holds}");
            }

            if (HasPreparedKernels(layers))
            {
                w.Line();
                w.Line("// Set by PrepareKernels before each Predict call or training step: which layers run their prepared kernels, and those kernels' set-up.");
                foreach (var code in layers)
                {
                    LayerKinds.Of(code.Layer.Spec).EmitPreparedKernelFields(w, code);
                }
            }

            ImageLanesEmitter.EmitWorkspaceFields(w, layers);
            TrainingLanesEmitter.EmitWorkspaceFields(w, plan, layers);

            if (!training)
            {
                return;
            }

            w.Line();
            foreach (var gradient in gradients)
            {
                w.Line($"public readonly float[] {gradient.Name};");
            }

            if (BatchGradientLayers(plan, layers).Count > 0)
            {
                w.Line();
                w.Line("// Set by the runtime before each example of a training step (KeepForBatch): where the layers whose weight gradient");
                w.Line("// is taken over the whole batch keep this example's factors, and the example's place in the batch.");
                w.Line("public global::LeNet.Gen.Runtime.BatchGradients? BatchGradients;");
                w.Line("public int Example;");
            }

            bool exampleState = HasExampleState(plan);
            if (exampleState)
            {
                w.Line();
                w.Line("// True in the runtime's training workspaces: dropout drops values only there.");
                w.Line("public readonly bool Training;");
                w.Line();
                w.Line("// The current example's key, set by the runtime before each training example's forward pass.");
                w.Line("public ulong ExampleKey;");
            }

            w.Line();
            w.Line("// Gradient buffers exist only in a training workspace; Predict's workspaces leave them empty.");
            using (w.Block("public Workspace(bool training)"))
            {
                if (exampleState)
                {
                    w.Line("Training = training;");
                }

                foreach (var gradient in gradients)
                {
                    w.Line($"{gradient.Name} = training ? new float[{Int(gradient.Length)}] : global::System.Array.Empty<float>();");
                }
            }
        }
    }
}

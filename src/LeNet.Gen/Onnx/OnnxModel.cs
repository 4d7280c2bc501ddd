using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using LeNet.Gen.IO;

namespace LeNet.Gen.Onnx;

/// <summary>
/// Writes a generated network as an ONNX model and reads the weights back from ONNX models, including those that
/// PyTorch's <c>torch.onnx.export</c> writes for the equivalent module. Generated networks forward their
/// <c>SaveOnnx</c> and <c>LoadOnnx</c> methods here with their <c>Tensors</c> and <c>Layers</c>.
/// </summary>
/// <remarks>
/// <para>
/// The exported graph (opset 13, IR version 7) has one input <c>input</c>, float [N, C, H, W] with a symbolic batch
/// dimension <c>N</c>, and one output <c>output</c>. Each convolution is a <c>Conv</c> node, each pooling layer a
/// <c>MaxPool</c> or <c>AveragePool</c>, each dense layer a <c>Gemm</c> (<c>transB</c> = 1, so the weights keep the
/// PyTorch layout) preceded by one <c>Flatten</c> where the input is still spatial, each activation a
/// <c>Relu</c>, <c>Tanh</c>, <c>Sigmoid</c> or <c>Softmax</c> (axis 1) node, each batch norm a <c>BatchNormalization</c>
/// in inference mode (scale, B, input_mean and input_var from the layer's weight, bias and running statistics, its
/// epsilon; the activation written on the layer before it follows it). The weights and running statistics are
/// initializers named as in <c>Tensors</c>; <c>num_batches_tracked</c> is not exported, as PyTorch does not export it,
/// and loading leaves it as it was. The model's doc string is the layer table.
/// </para>
/// <para>
/// Rounding is stated with explicit end padding, never with <c>ceil_mode</c>: under <see cref="ShapeRounding.Ceiling"/>
/// the last window of a layer may hang over the input's bottom or right edge, and the node's end pads are widened by
/// that overhang (<see cref="LayerInfo.EndPadding(int)"/>). A convolution reads zeros there, max pooling ignores it, and
/// average pooling leaves it out of the divisor (<c>count_include_pad</c> = 0): exactly what the generated code does,
/// and what PyTorch's own exporter writes for <c>AvgPool2d(ceil_mode=True)</c>.
/// </para>
/// <para>
/// Loading checks the graph against the layers node by node, parses every weight into a private buffer, and only then
/// copies the values into the parameters. It accepts weights as initializers or <c>Constant</c> nodes, <c>Gemm</c>
/// with or without <c>transB</c>, <c>Flatten</c> or a <c>Reshape</c> to [N, features], pooling rounding stated with
/// <c>ceil_mode</c> or with end pads, and skips <c>Identity</c> nodes and <c>Pad</c> nodes that pad nothing (PyTorch
/// writes one before <c>AveragePool</c>).
/// </para>
/// </remarks>
public static class OnnxModel
{
    /// <summary>The operator set the exported models declare.</summary>
    public const int Opset = 13;

    /// <summary>The oldest operator set accepted when loading (pads and ceil_mode as used here exist from 11 on).</summary>
    public const int MinimumOpset = 11;

    /// <summary>The ONNX IR version the exported models declare (the one that goes with opset 13).</summary>
    public const int IrVersion = 7;

    /// <summary>Size of the chunks in which a stream that cannot seek is read.</summary>
    private const int Chunk = 16 * 1024;

    // ONNX field numbers (onnx.proto) and enum values used here.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12, GraphSparseInitializer = 15;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeString = 4, AttributeTensor = 5, AttributeInts = 8, AttributeType = 20;
    private const int AttributeTypeFloat = 1, AttributeTypeInt = 2, AttributeTypeString = 3, AttributeTypeTensor = 4, AttributeTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorSegment = 3, TensorFloatData = 4, TensorInt64Data = 7, TensorName = 8, TensorRawData = 9, TensorExternalData = 13, TensorDataLocation = 14;
    private const int DataTypeFloat = 1, DataTypeInt64 = 7;
    private const int ValueName = 1, ValueType = 2;
    private const int TypeTensor = 1, TensorTypeElem = 1, TensorTypeShape = 2, ShapeDim = 1, DimValue = 1, DimParam = 2;

    /// <summary>
    /// Writes the network as an ONNX model to a file, replacing it atomically: the model goes to a temporary file in
    /// the same directory, which is flushed to disk and then moved over <paramref name="path"/>. If anything fails,
    /// the temporary file is deleted and an existing file at <paramref name="path"/> is left as it was.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="parameters">The parameter vector, followed by the state (batch norms' running statistics) if any, laid out as <paramref name="tensors"/> describes.</param>
    /// <param name="tensors">The named tensors of the parameter vector, in order.</param>
    /// <param name="layers">The network's layers, in order.</param>
    /// <param name="summary">The layer table, stored as the model's doc string; the text before its first colon names the graph.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The path names a directory, or the layers and tensors do not describe the parameter vector.</exception>
    /// <exception cref="IOException">The file system failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory or file may not be written.</exception>
    public static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, string summary)
        => Save(path, parameters, tensors, layers, summary, wrap: null);

    /// <summary>Writes the network as an ONNX model at the stream's current position and flushes the stream.</summary>
    /// <param name="stream">A writable stream; it is left open.</param>
    /// <param name="parameters">The parameter vector, followed by the state (batch norms' running statistics) if any, laid out as <paramref name="tensors"/> describes.</param>
    /// <param name="tensors">The named tensors of the parameter vector, in order.</param>
    /// <param name="layers">The network's layers, in order.</param>
    /// <param name="summary">The layer table, stored as the model's doc string.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The stream cannot be written, or the layers and tensors do not describe the parameter vector.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static void Save(Stream stream, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, string summary)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        }

        ProtoMessage model = Build(parameters, tensors, layers, summary);
        model.WriteTo(stream);
        stream.Flush();
    }

    /// <summary>The path overload of Save, with a hook that may wrap the temporary file's stream (tests make a write fail with it).</summary>
    internal static void Save(string path, ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, string summary, Func<Stream, Stream>? wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ProtoMessage model = Build(parameters, tensors, layers, summary);
        using var file = AtomicFile.Create(path);
        Stream target = wrap is null ? file.Stream : wrap(file.Stream);
        model.WriteTo(target);
        target.Flush();
        file.Commit();
    }

    /// <summary>
    /// Reads the weights of an ONNX model file into the parameter vector, after checking the graph against the
    /// layers. Nothing is written to <paramref name="parameters"/> unless the whole model is valid and matches.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="tensors">The named tensors of the parameter vector, in order.</param>
    /// <param name="layers">The network's layers, in order.</param>
    /// <param name="parameters">Receives the weights and the running statistics; laid out as <paramref name="tensors"/> describes (the state after the parameters).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The path is empty, or the layers and tensors do not describe the parameter vector.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a valid ONNX model of this network; the message starts with the path and names the node, the
    /// attribute, the expected and the found value.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file system failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static void Load(string path, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, Span<float> parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckLayout(parameters.Length, tensors, layers);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            Load(file, tensors, layers, parameters);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the weights of an ONNX model from the stream's current position to its end into the parameter vector,
    /// after checking the graph against the layers. Nothing is written to <paramref name="parameters"/> unless the
    /// whole model is valid and matches.
    /// </summary>
    /// <remarks>
    /// The model is read whole into memory, up to <see cref="MaxFileLength(int)"/> bytes; the weights are parsed into
    /// one private buffer of the parameters' size. Nothing else of a size that the file controls is allocated.
    /// </remarks>
    /// <param name="stream">A readable stream; it is left open.</param>
    /// <param name="tensors">The named tensors of the parameter vector, in order.</param>
    /// <param name="layers">The network's layers, in order.</param>
    /// <param name="parameters">Receives the weights and the running statistics; laid out as <paramref name="tensors"/> describes (the state after the parameters).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The stream cannot be read, or the layers and tensors do not describe the parameter vector.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid ONNX model of this network; the message names the node, the attribute, the expected and the found value.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public static void Load(Stream stream, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, Span<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        Layout layout = CheckLayout(parameters.Length, tensors, layers);
        byte[] file = ReadAll(stream, MaxFileLength(parameters.Length));
        // Starts as a copy, so that what the file does not hold (a batch norm's num_batches_tracked) stays as it was.
        float[] values = parameters.ToArray();
        new Importer(file, layout, values).Run();
        values.CopyTo(parameters);
    }

    /// <summary>
    /// The largest model accepted for a network of <paramref name="parameterCount"/> parameters: twice the weights'
    /// size (room for weights stored twice over, or as text-heavy Constant nodes) plus 4 MiB for the graph.
    /// </summary>
    /// <param name="parameterCount">The network's number of parameters.</param>
    /// <returns>The limit in bytes.</returns>
    public static long MaxFileLength(int parameterCount) => (8L * parameterCount) + (4L << 20);

    // ---------------------------------------------------------------- export

    private static ProtoMessage Build(ReadOnlySpan<float> parameters, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers, string summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        Layout layout = CheckLayout(parameters.Length, tensors, layers);
        byte[] data = MemoryMarshal.AsBytes(parameters).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> bits = MemoryMarshal.Cast<byte, int>(data.AsSpan());
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(bits, bits);
        }

        var graph = new ProtoMessage();
        string current = "input";
        bool flat = false;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i];
            bool last = i == layers.Count - 1;
            bool activated = layer.Activation != Activation.None;
            string produced = last && !activated ? "output" : layer.Name;
            switch (layer.Kind)
            {
                case LayerKind.Convolution:
                    graph.Message(GraphNode, Node("Conv", layer.Name, produced, current, layer.Weight!, layer.Bias!)
                        .Message(NodeAttribute, Ints("dilations", 1, 1))
                        .Message(NodeAttribute, Int("group", 1))
                        .Message(NodeAttribute, Ints("kernel_shape", layer.Kernel, layer.Kernel))
                        .Message(NodeAttribute, Ints("pads", layer.Padding, layer.Padding, layer.EndPadding(0), layer.EndPadding(1)))
                        .Message(NodeAttribute, Ints("strides", layer.Stride, layer.Stride)));
                    break;
                case LayerKind.Pooling:
                    ProtoMessage pool = Node(layer.Pooling == PoolKind.Max ? "MaxPool" : "AveragePool", layer.Name, produced, current)
                        .Message(NodeAttribute, Int("ceil_mode", 0))
                        .Message(NodeAttribute, Ints("kernel_shape", layer.Kernel, layer.Kernel))
                        .Message(NodeAttribute, Ints("pads", 0, 0, layer.EndPadding(0), layer.EndPadding(1)))
                        .Message(NodeAttribute, Ints("strides", layer.Stride, layer.Stride));
                    if (layer.Pooling == PoolKind.Average)
                    {
                        pool.Message(NodeAttribute, Int("count_include_pad", 0));
                    }

                    graph.Message(GraphNode, pool);
                    break;
                case LayerKind.GlobalAveragePool:
                    graph.Message(GraphNode, Node("GlobalAveragePool", layer.Name, produced, current));
                    break;
                case LayerKind.BatchNorm:
                    // Inference mode (one output): the running statistics, which follow the parameters in the storage,
                    // are the node's input_mean and input_var; the activation written on the layer before comes after it.
                    graph.Message(GraphNode, Node("BatchNormalization", layer.Name, produced, current, layer.Weight!, layer.Bias!, RunningMean(layer), RunningVar(layer))
                        .Message(NodeAttribute, Float("epsilon", (float)layer.Epsilon))
                        .Message(NodeAttribute, Float("momentum", (float)(1 - layer.Momentum))));
                    break;
                case LayerKind.Dropout:
                    // The identity outside training: an ONNX model holds what Predict computes, so dropout adds no node,
                    // as torch.onnx.export in eval mode writes none. A last layer still needs a node that writes "output".
                    if (produced == "output")
                    {
                        graph.Message(GraphNode, Node("Identity", layer.Name, produced, current));
                    }
                    else
                    {
                        produced = current;
                    }

                    break;
                default:
                    if (!flat)
                    {
                        string flattened = layer.Name + "_flat";
                        graph.Message(GraphNode, Node("Flatten", layer.Name + "_flatten", flattened, current).Message(NodeAttribute, Int("axis", 1)));
                        current = flattened;
                        flat = true;
                    }

                    graph.Message(GraphNode, Node("Gemm", layer.Name, produced, current, layer.Weight!, layer.Bias!)
                        .Message(NodeAttribute, Float("alpha", 1f))
                        .Message(NodeAttribute, Float("beta", 1f))
                        .Message(NodeAttribute, Int("transB", 1)));
                    break;
            }

            current = produced;
            if (activated)
            {
                string op = ActivationOp(layer.Activation);
                string output = last ? "output" : layer.Name + "_" + op.ToLowerInvariant();
                ProtoMessage node = Node(op, layer.Name + "_" + op.ToLowerInvariant(), output, current);
                if (layer.Activation == Activation.Softmax)
                {
                    node.Message(NodeAttribute, Int("axis", 1));
                }

                graph.Message(GraphNode, node);
                current = output;
            }
        }

        int colon = summary.IndexOf(':', StringComparison.Ordinal);
        graph.String(GraphName, colon > 0 ? summary[..colon] : "network");
        foreach (TensorInfo tensor in tensors)
        {
            if (tensor.ElementType == TensorElementType.Int64)
            {
                continue; // num_batches_tracked: training bookkeeping, which PyTorch does not export either
            }

            var initializer = new ProtoMessage();
            foreach (int dimension in tensor.Shape)
            {
                initializer.Int(TensorDims, dimension);
            }

            initializer.Int(TensorDataType, DataTypeFloat)
                .String(TensorName, tensor.Name)
                .Bytes(TensorRawData, data.AsMemory(tensor.Offset * 4, tensor.Length * 4));
            graph.Message(GraphInitializer, initializer);
        }

        IReadOnlyList<int> inputShape = layers[0].InputShape;
        graph.Message(GraphInput, ValueInfo("input", inputShape));
        graph.Message(GraphOutput, ValueInfo("output", layers[^1].OutputShape));

        string version = typeof(OnnxModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return new ProtoMessage()
            .Int(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "LeNet.Gen")
            .String(ModelProducerVersion, plus > 0 ? version[..plus] : version)
            .String(ModelDocString, summary)
            .Message(ModelGraph, graph)
            .Message(ModelOpsetImport, new ProtoMessage().String(OpsetDomain, string.Empty).Int(OpsetVersion, Opset));
    }

    private static ProtoMessage Node(string op, string name, string output, params string[] inputs)
    {
        var node = new ProtoMessage();
        foreach (string input in inputs)
        {
            node.String(NodeInput, input);
        }

        return node.String(NodeOutput, output).String(NodeName, name).String(NodeOpType, op);
    }

    private static ProtoMessage Int(string name, long value)
        => new ProtoMessage().String(AttributeName, name).Int(AttributeInt, value).Int(AttributeType, AttributeTypeInt);

    private static ProtoMessage Ints(string name, params long[] values)
        => new ProtoMessage().String(AttributeName, name).Ints(AttributeInts, values).Int(AttributeType, AttributeTypeInts);

    private static ProtoMessage Float(string name, float value)
    {
        byte[] bits = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bits, value);
        return new ProtoMessage().String(AttributeName, name).Fixed32(AttributeFloat, bits).Int(AttributeType, AttributeTypeFloat);
    }

    private static ProtoMessage ValueInfo(string name, IReadOnlyList<int> shape)
    {
        var dims = new ProtoMessage().Message(ShapeDim, new ProtoMessage().String(DimParam, "N"));
        foreach (int dimension in shape)
        {
            dims.Message(ShapeDim, new ProtoMessage().Int(DimValue, dimension));
        }

        var tensorType = new ProtoMessage().Int(TensorTypeElem, DataTypeFloat).Message(TensorTypeShape, dims);
        return new ProtoMessage().String(ValueName, name).Message(ValueType, new ProtoMessage().Message(TypeTensor, tensorType));
    }

    /// <summary>The name of a batch norm's running mean in <c>Tensors</c> (and of its initializer).</summary>
    private static string RunningMean(LayerInfo layer) => layer.Name + ".running_mean";

    /// <summary>The name of a batch norm's running variance in <c>Tensors</c> (and of its initializer).</summary>
    private static string RunningVar(LayerInfo layer) => layer.Name + ".running_var";

    /// <summary>The name of a batch norm's batch count in <c>Tensors</c>; not exported.</summary>
    private static string BatchesTracked(LayerInfo layer) => layer.Name + ".num_batches_tracked";

    private static string ActivationOp(Activation activation) => activation switch
    {
        Activation.ReLU => "Relu",
        Activation.Tanh => "Tanh",
        Activation.Sigmoid => "Sigmoid",
        _ => "Softmax",
    };

    // ---------------------------------------------------------------- layout

    /// <summary>Checks that the layers form a chain whose tensors tile the parameter vector, and pairs each layer with its tensors.</summary>
    private static Layout CheckLayout(int parameterCount, IReadOnlyList<TensorInfo> tensors, IReadOnlyList<LayerInfo> layers)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A network has at least one layer.", nameof(layers));
        }

        long offset = 0;
        var byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++)
        {
            TensorInfo tensor = tensors[i] ?? throw new ArgumentException($"Entry {i} of the tensor list is null.", nameof(tensors));
            if (tensor.Offset != offset || !byName.TryAdd(tensor.Name, tensor))
            {
                throw new ArgumentException($"Tensor {tensor.Name} repeats or does not start where the previous one ends ({offset}).", nameof(tensors));
            }

            offset += tensor.Length;
        }

        if (offset != parameterCount)
        {
            throw new ArgumentException($"The tensors cover {offset} values, but the parameter vector has {parameterCount}.", nameof(tensors));
        }

        var weights = new TensorInfo?[layers.Count];
        var biases = new TensorInfo?[layers.Count];
        var means = new TensorInfo?[layers.Count];
        var variances = new TensorInfo?[layers.Count];
        int used = 0;
        IReadOnlyList<int>? previous = null;
        for (int i = 0; i < layers.Count; i++)
        {
            LayerInfo layer = layers[i] ?? throw new ArgumentException($"Entry {i} of the layer list is null.", nameof(layers));
            if (previous is not null && !Same(previous, layer.InputShape) && !(layer.Kind == LayerKind.Dense && Product(previous) == Product(layer.InputShape)))
            {
                throw new ArgumentException($"Layer {layer.Name} reads {TensorInfo.Format(layer.InputShape)}, but the layer before writes {TensorInfo.Format(previous)}.", nameof(layers));
            }

            if (previous is null && layer.InputShape.Count != 3)
            {
                throw new ArgumentException($"The first layer {layer.Name} must read a [C,H,W] input.", nameof(layers));
            }

            previous = layer.OutputShape;
            if (layer.Kind is LayerKind.Pooling or LayerKind.GlobalAveragePool or LayerKind.Dropout)
            {
                continue;
            }

            if (layer.Kind == LayerKind.BatchNorm)
            {
                // γ, β, then the running statistics (state after the parameters) and the batch count, which is not exported.
                int[] channels = { layer.OutputShape[0] };
                weights[i] = Find(byName, layer.Weight!, channels, layer);
                biases[i] = Find(byName, layer.Bias!, channels, layer);
                means[i] = Find(byName, RunningMean(layer), channels, layer);
                variances[i] = Find(byName, RunningVar(layer), channels, layer);
                TensorInfo count = Find(byName, BatchesTracked(layer), Array.Empty<int>(), layer);
                if (count.ElementType != TensorElementType.Int64 || count.Length != 1)
                {
                    throw new ArgumentException($"Layer {layer.Name} needs tensor {count.Name} as one Int64 value.", nameof(tensors));
                }

                used += 5;
                continue;
            }

            int[] weightShape = layer.Kind == LayerKind.Convolution
                ? new[] { layer.OutputShape[0], layer.InputShape[0], layer.Kernel, layer.Kernel }
                : new[] { layer.OutputShape[0], Product(layer.InputShape) };
            weights[i] = Find(byName, layer.Weight!, weightShape, layer);
            biases[i] = Find(byName, layer.Bias!, new[] { layer.OutputShape[0] }, layer);
            used += 2;
        }

        if (used != tensors.Count)
        {
            throw new ArgumentException($"The layers use {used} tensors, but the tensor list has {tensors.Count}.", nameof(layers));
        }

        return new Layout(layers, weights, biases, means, variances);
    }

    private static TensorInfo Find(Dictionary<string, TensorInfo> byName, string name, int[] shape, LayerInfo layer)
    {
        if (!byName.TryGetValue(name, out TensorInfo? tensor) || !Same(tensor.Shape, shape))
        {
            throw new ArgumentException($"Layer {layer.Name} needs tensor {name} {TensorInfo.Format(shape)}, which the tensor list does not hold.", "tensors");
        }

        return tensor;
    }

    private static bool Same(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }

    private static int Product(IReadOnlyList<int> shape)
    {
        int product = 1;
        foreach (int dimension in shape)
        {
            product *= dimension;
        }

        return product;
    }

    // ---------------------------------------------------------------- import

    /// <summary>Reads the whole stream, refusing more than <paramref name="limit"/> bytes before allocating them.</summary>
    private static byte[] ReadAll(Stream stream, long limit)
    {
        if (stream.CanSeek)
        {
            long remaining = Math.Max(0, stream.Length - stream.Position);
            if (remaining > limit)
            {
                throw new InvalidDataException($"the model is {remaining} bytes, more than the {limit} a model of this network can need");
            }

            byte[] bytes = new byte[remaining];
            int read = ReadFully(stream, bytes);
            if (read < bytes.Length)
            {
                throw new InvalidDataException($"the stream ended after {read} of its {remaining} bytes");
            }

            return bytes;
        }

        // Chunks of 16 KiB, then one array of the exact size: at most twice the file and one chunk.
        var chunks = new List<byte[]>();
        long total = 0;
        int last = 0;
        while (true)
        {
            byte[] chunk = new byte[Chunk];
            last = ReadFully(stream, chunk);
            total += last;
            if (total > limit)
            {
                throw new InvalidDataException($"the model is more than the {limit} bytes a model of this network can need");
            }

            chunks.Add(chunk);
            if (last < Chunk)
            {
                break;
            }
        }

        byte[] all = new byte[total];
        for (int i = 0; i < chunks.Count; i++)
        {
            int length = i == chunks.Count - 1 ? last : Chunk;
            chunks[i].AsSpan(0, length).CopyTo(all.AsSpan(i * Chunk));
        }

        return all;
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>The layers paired with their weight and bias tensors (null for layers without) and, for batch norms, their running statistics.</summary>
    private sealed record Layout(IReadOnlyList<LayerInfo> Layers, TensorInfo?[] Weights, TensorInfo?[] Biases, TensorInfo?[] Means, TensorInfo?[] Variances);

    /// <summary>One node's fields, as segments of the file.</summary>
    private struct NodeView
    {
        public Segment Whole;
        public Segment Name;
        public Segment OpType;
        public Segment Domain;
        public Segment FirstInput;
        public Segment FirstOutput;
        public int Inputs;
        public int Outputs;
        public bool Used;
    }

    /// <summary>Parses one model against one layout, into one buffer of the parameters' size.</summary>
    private sealed class Importer
    {
        private const int MaxDims = 8;

        private readonly byte[] _file;
        private readonly Layout _layout;
        private readonly float[] _values;
        private NodeView[] _nodes = Array.Empty<NodeView>();
        private Segment[] _initializers = Array.Empty<Segment>();
        private Segment[] _initializerNames = Array.Empty<Segment>();
        private Segment[] _inputs = Array.Empty<Segment>();
        private Segment[] _outputs = Array.Empty<Segment>();
        private long _opset = -1;

        public Importer(byte[] file, Layout layout, float[] values)
        {
            _file = file;
            _layout = layout;
            _values = values;
        }

        private int MaxNodes => 16 + (8 * _layout.Layers.Count);

        public void Run()
        {
            Segment graph = ReadModel();
            ReadGraph(graph);
            Segment current = CheckInput();
            IReadOnlyList<LayerInfo> layers = _layout.Layers;
            bool flat = false;
            for (int i = 0; i < layers.Count; i++)
            {
                LayerInfo layer = layers[i];
                switch (layer.Kind)
                {
                    case LayerKind.Convolution:
                        current = Conv(layer, _layout.Weights[i]!, _layout.Biases[i]!, current);
                        break;
                    case LayerKind.Pooling:
                        current = Pool(layer, current);
                        break;
                    case LayerKind.GlobalAveragePool:
                        current = GlobalAveragePool(layer, current);
                        break;
                    case LayerKind.Dropout:
                        current = Dropout(layer, current);
                        break;
                    case LayerKind.BatchNorm:
                        current = BatchNorm(layer, i, current);
                        break;
                    default:
                        current = Dense(layer, _layout.Weights[i]!, _layout.Biases[i]!, current, ref flat);
                        break;
                }

                current = ActivationNode(layer, current);
            }

            CheckEnd(layers[^1], current);
        }

        // ------------------------------------------------------------ model and graph

        private Segment ReadModel()
        {
            var reader = new ProtoReader(_file, new Segment(0, _file.Length), "model");
            Segment graph = default;
            bool hasGraph = false;
            long ir = -1;
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case ModelIrVersion:
                        ir = reader.ReadInt64();
                        break;
                    case ModelGraph:
                        if (hasGraph)
                        {
                            throw reader.Invalid("graph appears twice");
                        }

                        graph = reader.ReadSegment();
                        hasGraph = true;
                        break;
                    case ModelOpsetImport:
                        ReadOpset(reader.ReadSegment());
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (!hasGraph)
            {
                throw new InvalidDataException("model: no graph");
            }

            if (ir < 3)
            {
                throw new InvalidDataException($"model: ir_version {ir}, expected 3 or newer");
            }

            if (_opset < MinimumOpset)
            {
                throw new InvalidDataException(_opset < 0
                    ? "model: no opset_import for the default domain"
                    : $"model: opset {_opset}, expected {MinimumOpset} or newer");
            }

            return graph;
        }

        private void ReadOpset(Segment segment)
        {
            var reader = new ProtoReader(_file, segment, "opset_import");
            Segment domain = default;
            long version = -1;
            while (reader.Next())
            {
                if (reader.Field == OpsetDomain)
                {
                    domain = reader.ReadSegment();
                }
                else if (reader.Field == OpsetVersion)
                {
                    version = reader.ReadInt64();
                }
                else
                {
                    reader.Skip();
                }
            }

            if (IsDefaultDomain(domain))
            {
                if (_opset >= 0)
                {
                    throw reader.Invalid("the default domain is imported twice");
                }

                _opset = version < 0 ? 0 : version;
            }
        }

        private bool IsDefaultDomain(Segment domain) => domain.IsEmpty || Segments.Equals(_file, domain, "ai.onnx");

        private void ReadGraph(Segment graph)
        {
            int nodes = 0, initializers = 0, inputs = 0, outputs = 0;
            var reader = new ProtoReader(_file, graph, "graph");
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case GraphNode:
                        nodes++;
                        reader.ReadSegment();
                        break;
                    case GraphInitializer:
                        initializers++;
                        reader.ReadSegment();
                        break;
                    case GraphInput:
                        inputs++;
                        reader.ReadSegment();
                        break;
                    case GraphOutput:
                        outputs++;
                        reader.ReadSegment();
                        break;
                    case GraphSparseInitializer:
                        throw reader.Invalid("sparse initializers are not supported");
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (nodes > MaxNodes || initializers > MaxNodes || inputs > MaxNodes || outputs > MaxNodes)
            {
                throw new InvalidDataException($"graph: {nodes} nodes, {initializers} initializers, {inputs} inputs and {outputs} outputs; at most {MaxNodes} of each are expected for this network");
            }

            _nodes = new NodeView[nodes];
            _initializers = new Segment[initializers];
            _initializerNames = new Segment[initializers];
            _inputs = new Segment[inputs];
            _outputs = new Segment[outputs];
            nodes = initializers = inputs = outputs = 0;
            reader = new ProtoReader(_file, graph, "graph");
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case GraphNode:
                        _nodes[nodes] = ReadNode(reader.ReadSegment(), nodes);
                        nodes++;
                        break;
                    case GraphInitializer:
                        _initializers[initializers] = reader.ReadSegment();
                        _initializerNames[initializers] = TensorNameOf(_initializers[initializers]);
                        initializers++;
                        break;
                    case GraphInput:
                        _inputs[inputs++] = reader.ReadSegment();
                        break;
                    case GraphOutput:
                        _outputs[outputs++] = reader.ReadSegment();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        private NodeView ReadNode(Segment segment, int index)
        {
            var node = new NodeView { Whole = segment };
            var reader = new ProtoReader(_file, segment, string.Create(CultureInfo.InvariantCulture, $"node #{index}"));
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case NodeInput:
                        Segment input = reader.ReadSegment();
                        if (node.Inputs++ == 0)
                        {
                            node.FirstInput = input;
                        }

                        break;
                    case NodeOutput:
                        Segment output = reader.ReadSegment();
                        if (node.Outputs++ == 0)
                        {
                            node.FirstOutput = output;
                        }

                        break;
                    case NodeName:
                        node.Name = reader.ReadSegment();
                        break;
                    case NodeOpType:
                        node.OpType = reader.ReadSegment();
                        break;
                    case NodeDomain:
                        node.Domain = reader.ReadSegment();
                        break;
                    case NodeAttribute:
                        CheckAttribute(reader.ReadSegment(), index);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (node.Outputs == 0)
            {
                throw new InvalidDataException($"node #{index}: no output");
            }

            return node;
        }

        /// <summary>Walks an attribute once, packed runs included, so that every later read of it is known to be well-formed.</summary>
        private void CheckAttribute(Segment segment, int index)
        {
            var reader = new ProtoReader(_file, segment, string.Create(CultureInfo.InvariantCulture, $"node #{index} attribute"));
            while (reader.Next())
            {
                if (reader.Field == AttributeInts && reader.WireType == 2)
                {
                    Segment packed = reader.ReadSegment();
                    var inner = new ProtoReader(_file, packed, string.Create(CultureInfo.InvariantCulture, $"node #{index} attribute ints"));
                    inner.CheckVarints();
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        private Segment TensorNameOf(Segment tensor) => LastField(tensor, TensorName, "initializer");

        /// <summary>The last occurrence of length-delimited field <paramref name="field"/> in a message (protobuf's rule for a repeated scalar), or an empty segment.</summary>
        private Segment LastField(Segment message, int field, string context)
        {
            var reader = new ProtoReader(_file, message, context);
            Segment found = default;
            while (reader.Next())
            {
                if (reader.Field == field)
                {
                    found = reader.ReadSegment();
                }
                else
                {
                    reader.Skip();
                }
            }

            return found;
        }

        /// <summary>Finds the one graph input that is not an initializer and checks its type: float [N, C, H, W].</summary>
        private Segment CheckInput()
        {
            Segment found = default;
            int count = 0;
            foreach (Segment input in _inputs)
            {
                Segment name = ValueNameOf(input);
                if (FindInitializer(name) >= 0)
                {
                    continue;
                }

                found = input;
                count++;
            }

            if (count != 1)
            {
                throw new InvalidDataException($"graph: {count} inputs besides the initializers, expected 1");
            }

            IReadOnlyList<int> shape = _layout.Layers[0].InputShape;
            Span<long> expected = stackalloc long[4] { -1, shape[0], shape[1], shape[2] };
            Segment inputName = ValueNameOf(found);
            CheckValueType(found, expected, $"input {Segments.Quote(_file, inputName)}");
            return inputName;
        }

        private Segment ValueNameOf(Segment value) => LastField(value, ValueName, "value_info");

        /// <summary>Checks a value's element type (float) and, where the file states them, its dimensions (-1: any).</summary>
        private void CheckValueType(Segment value, ReadOnlySpan<long> expected, string what)
        {
            var reader = new ProtoReader(_file, value, what);
            while (reader.Next())
            {
                if (reader.Field != ValueType)
                {
                    reader.Skip();
                    continue;
                }

                var type = new ProtoReader(_file, reader.ReadSegment(), what);
                while (type.Next())
                {
                    if (type.Field != TypeTensor)
                    {
                        throw type.Invalid($"type is not a tensor (field {type.Field}), expected a float tensor");
                    }

                    var tensor = new ProtoReader(_file, type.ReadSegment(), what);
                    while (tensor.Next())
                    {
                        if (tensor.Field == TensorTypeElem)
                        {
                            long elem = tensor.ReadInt64();
                            if (elem != DataTypeFloat)
                            {
                                throw tensor.Invalid($"elem_type {elem}, expected {DataTypeFloat} (FLOAT)");
                            }
                        }
                        else if (tensor.Field == TensorTypeShape)
                        {
                            CheckShape(tensor.ReadSegment(), expected, what);
                        }
                        else
                        {
                            tensor.Skip();
                        }
                    }
                }
            }
        }

        private void CheckShape(Segment shape, ReadOnlySpan<long> expected, string what)
        {
            Span<long> found = stackalloc long[MaxDims];
            int count = 0;
            var reader = new ProtoReader(_file, shape, what);
            while (reader.Next())
            {
                if (reader.Field != ShapeDim)
                {
                    reader.Skip();
                    continue;
                }

                if (count >= MaxDims)
                {
                    throw reader.Invalid($"shape has more than {MaxDims} dimensions, expected {Format(expected)}");
                }

                long dimension = -1;
                var dim = new ProtoReader(_file, reader.ReadSegment(), what);
                while (dim.Next())
                {
                    if (dim.Field == DimValue)
                    {
                        dimension = dim.ReadInt64();
                    }
                    else
                    {
                        dim.Skip();
                    }
                }

                found[count++] = dimension;
            }

            bool same = count == expected.Length;
            for (int i = 0; same && i < count; i++)
            {
                same = expected[i] < 0 || found[i] < 0 || expected[i] == found[i];
            }

            if (!same)
            {
                throw new InvalidDataException($"{what}: shape {Format(found[..count])}, expected {Format(expected)}");
            }
        }

        // ------------------------------------------------------------ the chain of nodes

        private string Label(int node)
        {
            NodeView view = _nodes[node];
            return view.Name.IsEmpty
                ? string.Create(CultureInfo.InvariantCulture, $"#{node} {Segments.Quote(_file, view.OpType)}")
                : Segments.Quote(_file, view.Name);
        }

        private InvalidDataException Mismatch(int node, LayerInfo layer, string message)
            => new($"node {Label(node)} ({layer.Name}): {message}");

        /// <summary>
        /// The one node that reads <paramref name="value"/>, after skipping Identity nodes and Pad nodes that pad
        /// nothing; -1 when nothing reads it.
        /// </summary>
        private int Consumer(ref Segment value, LayerInfo layer)
        {
            while (true)
            {
                int found = -1;
                for (int i = 0; i < _nodes.Length; i++)
                {
                    if (ReadsValue(i, value))
                    {
                        if (found >= 0)
                        {
                            throw new InvalidDataException($"value {Segments.Quote(_file, value)} ({layer.Name}) is read by two nodes, {Label(found)} and {Label(i)}; expected a chain");
                        }

                        found = i;
                    }
                }

                if (found < 0)
                {
                    return -1;
                }

                if (_nodes[found].Used)
                {
                    throw Mismatch(found, layer, "the graph loops back to this node");
                }

                if (IsOp(found, "Identity") || (IsOp(found, "Pad") && PadsNothing(found, layer)))
                {
                    _nodes[found].Used = true;
                    value = _nodes[found].FirstOutput;
                    continue;
                }

                return found;
            }
        }

        /// <summary>True when any input of node <paramref name="node"/> is <paramref name="value"/>.</summary>
        private bool ReadsValue(int node, Segment value)
        {
            if (_nodes[node].Inputs == 0)
            {
                return false;
            }

            var reader = new ProtoReader(_file, _nodes[node].Whole, "node");
            while (reader.Next())
            {
                if (reader.Field == NodeInput)
                {
                    if (Segments.Equals(_file, reader.ReadSegment(), value))
                    {
                        return true;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return false;
        }

        private bool IsOp(int node, string op)
            => Segments.Equals(_file, _nodes[node].OpType, op) && (_nodes[node].Domain.IsEmpty || Segments.Equals(_file, _nodes[node].Domain, "ai.onnx"));

        /// <summary>The next node, which must be one of the given operators.</summary>
        private int Expect(ref Segment value, LayerInfo layer, string op, string? alternative = null)
        {
            int node = Consumer(ref value, layer);
            if (node < 0)
            {
                throw new InvalidDataException($"value {Segments.Quote(_file, value)} ({layer.Name}) is read by no node, expected {op}");
            }

            if (!IsOp(node, op) && (alternative is null || !IsOp(node, alternative)))
            {
                throw Mismatch(node, layer, $"op_type {QuoteOp(node)}, expected {op}{(alternative is null ? "" : " or " + alternative)}");
            }

            if (!Segments.Equals(_file, FirstInput(node), value))
            {
                throw Mismatch(node, layer, $"reads {Segments.Quote(_file, value)} as input {InputIndex(node, value)}, expected input 0");
            }

            _nodes[node].Used = true;
            return node;
        }

        private string QuoteOp(int node)
        {
            string op = Segments.Quote(_file, _nodes[node].OpType);
            return _nodes[node].Domain.IsEmpty || Segments.Equals(_file, _nodes[node].Domain, "ai.onnx")
                ? op
                : $"{Segments.Quote(_file, _nodes[node].Domain)}.{op}";
        }

        private Segment FirstInput(int node) => _nodes[node].FirstInput;

        private int InputIndex(int node, Segment value)
        {
            int index = 0;
            var reader = new ProtoReader(_file, _nodes[node].Whole, "node");
            while (reader.Next())
            {
                if (reader.Field == NodeInput)
                {
                    if (Segments.Equals(_file, reader.ReadSegment(), value))
                    {
                        return index;
                    }

                    index++;
                }
                else
                {
                    reader.Skip();
                }
            }

            return -1;
        }

        private Segment Input(int node, int index)
        {
            int at = 0;
            var reader = new ProtoReader(_file, _nodes[node].Whole, "node");
            while (reader.Next())
            {
                if (reader.Field == NodeInput)
                {
                    Segment input = reader.ReadSegment();
                    if (at++ == index)
                    {
                        return input;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return default;
        }

        private void CheckCounts(int node, LayerInfo layer, int minimumInputs, int maximumInputs)
        {
            int inputs = _nodes[node].Inputs;
            if (inputs < minimumInputs || inputs > maximumInputs)
            {
                throw Mismatch(node, layer, minimumInputs == maximumInputs
                    ? $"{inputs} inputs, expected {minimumInputs}"
                    : $"{inputs} inputs, expected {minimumInputs} to {maximumInputs}");
            }
        }

        private Segment Conv(LayerInfo layer, TensorInfo weight, TensorInfo bias, Segment current)
        {
            int node = Expect(ref current, layer, "Conv");
            CheckCounts(node, layer, 3, 3);
            int k = layer.Kernel;
            CheckInts(node, layer, "kernel_shape", stackalloc long[] { k, k }, optional: true, defaultValue: k); // absent: taken from the weights, whose dims are checked
            CheckInts(node, layer, "strides", stackalloc long[] { layer.Stride, layer.Stride }, optional: true, defaultValue: 1);
            CheckInts(node, layer, "dilations", stackalloc long[] { 1, 1 }, optional: true, defaultValue: 1);
            CheckInt(node, layer, "group", 1, defaultValue: 1);
            CheckAutoPad(node, layer);
            CheckPads(node, layer, layer.Padding, ceilMode: 0);
            ReadWeights(node, layer, Input(node, 1), weight, transpose: false);
            ReadWeights(node, layer, Input(node, 2), bias, transpose: false);
            return _nodes[node].FirstOutput;
        }

        private Segment Pool(LayerInfo layer, Segment current)
        {
            string op = layer.Pooling == PoolKind.Max ? "MaxPool" : "AveragePool";
            int node = Expect(ref current, layer, op);
            CheckCounts(node, layer, 1, 1);
            int k = layer.Kernel;
            CheckInts(node, layer, "kernel_shape", stackalloc long[] { k, k }, optional: false);
            CheckInts(node, layer, "strides", stackalloc long[] { layer.Stride, layer.Stride }, optional: true, defaultValue: 1);
            CheckInts(node, layer, "dilations", stackalloc long[] { 1, 1 }, optional: true, defaultValue: 1);
            CheckAutoPad(node, layer);
            long ceil = ReadInt(node, layer, "ceil_mode", 0);
            if (ceil is not 0 and not 1)
            {
                throw Mismatch(node, layer, $"ceil_mode {ceil}, expected 0 or 1");
            }

            bool overhangs = CheckPads(node, layer, 0, (int)ceil);
            if (layer.Pooling == PoolKind.Average)
            {
                long include = ReadInt(node, layer, "count_include_pad", 0);
                if (include != 0 && overhangs)
                {
                    throw Mismatch(node, layer, $"count_include_pad {include}, expected 0: windows that hang over the edge average only the input they cover");
                }
            }

            return _nodes[node].FirstOutput;
        }

        private Segment GlobalAveragePool(LayerInfo layer, Segment current)
        {
            int node = Expect(ref current, layer, "GlobalAveragePool");
            CheckCounts(node, layer, 1, 1);
            return _nodes[node].FirstOutput;
        }

        // Dropout is the identity in the model (what Predict computes): torch.onnx.export in eval mode writes no node, and
        // LeNet.Gen writes an Identity only when the network ends with it. A Dropout or Identity node is accepted here.
        private Segment Dropout(LayerInfo layer, Segment current)
        {
            int node = Consumer(ref current, layer);
            if (node >= 0 && (IsOp(node, "Dropout") || IsOp(node, "Identity")))
            {
                node = Expect(ref current, layer, "Dropout", "Identity");
                return _nodes[node].FirstOutput;
            }

            return current;
        }

        /// <summary>
        /// A BatchNormalization node in inference mode: X, scale (γ), B (β), input_mean and input_var, one output,
        /// epsilon as the layer's. torch.onnx.export in eval mode may fold a batch norm into the Conv before it, which
        /// leaves no node to read the running statistics from: that is reported here, at the node found instead.
        /// </summary>
        private Segment BatchNorm(LayerInfo layer, int index, Segment current)
        {
            int next = Consumer(ref current, layer);
            if (next >= 0 && !IsOp(next, "BatchNormalization"))
            {
                throw Mismatch(next, layer, $"op_type {QuoteOp(next)}, expected BatchNormalization: the network keeps its batch norm separate, with running statistics, and a model whose batch norm was folded into the layer before (as torch.onnx.export does in eval mode, its default) cannot be split again; export with training=torch.onnx.TrainingMode.PRESERVE and the module in eval mode");
            }

            int node = Expect(ref current, layer, "BatchNormalization");
            CheckCounts(node, layer, 5, 5);
            if (_nodes[node].Outputs != 1)
            {
                throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{_nodes[node].Outputs} outputs, expected 1 (inference mode)"));
            }

            CheckInt(node, layer, "training_mode", 0, defaultValue: 0);
            CheckInt(node, layer, "spatial", 1, defaultValue: 1);
            CheckFloat(node, layer, "epsilon", (float)layer.Epsilon, defaultValue: 1e-5f);
            ReadWeights(node, layer, Input(node, 1), _layout.Weights[index]!, transpose: false);
            ReadWeights(node, layer, Input(node, 2), _layout.Biases[index]!, transpose: false);
            ReadWeights(node, layer, Input(node, 3), _layout.Means[index]!, transpose: false);
            ReadWeights(node, layer, Input(node, 4), _layout.Variances[index]!, transpose: false);
            return _nodes[node].FirstOutput;
        }

        private Segment Dense(LayerInfo layer, TensorInfo weight, TensorInfo bias, Segment current, ref bool flat)
        {
            int node = Consumer(ref current, layer);
            if (node >= 0 && (IsOp(node, "Flatten") || IsOp(node, "Reshape")))
            {
                node = Expect(ref current, layer, "Flatten", "Reshape");
                CheckFlatten(node, layer);
                current = _nodes[node].FirstOutput;
                flat = true;
            }
            else if (!flat)
            {
                if (node < 0)
                {
                    throw new InvalidDataException($"value {Segments.Quote(_file, current)} ({layer.Name}) is read by no node, expected Flatten or Reshape");
                }

                throw Mismatch(node, layer, $"op_type {QuoteOp(node)}, expected Flatten or Reshape");
            }

            node = Expect(ref current, layer, "Gemm");
            CheckCounts(node, layer, 3, 3);
            CheckFloat(node, layer, "alpha", 1f);
            CheckFloat(node, layer, "beta", 1f);
            CheckInt(node, layer, "transA", 0, defaultValue: 0);
            long transB = ReadInt(node, layer, "transB", 0);
            if (transB is not 0 and not 1)
            {
                throw Mismatch(node, layer, $"transB {transB}, expected 0 or 1");
            }

            ReadWeights(node, layer, Input(node, 1), weight, transpose: transB == 0);
            ReadWeights(node, layer, Input(node, 2), bias, transpose: false);
            return _nodes[node].FirstOutput;
        }

        private void CheckFlatten(int node, LayerInfo layer)
        {
            if (IsOp(node, "Flatten"))
            {
                CheckCounts(node, layer, 1, 1);
                long axis = ReadInt(node, layer, "axis", 1);
                if (axis != 1)
                {
                    throw Mismatch(node, layer, $"axis {axis}, expected 1");
                }

                return;
            }

            CheckCounts(node, layer, 2, 2);
            CheckInt(node, layer, "allowzero", 0, defaultValue: 0);
            Span<long> shape = stackalloc long[MaxDims];
            int count = ReadConstantInt64s(node, layer, Input(node, 1), shape);
            long features = Product(layer.InputShape);
            bool valid = count == 2
                && (shape[0] == -1 || shape[0] == 0)
                && (shape[1] == features || (shape[1] == -1 && shape[0] == 0));
            if (!valid)
            {
                throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"shape {Format(shape[..count])}, expected [-1,{features}] or [0,-1]"));
            }
        }

        private Segment ActivationNode(LayerInfo layer, Segment current)
        {
            if (layer.Activation == Activation.None)
            {
                return current;
            }

            string op = ActivationOp(layer.Activation);
            int node = Expect(ref current, layer, op);
            CheckCounts(node, layer, 1, 1);
            if (layer.Activation == Activation.Softmax)
            {
                long axis = ReadInt(node, layer, "axis", _opset >= 13 ? -1 : 1);
                if (axis != 1 && axis != -1)
                {
                    throw Mismatch(node, layer, $"axis {axis}, expected 1");
                }
            }

            return _nodes[node].FirstOutput;
        }

        private void CheckEnd(LayerInfo last, Segment current)
        {
            int next = Consumer(ref current, last);
            if (next >= 0)
            {
                throw Mismatch(next, last, $"op_type {QuoteOp(next)} follows the last layer, expected the graph output");
            }

            int outputs = 0;
            bool found = false;
            Span<long> expected = stackalloc long[1 + last.OutputShape.Count];
            expected[0] = -1;
            for (int i = 0; i < last.OutputShape.Count; i++)
            {
                expected[i + 1] = last.OutputShape[i];
            }

            foreach (Segment output in _outputs)
            {
                outputs++;
                if (Segments.Equals(_file, ValueNameOf(output), current))
                {
                    found = true;
                    CheckValueType(output, expected, $"output {Segments.Quote(_file, current)}");
                }
            }

            if (!found || outputs != 1)
            {
                throw new InvalidDataException($"graph: {outputs} outputs, expected 1, the value {Segments.Quote(_file, current)} that {last.Name} writes");
            }

            for (int i = 0; i < _nodes.Length; i++)
            {
                if (!_nodes[i].Used && !IsOp(i, "Constant"))
                {
                    throw new InvalidDataException($"node {Label(i)} ({QuoteOp(i)}) is not part of the network");
                }
            }
        }

        // ------------------------------------------------------------ attributes

        /// <summary>Finds the attribute with the given name; default when absent. Two attributes of one name are an error.</summary>
        private Segment Attribute(int node, LayerInfo layer, string name)
        {
            Segment found = default;
            bool seen = false;
            var reader = new ProtoReader(_file, _nodes[node].Whole, "node");
            while (reader.Next())
            {
                if (reader.Field != NodeAttribute)
                {
                    reader.Skip();
                    continue;
                }

                Segment attribute = reader.ReadSegment();
                var inner = new ProtoReader(_file, attribute, "attribute");
                while (inner.Next())
                {
                    if (inner.Field == AttributeName)
                    {
                        if (Segments.Equals(_file, inner.ReadSegment(), name))
                        {
                            if (seen)
                            {
                                throw Mismatch(node, layer, $"attribute {name} appears twice");
                            }

                            seen = true;
                            found = attribute;
                        }
                    }
                    else
                    {
                        inner.Skip();
                    }
                }
            }

            return seen && found.IsEmpty ? new Segment(found.Start, 0) : found;
        }

        private void CheckType(int node, LayerInfo layer, string name, Segment attribute, int expected)
        {
            var reader = new ProtoReader(_file, attribute, "attribute");
            while (reader.Next())
            {
                if (reader.Field == AttributeType)
                {
                    long type = reader.ReadInt64();
                    if (type != expected)
                    {
                        throw Mismatch(node, layer, $"attribute {name} has type {type}, expected {expected}");
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        private long ReadInt(int node, LayerInfo layer, string name, long defaultValue)
        {
            Segment attribute = Attribute(node, layer, name);
            if (attribute.IsEmpty)
            {
                return defaultValue;
            }

            CheckType(node, layer, name, attribute, AttributeTypeInt);
            long value = defaultValue;
            bool found = false;
            var reader = new ProtoReader(_file, attribute, "attribute");
            while (reader.Next())
            {
                if (reader.Field == AttributeInt)
                {
                    value = reader.ReadInt64();
                    found = true;
                }
                else
                {
                    reader.Skip();
                }
            }

            return found ? value : throw Mismatch(node, layer, $"attribute {name} holds no integer");
        }

        private void CheckInt(int node, LayerInfo layer, string name, long expected, long defaultValue)
        {
            long value = ReadInt(node, layer, name, defaultValue);
            if (value != expected)
            {
                throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{name} {value}, expected {expected}"));
            }
        }

        /// <summary>Checks a FLOAT attribute; when absent, its default (null: anything is accepted) is checked instead.</summary>
        private void CheckFloat(int node, LayerInfo layer, string name, float expected, float? defaultValue = null)
        {
            Segment attribute = Attribute(node, layer, name);
            if (attribute.IsEmpty)
            {
                if (defaultValue is float absent && absent != expected)
                {
                    throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{name} absent (default {absent:R}), expected {expected:R}"));
                }

                return;
            }

            CheckType(node, layer, name, attribute, AttributeTypeFloat);
            float value = expected;
            var reader = new ProtoReader(_file, attribute, "attribute");
            while (reader.Next())
            {
                if (reader.Field == AttributeFloat)
                {
                    value = reader.ReadFloat();
                }
                else
                {
                    reader.Skip();
                }
            }

            if (value != expected)
            {
                throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{name} {value:R}, expected {expected:R}"));
            }
        }

        /// <summary>Reads an INTS attribute into <paramref name="values"/>; -1 when absent.</summary>
        private int ReadInts(int node, LayerInfo layer, string name, Span<long> values)
        {
            Segment attribute = Attribute(node, layer, name);
            if (attribute.IsEmpty)
            {
                return -1;
            }

            CheckType(node, layer, name, attribute, AttributeTypeInts);
            int count = 0;
            var reader = new ProtoReader(_file, attribute, $"attribute {name}");
            while (reader.Next())
            {
                if (reader.Field == AttributeInts)
                {
                    reader.ReadInt64s(values, ref count, name);
                }
                else
                {
                    reader.Skip();
                }
            }

            return count;
        }

        private void CheckInts(int node, LayerInfo layer, string name, ReadOnlySpan<long> expected, bool optional, long defaultValue = 0)
        {
            Span<long> found = stackalloc long[MaxDims];
            int count = ReadInts(node, layer, name, found);
            if (count < 0)
            {
                if (!optional)
                {
                    throw Mismatch(node, layer, $"no {name}, expected {Format(expected)}");
                }

                count = expected.Length;
                found[..count].Fill(defaultValue);
            }

            if (!found[..count].SequenceEqual(expected))
            {
                throw Mismatch(node, layer, $"{name} {Format(found[..count])}, expected {Format(expected)}");
            }
        }

        private void CheckAutoPad(int node, LayerInfo layer)
        {
            Segment attribute = Attribute(node, layer, "auto_pad");
            if (attribute.IsEmpty)
            {
                return;
            }

            CheckType(node, layer, "auto_pad", attribute, AttributeTypeString);
            var reader = new ProtoReader(_file, attribute, "attribute auto_pad");
            while (reader.Next())
            {
                if (reader.Field == AttributeString)
                {
                    Segment value = reader.ReadSegment();
                    if (!Segments.Equals(_file, value, "NOTSET"))
                    {
                        throw Mismatch(node, layer, $"auto_pad {Segments.Quote(_file, value)}, expected NOTSET");
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        /// <summary>
        /// Checks the pads (and, for pooling, ceil_mode) against the layer: the leading pads must be the layer's
        /// padding, and the trailing pads with the rounding mode must give the layer's output size. Returns whether
        /// the last window hangs over the input's edge.
        /// </summary>
        private bool CheckPads(int node, LayerInfo layer, int padding, int ceilMode)
        {
            Span<long> pads = stackalloc long[MaxDims];
            int count = ReadInts(node, layer, "pads", pads);
            if (count < 0)
            {
                count = 4;
                pads[..4].Clear();
            }

            Span<long> canonical = stackalloc long[] { padding, padding, layer.EndPadding(0), layer.EndPadding(1) };
            if (count != 4 || pads[0] != padding || pads[1] != padding || pads[2] < 0 || pads[3] < 0)
            {
                throw Mismatch(node, layer, $"pads {Format(pads[..count])}, expected {Format(canonical)}");
            }

            bool overhangs = false;
            for (int axis = 0; axis < 2; axis++)
            {
                long input = layer.InputShape[1 + axis];
                long span = input + padding + pads[2 + axis] - layer.Kernel;
                long size = span < 0 ? 0 : ceilMode == 0 ? (span / layer.Stride) + 1 : ((span + layer.Stride - 1) / layer.Stride) + 1;
                if (ceilMode == 1 && span >= 0 && (size - 1) * layer.Stride >= input + padding)
                {
                    size--; // a window that would start in the trailing padding is dropped
                }

                if (size != layer.OutputShape[1 + axis])
                {
                    string mode = layer.Kind == LayerKind.Pooling ? $" with ceil_mode {ceilMode}" : string.Empty;
                    throw Mismatch(node, layer, string.Create(
                        CultureInfo.InvariantCulture,
                        $"pads {Format(pads[..count])}{mode} give {(axis == 0 ? "height" : "width")} {size}, expected {layer.OutputShape[1 + axis]} (ShapeRounding.{layer.Rounding}: pads {Format(canonical)}{(layer.Kind == LayerKind.Pooling ? " with ceil_mode 0" : string.Empty)})"));
                }

                overhangs |= ((size - 1) * layer.Stride) + layer.Kernel > input + (2L * padding);
            }

            return overhangs;
        }

        // ------------------------------------------------------------ constants and weights

        /// <summary>A Pad node whose pads are all zero (PyTorch writes one before AveragePool with count_include_pad).</summary>
        private bool PadsNothing(int node, LayerInfo layer)
        {
            Span<long> pads = stackalloc long[MaxDims];
            int count;
            if (_nodes[node].Inputs >= 2)
            {
                count = ReadConstantInt64s(node, layer, Input(node, 1), pads);
            }
            else
            {
                count = ReadInts(node, layer, "pads", pads);
            }

            if (count < 0)
            {
                return false;
            }

            foreach (long pad in pads[..count])
            {
                if (pad != 0)
                {
                    return false;
                }
            }

            return true;
        }

        private int FindInitializer(Segment name)
        {
            if (name.IsEmpty)
            {
                return -1;
            }

            for (int i = 0; i < _initializers.Length; i++)
            {
                if (Segments.Equals(_file, _initializerNames[i], name))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>The TensorProto that a constant value comes from: an initializer, or a Constant node's value attribute.</summary>
        private Segment Constant(int node, LayerInfo layer, Segment name, out bool isInts)
        {
            isInts = false;
            int initializer = FindInitializer(name);
            if (initializer >= 0)
            {
                return _initializers[initializer];
            }

            for (int i = 0; i < _nodes.Length; i++)
            {
                if (IsOp(i, "Constant") && Segments.Equals(_file, _nodes[i].FirstOutput, name))
                {
                    _nodes[i].Used = true;
                    Segment attribute = Attribute(i, layer, "value");
                    if (!attribute.IsEmpty)
                    {
                        CheckType(i, layer, "value", attribute, AttributeTypeTensor);
                        var reader = new ProtoReader(_file, attribute, "attribute value");
                        while (reader.Next())
                        {
                            if (reader.Field == AttributeTensor)
                            {
                                return reader.ReadSegment();
                            }

                            reader.Skip();
                        }
                    }

                    attribute = Attribute(i, layer, "value_ints");
                    if (!attribute.IsEmpty)
                    {
                        isInts = true;
                        return attribute;
                    }

                    throw Mismatch(i, layer, "a Constant without a tensor value");
                }
            }

            throw Mismatch(node, layer, $"input {Segments.Quote(_file, name)} is neither an initializer nor a Constant");
        }

        private int ReadConstantInt64s(int node, LayerInfo layer, Segment name, Span<long> values)
        {
            Segment tensor = Constant(node, layer, name, out bool isInts);
            int count = 0;
            if (isInts)
            {
                var attribute = new ProtoReader(_file, tensor, "value_ints");
                while (attribute.Next())
                {
                    if (attribute.Field == AttributeInts)
                    {
                        attribute.ReadInt64s(values, ref count, "value_ints");
                    }
                    else
                    {
                        attribute.Skip();
                    }
                }

                return count;
            }

            Span<long> dims = stackalloc long[MaxDims];
            int rank = 0;
            long type = 0;
            Segment raw = default;
            bool hasRaw = false;
            var reader = new ProtoReader(_file, tensor, $"tensor {Segments.Quote(_file, name)}");
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case TensorDims:
                        reader.ReadInt64s(dims, ref rank, "dims");
                        break;
                    case TensorDataType:
                        type = reader.ReadInt64();
                        break;
                    case TensorInt64Data:
                        reader.ReadInt64s(values, ref count, $"tensor {Segments.Quote(_file, name)}");
                        break;
                    case TensorRawData:
                        raw = reader.ReadSegment();
                        hasRaw = true;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (type != DataTypeInt64)
            {
                throw Mismatch(node, layer, $"tensor {Segments.Quote(_file, name)} has data_type {type}, expected {DataTypeInt64} (INT64)");
            }

            if (hasRaw)
            {
                if (count != 0 || raw.Length % 8 != 0 || raw.Length / 8 > values.Length)
                {
                    throw Mismatch(node, layer, $"tensor {Segments.Quote(_file, name)} holds {raw.Length} raw bytes, expected at most {values.Length} int64 values");
                }

                for (int i = 0; i < raw.Length / 8; i++)
                {
                    values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(_file.AsSpan(raw.Start + (8 * i), 8));
                }

                count = raw.Length / 8;
            }

            long product = 1;
            for (int i = 0; i < rank; i++)
            {
                product = dims[i] is >= 0 and <= MaxDims ? product * dims[i] : long.MaxValue;
                product = Math.Min(product, long.MaxValue / (MaxDims + 1));
            }

            if (rank > 1 || product != count)
            {
                throw Mismatch(node, layer, $"tensor {Segments.Quote(_file, name)} has dims {Format(dims[..rank])} but {count} values, expected a vector");
            }

            return count;
        }

        /// <summary>Parses a float tensor into the private buffer at the destination tensor's place (transposing a [in, out] matrix).</summary>
        private void ReadWeights(int node, LayerInfo layer, Segment name, TensorInfo destination, bool transpose)
        {
            Segment tensor = Constant(node, layer, name, out bool isInts);
            string role = destination.Name == layer.Bias ? "bias"
                : destination.Name == layer.Weight ? (layer.Kind == LayerKind.BatchNorm ? "scale" : "weight")
                : destination.Name == RunningMean(layer) ? "input_mean" : "input_var";
            string what = $"{role} {Segments.Quote(_file, name)}";
            if (isInts)
            {
                throw Mismatch(node, layer, $"{what} is a list of integers, expected {destination.Name} {destination.ShapeText} as floats");
            }

            IReadOnlyList<int> shape = destination.Shape;
            Span<long> expected = stackalloc long[shape.Count];
            for (int i = 0; i < shape.Count; i++)
            {
                expected[i] = shape[i];
            }

            if (transpose)
            {
                expected.Reverse();
            }

            Span<long> dims = stackalloc long[MaxDims];
            int rank = 0;
            long type = 0, location = 0;
            Segment raw = default;
            bool hasRaw = false, external = false;
            int floats = 0;
            Span<float> target = _values.AsSpan(destination.Offset, destination.Length);

            // A [in, out] matrix (Gemm without transB) lands transposed, value by value: [out, in] as the parameters want.
            int fileRows = (int)expected[0], fileColumns = expected.Length > 1 ? (int)expected[1] : 1;
            int Place(int i) => transpose ? ((i % fileColumns) * fileRows) + (i / fileColumns) : i;
            var reader = new ProtoReader(_file, tensor, $"node {Label(node)} ({layer.Name}): {what}");
            while (reader.Next())
            {
                switch (reader.Field)
                {
                    case TensorDims:
                        reader.ReadInt64s(dims, ref rank, "dims");
                        break;
                    case TensorDataType:
                        type = reader.ReadInt64();
                        break;
                    case TensorRawData:
                        raw = reader.ReadSegment();
                        hasRaw = true;
                        break;
                    case TensorDataLocation:
                        location = reader.ReadInt64();
                        break;
                    case TensorExternalData:
                        external = true;
                        reader.Skip();
                        break;
                    case TensorSegment:
                        throw Mismatch(node, layer, $"{what} is split into segments, which is not supported");
                    case TensorFloatData:
                        if (reader.WireType == 2)
                        {
                            Segment packed = reader.ReadSegment();
                            if (packed.Length % 4 != 0 || (packed.Length / 4) > target.Length - floats)
                            {
                                throw Mismatch(node, layer, $"{what} holds more than {target.Length} values, or a partial one");
                            }

                            for (int i = 0; i < packed.Length / 4; i++)
                            {
                                target[Place(floats++)] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(_file.AsSpan(packed.Start + (4 * i), 4));
                            }
                        }
                        else
                        {
                            float value = reader.ReadFloat();
                            if (floats >= target.Length)
                            {
                                throw Mismatch(node, layer, $"{what} holds more than {target.Length} values");
                            }

                            target[Place(floats++)] = value;
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (type != DataTypeFloat)
            {
                throw Mismatch(node, layer, $"{what} has data_type {type}, expected {DataTypeFloat} (FLOAT)");
            }

            if (location != 0 || external)
            {
                throw Mismatch(node, layer, $"{what} is stored in an external file, expected the data inside the model");
            }

            if (!dims[..rank].SequenceEqual(expected))
            {
                throw Mismatch(node, layer, $"{what} dims {Format(dims[..rank])}, expected {Format(expected)}");
            }

            if (hasRaw)
            {
                if (floats != 0 || raw.Length != target.Length * 4L)
                {
                    throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{what} holds {raw.Length} raw bytes{(floats != 0 ? " and float_data" : string.Empty)}, expected {target.Length * 4L}"));
                }

                ReadOnlySpan<byte> bytes = _file.AsSpan(raw.Start, raw.Length);
                for (int i = 0; i < target.Length; i++)
                {
                    target[Place(i)] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i, 4));
                }
            }
            else if (floats != target.Length)
            {
                throw Mismatch(node, layer, string.Create(CultureInfo.InvariantCulture, $"{what} holds {floats} values, expected {target.Length}"));
            }

        }

        private static string Format(ReadOnlySpan<long> values)
        {
            var text = new System.Text.StringBuilder("[");
            for (int i = 0; i < values.Length; i++)
            {
                text.Append(i == 0 ? "" : ",").Append(values[i].ToString(CultureInfo.InvariantCulture));
            }

            return text.Append(']').ToString();
        }
    }
}

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LeNet.Gen.Tests.Generated;
using Xunit;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>
/// [BatchNorm] in ONNX: a BatchNormalization node (inference mode) whose epsilon and tensors are checked on load; a
/// model that does not match is refused with the node, attribute and both values named, and nothing is written.
/// (Export through ONNX Runtime and the round trip of parameters and running statistics are in OnnxRuntimeTests,
/// whose cases include the batch-norm networks, trained a few steps first.)
/// </summary>
public sealed class OnnxBatchNormTests
{
    private const int GraphField = 7, NodeField = 1, NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeFloat = 2;

    [Fact]
    public void The_export_writes_batch_norm_before_the_activation_with_the_running_statistics_and_epsilon()
    {
        var model = ProtoTree.Parse(OnnxMembers.SaveToBytes(OnnxCase.Named(nameof(BatchNormNet)).Create(2)));
        List<ProtoField> graph = model.One(GraphField).Children!;
        var nodes = graph.Where(NodeField).Select(n => n.Children!).ToList();
        Assert.Equal(
            new[] { "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Tanh", "Flatten", "Gemm", "BatchNormalization", "Gemm", "Softmax" },
            nodes.Select(n => n.One(NodeOpType).String));

        List<ProtoField> bn2 = nodes.Single(n => n.One(NodeName).String == "bn2");
        Assert.Equal(new[] { "conv2", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var" }, bn2.Where(NodeInput).Select(f => f.String));
        Assert.Single(bn2.Where(NodeOutput));
        Assert.Equal(1e-3f, EpsilonOf(bn2));
        Assert.Equal(1e-5f, EpsilonOf(nodes.Single(n => n.One(NodeName).String == "bn1")));

        // num_batches_tracked is training bookkeeping: not an initializer (PyTorch does not export it either).
        var initializers = graph.Where(5).Select(t => t.Children!.One(8).String).ToArray();
        Assert.Contains("bn3.running_var", initializers);
        Assert.DoesNotContain(initializers, name => name.EndsWith("num_batches_tracked", StringComparison.Ordinal));
    }

    [Fact]
    public void A_tampered_epsilon_is_refused_naming_the_node_and_both_values_and_leaves_the_network_unchanged()
    {
        var model = ProtoTree.Parse(OnnxMembers.SaveToBytes(OnnxCase.Named(nameof(BatchNormNet)).Create(2)));
        List<ProtoField> bn2 = Nodes(model).Single(n => n.One(NodeName).String == "bn2");
        ProtoField epsilon = bn2.Where(NodeAttribute).Single(a => a.Children!.One(AttributeName).String == "epsilon");
        BinaryPrimitives.WriteSingleLittleEndian(epsilon.Children!.One(AttributeFloat).Bytes, 1e-5f);

        var error = RefusedWithoutChange(ProtoTree.Write(model));

        Assert.Contains("node bn2 (bn2): epsilon 1E-05, expected 0.001", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_epsilon_is_taken_as_the_ONNX_default_and_refused_where_the_layer_has_another()
    {
        var model = ProtoTree.Parse(OnnxMembers.SaveToBytes(OnnxCase.Named(nameof(BatchNormNet)).Create(2)));
        List<ProtoField> bn2 = Nodes(model).Single(n => n.One(NodeName).String == "bn2");
        bn2.RemoveAll(f => f.Number == NodeAttribute && f.Children!.One(AttributeName).String == "epsilon");

        var error = RefusedWithoutChange(ProtoTree.Write(model));

        Assert.Contains("node bn2 (bn2): epsilon absent (default 1E-05), expected 0.001", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_batch_norm_node_is_refused_naming_the_node_found_instead_and_leaves_the_network_unchanged()
    {
        // What torch.onnx.export leaves when it folds a batch norm into the Conv before it: Conv, then the activation.
        var model = ProtoTree.Parse(OnnxMembers.SaveToBytes(OnnxCase.Named(nameof(BatchNormNet)).Create(2)));
        List<ProtoField> graph = model.One(GraphField).Children!;
        graph.RemoveAll(f => f.Number == NodeField && f.Children!.One(NodeName).String == "bn1");
        List<ProtoField> relu = Nodes(model).Single(n => n.One(NodeOpType).String == "Relu");
        relu.Where(NodeInput).Single().Bytes = System.Text.Encoding.UTF8.GetBytes("conv1");

        var error = RefusedWithoutChange(ProtoTree.Write(model));

        Assert.Contains("node bn1_relu (bn1): op_type Relu, expected BatchNormalization", error.Message, StringComparison.Ordinal);
        Assert.Contains("folded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_running_variance_of_the_wrong_shape_is_refused_naming_the_tensor()
    {
        var model = ProtoTree.Parse(OnnxMembers.SaveToBytes(OnnxCase.Named(nameof(BatchNormNet)).Create(2)));
        List<ProtoField> graph = model.One(GraphField).Children!;
        List<ProtoField> variance = graph.Where(5).Select(t => t.Children!).Single(t => t.One(8).String == "bn1.running_var");
        ProtoField raw = variance.One(9);
        raw.Bytes = raw.Bytes[..^4];
        variance.One(1).Varint = 3;

        var error = RefusedWithoutChange(ProtoTree.Write(model));

        Assert.Contains("node bn1 (bn1): input_var bn1.running_var dims [3], expected [4]", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Loads the model into a trained network of another seed; it must throw and leave parameters and state as they were.</summary>
    private static InvalidDataException RefusedWithoutChange(byte[] file)
    {
        INetwork target = OnnxCase.Named(nameof(BatchNormNet)).Create(7);
        float[] parameters = target.Parameters.ToArray();
        float[] state = OnnxMembers.State(target).ToArray();

        var error = Assert.Throws<InvalidDataException>(() => OnnxMembers.Load(target, new MemoryStream(file)));

        Assert.Equal(parameters, target.Parameters.ToArray());
        Assert.Equal(state, OnnxMembers.State(target).ToArray());
        return error;
    }

    private static IEnumerable<List<ProtoField>> Nodes(List<ProtoField> model)
        => model.One(GraphField).Children!.Where(NodeField).Select(n => n.Children!);

    private static float EpsilonOf(List<ProtoField> node)
    {
        ProtoField epsilon = node.Where(NodeAttribute).Single(a => a.Children!.One(AttributeName).String == "epsilon");
        return BinaryPrimitives.ReadSingleLittleEndian(epsilon.Children!.One(AttributeFloat).Bytes);
    }
}

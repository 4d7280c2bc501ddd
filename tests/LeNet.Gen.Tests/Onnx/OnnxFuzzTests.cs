using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using LeNet.Gen.Onnx;
using LeNet.Gen.Tests.Generated;
using LeNet.Gen.Tests.IO;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>
/// Feeds thousands of mutated LeNet-5 ONNX models to <see cref="OnnxModel.Load(Stream, IReadOnlyList{TensorInfo}, IReadOnlyList{LayerInfo}, Span{float})"/>.
/// Every mutation knows its verdict: it loads exactly the values its bytes hold, or it is rejected with an
/// InvalidDataException and the destination untouched, or (random structure bytes, whose meaning the test cannot
/// foresee) one of the two with the original values. No other exception may escape, and no load may allocate more
/// than the file (twice for a stream that cannot seek, read in chunks) plus the model plus a small constant. The same
/// harness run on deliberately broken readers must report them.
/// </summary>
public sealed class OnnxFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 10_000;
    private const int ModelBytes = LeNet5.ParameterCount * 4;

    /// <summary>
    /// What a load may allocate beyond the file and the model: the unused tail of the last 16 KiB chunk when the stream
    /// cannot seek, bookkeeping of a few dozen nodes, an exception and its message. Measured worst: about 31 KiB.
    /// </summary>
    private const long AllocationSlack = 48 * 1024;

    // onnx.proto field numbers.
    private const int ModelIr = 1, ModelGraph = 7, ModelOpset = 8, OpsetVersion = 2, OpsetDomain = 1;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOp = 4, NodeAttribute = 5;
    private const int AttrName = 1, AttrF = 2, AttrI = 3, AttrS = 4, AttrT = 5, AttrInts = 8, AttrType = 20;
    private const int TensorDims = 1, TensorType = 2, TensorFloats = 4, TensorName = 8, TensorRaw = 9, TensorLocation = 14;

    private static readonly float[] Values = OnnxRuntimeTests.RandomSigned(LeNet5.ParameterCount, seed: 5);
    private static readonly byte[] Valid = MakeValid();

    private delegate void Loader(Stream stream, float[] destination);

    private enum Verdict
    {
        Loads,
        Rejected,
        Unforeseen,
    }

    private sealed record Mutation(string Kind, byte[] File, Verdict Verdict, float[]? Expected);

    [Fact]
    public void Mutated_models_load_their_own_values_or_are_rejected_cleanly_within_the_allocation_bound()
    {
        var clock = Stopwatch.StartNew();
        var (failures, loaded, rejected, worst) = Fuzz(Cases, 70_117, (stream, destination) => OnnxModel.Load(stream, LeNet5.Tensors, LeNet5.Layers, destination));

        foreach (string kind in loaded.Keys.Union(rejected.Keys).OrderBy(k => k, StringComparer.Ordinal))
        {
            output.WriteLine($"{kind,-34} loaded {loaded.GetValueOrDefault(kind),5}  rejected {rejected.GetValueOrDefault(kind),5}");
        }

        output.WriteLine($"{Cases} files in {clock.Elapsed.TotalSeconds:F1} s: {loaded.Values.Sum()} loaded, {rejected.Values.Sum()} rejected; worst allocation beyond the bound's file + model: {worst} bytes");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        Assert.Equal(Cases, loaded.Values.Sum() + rejected.Values.Sum());
        Assert.True(loaded.GetValueOrDefault("weight bytes") > 1000, "too few weight-byte mutations");
        Assert.True(loaded.Keys.Count(k => k.StartsWith("valid:", StringComparison.Ordinal)) >= 10, "too few kinds of valid rewrites");
        Assert.True(rejected.Keys.Count(k => k.StartsWith("invalid:", StringComparison.Ordinal)) >= 20, "too few kinds of invalid rewrites");
        Assert.True(loaded.GetValueOrDefault("structure bytes") > 0 && rejected.GetValueOrDefault("structure bytes") > 0, "structure-byte mutations all went one way");
    }

    public static IEnumerable<object[]> BrokenReaders() => new[]
    {
        new object[] { "writes before checking" },
        new object[] { "skips the stride check" },
        new object[] { "lets another exception escape" },
        new object[] { "copies the file" },
        new object[] { "ignores trailing bytes of the weights" },
    };

    [Theory]
    [MemberData(nameof(BrokenReaders))]
    public void A_deliberately_broken_reader_fails_the_harness(string broken)
    {
        Loader loader = broken switch
        {
            "writes before checking" => (stream, destination) =>
            {
                destination[0] = 0.5f; // a reader that starts filling in the weights before the model is checked
                OnnxModel.Load(stream, LeNet5.Tensors, LeNet5.Layers, destination);
            },
            "skips the stride check" => (stream, destination) =>
            {
                try
                {
                    OnnxModel.Load(stream, LeNet5.Tensors, LeNet5.Layers, destination);
                }
                catch (InvalidDataException e) when (e.Message.Contains("strides", StringComparison.Ordinal))
                {
                    Values.CopyTo(destination, 0); // accepts the model anyway
                }
            },
            "lets another exception escape" => (stream, destination) =>
            {
                try
                {
                    OnnxModel.Load(stream, LeNet5.Tensors, LeNet5.Layers, destination);
                }
                catch (InvalidDataException e) when (e.Message.Contains("truncated", StringComparison.Ordinal))
                {
                    throw new ArgumentOutOfRangeException("length", e.Message); // as an unchecked length read would
                }
            },
            "copies the file" => (stream, destination) =>
            {
                byte[] file = ReadAll(stream);
                byte[] copy = file.ToArray(); // a second and third copy of the file
                OnnxModel.Load(new MemoryStream(copy.ToArray()), LeNet5.Tensors, LeNet5.Layers, destination);
            },
            _ => (stream, destination) =>
            {
                try
                {
                    OnnxModel.Load(stream, LeNet5.Tensors, LeNet5.Layers, destination);
                }
                catch (InvalidDataException e) when (e.Message.Contains("raw bytes", StringComparison.Ordinal))
                {
                    Values.CopyTo(destination, 0); // shrugs off a weight tensor of the wrong size
                }
            },
        };

        var (failures, _, _, _) = Fuzz(2_000, 70_117, loader);

        output.WriteLine($"{broken}: {failures.Count} failures, e.g. {failures.FirstOrDefault()}");
        Assert.NotEmpty(failures);
    }

    private static (List<string> Failures, Dictionary<string, int> Loaded, Dictionary<string, int> Rejected, long Worst) Fuzz(int cases, int seed, Loader loader)
    {
        var random = new Random(seed);
        var failures = new List<string>();
        var loaded = new Dictionary<string, int>();
        var rejected = new Dictionary<string, int>();
        float[] destination = new float[LeNet5.ParameterCount];
        long worst = long.MinValue;
        for (int i = 0; i < cases && failures.Count < 20; i++)
        {
            Mutation mutation = Mutate(random);
            bool seekable = random.Next(4) != 0;
            Stream stream = seekable ? new MemoryStream(mutation.File, writable: false) : new NonSeekableStream(mutation.File, maxRead: 1024 + (mutation.File.Length % 70_000));
            destination.AsSpan().Fill(float.NaN);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try
            {
                loader(stream, destination);
            }
            catch (Exception exception)
            {
                error = exception;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            string where = $"case {i} ({mutation.Kind}, {(seekable ? "seekable" : "not seekable")}, {mutation.File.Length} bytes)";
            if (error is not null && error is not InvalidDataException)
            {
                failures.Add($"{where}: {error.GetType().Name} escaped: {error.Message}");
                continue;
            }

            if (error is null)
            {
                if (mutation.Verdict == Verdict.Rejected)
                {
                    failures.Add($"{where}: loaded a model that must be rejected");
                }
                else if (!destination.AsSpan().SequenceEqual(mutation.Expected ?? Values))
                {
                    failures.Add($"{where}: the loaded values differ from what the file holds");
                }

                loaded[mutation.Kind] = loaded.GetValueOrDefault(mutation.Kind) + 1;
            }
            else
            {
                if (mutation.Verdict == Verdict.Loads)
                {
                    failures.Add($"{where}: rejected a valid model: {error.Message}");
                }

                if (!destination.All(float.IsNaN))
                {
                    failures.Add($"{where}: the destination was written before rejecting: {error.Message}");
                }

                rejected[mutation.Kind] = rejected.GetValueOrDefault(mutation.Kind) + 1;
            }

            long slack = allocated - ((seekable ? 1 : 2) * (long)mutation.File.Length) - ModelBytes;
            worst = Math.Max(worst, slack);
            if (slack > AllocationSlack)
            {
                failures.Add($"{where}: allocated {allocated} bytes, more than {(seekable ? "" : "2 × ")}file + model + {AllocationSlack}");
            }
        }

        return (failures, loaded, rejected, worst);
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] MakeValid()
    {
        var network = new LeNet5(1);
        Values.CopyTo(network.Parameters);
        return OnnxMembers.SaveToBytes(network);
    }

    /// <summary>Where each tensor's raw bytes lie in <see cref="Valid"/>.</summary>
    private static readonly (int Start, TensorInfo Tensor)[] RawRanges = LeNet5.Tensors
        .Select(t => (Valid.AsSpan().IndexOf(MemoryMarshal.AsBytes(Values.AsSpan(t.Offset, t.Length))), t))
        .ToArray();

    private static Mutation Mutate(Random random)
    {
        int roll = random.Next(100);
        if (roll < 15)
        {
            byte[] file = (byte[])Valid.Clone();
            float[] expected = (float[])Values.Clone();
            int flips = 1 + random.Next(16);
            for (int i = 0; i < flips; i++)
            {
                var (start, tensor) = RawRanges[random.Next(RawRanges.Length)];
                int at = random.Next(tensor.Length * 4);
                file[start + at] ^= (byte)(1 + random.Next(255));
                int index = at / 4;
                expected[tensor.Offset + index] = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(start + (4 * index)));
            }

            return new Mutation("weight bytes", file, Verdict.Loads, expected);
        }

        if (roll < 35)
        {
            byte[] file = (byte[])Valid.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++)
            {
                int at;
                do
                {
                    at = random.Next(file.Length);
                }
                while (RawRanges.Any(r => at >= r.Start && at < r.Start + (r.Tensor.Length * 4)));

                file[at] = random.Next(2) == 0 ? (byte)(file[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
            }

            return new Mutation("structure bytes", file, Verdict.Unforeseen, null);
        }

        if (roll < 40)
        {
            return new Mutation("truncate", Valid[..random.Next(Valid.Length)], Verdict.Rejected, null);
        }

        if (roll < 45)
        {
            byte[] tail = new byte[1 + random.Next(random.Next(2) == 0 ? 8 : 4000)];
            random.NextBytes(tail);
            return new Mutation("extend", Valid.Concat(tail).ToArray(), Verdict.Unforeseen, null);
        }

        var model = ProtoTree.Parse(Valid);
        if (random.Next(4) == 0)
        {
            int first = random.Next(13);
            string kinds = ValidRewrite(random, model, first);
            int second = new[] { 0, 3, 5, 11 }[random.Next(4)];
            if (second != first && random.Next(2) == 0)
            {
                kinds += " + " + ValidRewrite(random, model, second)["valid: ".Length..];
            }

            return new Mutation(kinds, ProtoTree.Write(model), Verdict.Loads, null);
        }

        if (random.Next(3) == 0)
        {
            ValidRewrite(random, model, new[] { 0, 3, 5, 9, 11 }[random.Next(5)]); // defects also in files that differ from the writer's form
        }

        string defect = InvalidRewrite(random, model);
        return new Mutation("invalid: " + defect, ProtoTree.Write(model), Verdict.Rejected, null);
    }

    private static List<ProtoField> Graph(List<ProtoField> model) => model.One(ModelGraph).Children!;

    private static List<List<ProtoField>> Nodes(List<ProtoField> model) => Graph(model).Where(GraphNode).Select(f => f.Children!).ToList();

    private static string Op(List<ProtoField> node) => node.One(NodeOp).String;

    private static List<ProtoField>? Attribute(List<ProtoField> node, string name)
        => node.Where(NodeAttribute).Select(f => f.Children!).FirstOrDefault(a => a.One(AttrName).String == name);

    private static List<ProtoField> NodeOf(Random random, List<ProtoField> model, params string[] ops)
    {
        var candidates = Nodes(model).Where(n => ops.Contains(Op(n))).ToList();
        return candidates[random.Next(candidates.Count)];
    }

    private static List<ProtoField> Tensor(Random random, List<ProtoField> model)
    {
        var tensors = Graph(model).Where(GraphInitializer).ToList();
        return tensors[random.Next(tensors.Count)].Children!;
    }

    private static ProtoField IntsAttribute(string name, params long[] values)
    {
        var fields = new List<ProtoField> { ProtoField.Text(AttrName, name) };
        fields.AddRange(values.Select(v => ProtoField.Int(AttrInts, v)));
        fields.Add(ProtoField.Int(AttrType, 7));
        return ProtoField.Message(NodeAttribute, fields);
    }

    private static ProtoField Unknown(Random random)
    {
        int number = 100 + random.Next(1000);
        return random.Next(4) switch
        {
            0 => ProtoField.Int(number, random.NextInt64()),
            1 => new ProtoField { Number = number, Wire = 1, Bytes = new byte[8] },
            2 => new ProtoField { Number = number, Wire = 5, Bytes = new byte[] { 1, 2, 3, 4 } },
            _ => new ProtoField { Number = number, Wire = 2, Bytes = new byte[random.Next(40)] },
        };
    }

    /// <summary>A change that keeps the model valid and its weights the same; returns its name.</summary>
    /// <remarks>Changes 0, 3, 5, 9 and 11 leave in place every field that another change or a defect may edit.</remarks>
    private static string ValidRewrite(Random random, List<ProtoField> model, int choice)
    {
        List<ProtoField> graph = Graph(model);
        switch (choice)
        {
            case 0:
                var shuffled = graph.OrderBy(_ => random.Next()).ToList();
                var nodes = graph.Where(GraphNode).ToList(); // nodes keep their order (a topological order)
                int n = 0;
                for (int i = 0; i < shuffled.Count; i++)
                {
                    if (shuffled[i].Number == GraphNode)
                    {
                        shuffled[i] = nodes[n++];
                    }
                }

                graph.Clear();
                graph.AddRange(shuffled);
                return "valid: shuffled graph fields";
            case 1:
            {
                List<ProtoField> tensor = Tensor(random, model);
                ProtoField raw = tensor.One(TensorRaw);
                tensor.Remove(raw);
                if (random.Next(2) == 0 || raw.Bytes.Length > 4000)
                {
                    tensor.Add(new ProtoField { Number = TensorFloats, Wire = 2, Bytes = raw.Bytes });
                    return "valid: packed float_data";
                }

                for (int i = 0; i < raw.Bytes.Length; i += 4)
                {
                    tensor.Add(new ProtoField { Number = TensorFloats, Wire = 5, Bytes = raw.Bytes[i..(i + 4)] });
                }

                return "valid: unpacked float_data";
            }

            case 2:
            {
                var initializers = graph.Where(GraphInitializer).ToList();
                var initializer = initializers[random.Next(initializers.Count)];
                graph.Remove(initializer);
                string name = initializer.Children!.One(TensorName).String;
                var value = ProtoField.Message(NodeAttribute, new List<ProtoField>
                {
                    ProtoField.Text(AttrName, "value"),
                    ProtoField.Message(AttrT, initializer.Children!),
                    ProtoField.Int(AttrType, 4),
                });
                graph.Insert(0, ProtoField.Message(GraphNode, new List<ProtoField> { ProtoField.Text(NodeOutput, name), ProtoField.Text(NodeName, "const_" + name), ProtoField.Text(NodeOp, "Constant"), value }));
                return "valid: weights in a Constant node";
            }

            case 3:
                AddUnknown(random, model, 1 + random.Next(5));
                return "valid: unknown fields";
            case 4:
            {
                var (op, name) = new[] { ("Conv", "dilations"), ("Conv", "group"), ("Conv", "kernel_shape"), ("Gemm", "alpha"), ("Gemm", "beta"), ("AveragePool", "ceil_mode"), ("AveragePool", "count_include_pad"), ("Flatten", "axis"), ("Softmax", "axis"), ("Conv", "strides") }[random.Next(10)];
                List<ProtoField> node = NodeOf(random, model, op);
                node.RemoveAll(f => f.Number == NodeAttribute && f.Children!.One(AttrName).String == name);
                return "valid: default attribute left out";
            }

            case 5:
                foreach (List<ProtoField> node in Nodes(model))
                {
                    node.RemoveAll(f => f.Number == NodeName);
                    if (random.Next(2) == 0)
                    {
                        node.Add(ProtoField.Text(NodeName, "/x/" + Op(node) + "_é" + random.Next(100)));
                    }
                }

                return "valid: node names";
            case 6:
                foreach (List<ProtoField> node in Nodes(model))
                {
                    foreach (ProtoField attribute in node.Where(NodeAttribute))
                    {
                        var ints = attribute.Children!.Where(AttrInts).ToList();
                        if (ints.Count > 0)
                        {
                            attribute.Children!.RemoveAll(f => f.Number == AttrInts);
                            using var packed = new MemoryStream();
                            foreach (ProtoField value in ints)
                            {
                                ulong v = value.Varint;
                                while (v >= 0x80)
                                {
                                    packed.WriteByte((byte)(v | 0x80));
                                    v >>= 7;
                                }

                                packed.WriteByte((byte)v);
                            }

                            attribute.Children!.Add(new ProtoField { Number = AttrInts, Wire = 2, Bytes = packed.ToArray() });
                        }
                    }
                }

                return "valid: packed ints";
            case 7:
                foreach (ProtoField value in graph.Where(GraphInput).Concat(graph.Where(GraphOutput)))
                {
                    value.Children!.RemoveAll(f => f.Number == 2);
                }

                return "valid: no value types";
            case 8:
            {
                // An Identity node spliced into the chain.
                var list = Nodes(model);
                List<ProtoField> node = list[random.Next(list.Count - 1)];
                ProtoField output = node.One(NodeOutput);
                string original = output.String;
                output.Bytes = System.Text.Encoding.UTF8.GetBytes(original + "_pre");
                graph.Insert(graph.IndexOf(graph.Where(GraphNode).First(f => f.Children == node)) + 1, ProtoField.Message(GraphNode, new List<ProtoField>
                {
                    ProtoField.Text(NodeInput, original + "_pre"), ProtoField.Text(NodeOutput, original), ProtoField.Text(NodeOp, "Identity"),
                }));
                return "valid: Identity node";
            }

            case 9:
            {
                List<ProtoField> softmax = NodeOf(random, model, "Softmax");
                Attribute(softmax, "axis")!.One(AttrI).Varint = unchecked((ulong)-1L);
                return "valid: softmax axis -1";
            }

            case 10:
            {
                // Flatten becomes Reshape to a constant shape, as torch's view() exports.
                List<ProtoField> flatten = NodeOf(random, model, "Flatten");
                flatten.One(NodeOp).Bytes = "Reshape"u8.ToArray();
                flatten.RemoveAll(f => f.Number == NodeAttribute);
                flatten.Insert(1, ProtoField.Text(NodeInput, "shape"));
                long[] shape = random.Next(2) == 0 ? new long[] { -1, 400 } : new long[] { 0, -1 };
                byte[] raw = shape.SelectMany(BitConverter.GetBytes).ToArray();
                graph.Add(ProtoField.Message(GraphInitializer, new List<ProtoField> { ProtoField.Int(TensorDims, 2), ProtoField.Int(TensorType, 7), ProtoField.Text(TensorName, "shape"), new ProtoField { Number = TensorRaw, Wire = 2, Bytes = raw } }));
                return "valid: Reshape";
            }

            case 11:
                model.One(ModelOpset).Children!.One(OpsetVersion).Varint = (ulong)(13 + random.Next(10));
                model.One(ModelIr).Varint = (ulong)(7 + random.Next(4));
                return "valid: newer opset";
            default:
            {
                // A Pad that pads nothing, as PyTorch writes before AveragePool.
                List<ProtoField> pool = NodeOf(random, model, "AveragePool");
                ProtoField input = pool.One(NodeInput);
                string original = input.String;
                input.Bytes = System.Text.Encoding.UTF8.GetBytes(original + "_padded");
                graph.Insert(0, ProtoField.Message(GraphNode, new List<ProtoField>
                {
                    ProtoField.Text(NodeInput, original), ProtoField.Text(NodeInput, original + "_pads"), ProtoField.Text(NodeOutput, original + "_padded"), ProtoField.Text(NodeOp, "Pad"),
                }));
                graph.Add(ProtoField.Message(GraphInitializer, new List<ProtoField> { ProtoField.Int(TensorDims, 8), ProtoField.Int(TensorType, 7), ProtoField.Text(TensorName, original + "_pads"), new ProtoField { Number = TensorRaw, Wire = 2, Bytes = new byte[64] } }));
                return "valid: zero Pad";
            }
        }
    }

    private static void AddUnknown(Random random, List<ProtoField> model, int count)
    {
        var messages = new List<List<ProtoField>> { model, Graph(model) };
        messages.AddRange(Nodes(model));
        messages.AddRange(Nodes(model).SelectMany(n => n.Where(NodeAttribute).Select(a => a.Children!)));
        messages.AddRange(Graph(model).Where(GraphInitializer).Select(t => t.Children!));
        for (int i = 0; i < count; i++)
        {
            List<ProtoField> target = messages[random.Next(messages.Count)];
            target.Insert(random.Next(target.Count + 1), Unknown(random));
        }
    }

    /// <summary>One defect that must be rejected; returns its name.</summary>
    private static string InvalidRewrite(Random random, List<ProtoField> model)
    {
        List<ProtoField> graph = Graph(model);
        switch (random.Next(26))
        {
            case 0:
            {
                var (op, name, index) = new[] { ("Conv", "strides", 0), ("Conv", "kernel_shape", 1), ("Conv", "pads", 0), ("Conv", "pads", 3), ("Conv", "dilations", 1), ("AveragePool", "strides", 1), ("AveragePool", "kernel_shape", 0), ("AveragePool", "pads", 1) }[random.Next(8)];
                List<ProtoField> node = NodeOf(random, model, op);
                ProtoField value = Attribute(node, name)!.Where(AttrInts).ElementAt(index);
                value.Varint = value.Varint + 1 + (ulong)random.Next(3);
                return $"{op} {name}";
            }

            case 1:
            {
                List<ProtoField> node = NodeOf(random, model, "Conv");
                Attribute(node, "group")!.One(AttrI).Varint = 2;
                return "group";
            }

            case 2:
            {
                List<ProtoField> node = NodeOf(random, model, "Conv", "AveragePool");
                node.Add(ProtoField.Message(NodeAttribute, new List<ProtoField> { ProtoField.Text(AttrName, "auto_pad"), ProtoField.Text(AttrS, "SAME_UPPER"), ProtoField.Int(AttrType, 3) }));
                return "auto_pad";
            }

            case 3:
            {
                List<ProtoField> node = NodeOf(random, model, "AveragePool");
                Attribute(node, "ceil_mode")!.One(AttrI).Varint = 2;
                return "ceil_mode";
            }

            case 4:
            {
                List<ProtoField> gemm = NodeOf(random, model, "Gemm");
                string name = new[] { "alpha", "beta" }[random.Next(2)];
                Attribute(gemm, name)!.One(AttrF).Bytes = BitConverter.GetBytes(0.5f);
                return "Gemm alpha or beta";
            }

            case 5:
            {
                List<ProtoField> gemm = NodeOf(random, model, "Gemm");
                if (random.Next(2) == 0)
                {
                    Attribute(gemm, "transB")!.One(AttrI).Varint = 0;
                }
                else
                {
                    gemm.Add(ProtoField.Message(NodeAttribute, new List<ProtoField> { ProtoField.Text(AttrName, "transA"), ProtoField.Int(AttrI, 1), ProtoField.Int(AttrType, 2) }));
                }

                return "Gemm transposition";
            }

            case 6:
            {
                var (from, to) = new[] { ("Relu", "Tanh"), ("Conv", "ConvTranspose"), ("AveragePool", "MaxPool"), ("Gemm", "MatMul"), ("Softmax", "LogSoftmax"), ("Flatten", "Identity") }[random.Next(6)];
                NodeOf(random, model, from).One(NodeOp).Bytes = System.Text.Encoding.UTF8.GetBytes(to);
                return "op_type";
            }

            case 7:
                Tensor(random, model).One(TensorType).Varint = new ulong[] { 10, 11, 7, 16, 0 }[random.Next(5)];
                return "data_type";
            case 8:
            {
                List<ProtoField> tensor = Tensor(random, model);
                var dims = tensor.Where(TensorDims).ToList();
                switch (random.Next(3))
                {
                    case 0: dims[random.Next(dims.Count)].Varint++; break;
                    case 1: tensor.Insert(0, ProtoField.Int(TensorDims, 1)); break;
                    default: tensor.Remove(dims[^1]); break;
                }

                return "dims";
            }

            case 9:
            {
                ProtoField raw = Tensor(random, model).One(TensorRaw);
                raw.Bytes = random.Next(2) == 0 ? raw.Bytes[..^4] : raw.Bytes.Concat(new byte[4]).ToArray();
                return "raw_data length";
            }

            case 10:
            {
                List<ProtoField> tensor = Tensor(random, model);
                tensor.Add(new ProtoField { Number = TensorFloats, Wire = 5, Bytes = new byte[4] });
                return "raw_data and float_data";
            }

            case 11:
                Tensor(random, model).Add(ProtoField.Int(TensorLocation, 1));
                return "external data";
            case 12:
                graph.Remove(graph.Where(GraphInitializer).ElementAt(random.Next(10)));
                return "missing initializer";
            case 13:
                graph.Remove(graph.Where(GraphNode).ElementAt(random.Next(graph.Count(f => f.Number == GraphNode))));
                return "missing node";
            case 14:
            {
                ProtoField node = graph.Where(GraphNode).ElementAt(random.Next(graph.Count(f => f.Number == GraphNode)));
                ProtoField copy = node.Clone();
                copy.Children!.One(NodeOutput).Bytes = "extra"u8.ToArray();
                graph.Insert(graph.IndexOf(node) + 1, copy);
                return "extra node";
            }

            case 15:
                if (random.Next(2) == 0)
                {
                    model.One(ModelOpset).Children!.One(OpsetVersion).Varint = (ulong)(7 + random.Next(4));
                }
                else
                {
                    model.One(ModelOpset).Children!.Add(ProtoField.Text(OpsetDomain, "com.microsoft"));
                }

                return "opset";
            case 16:
                if (random.Next(2) == 0)
                {
                    model.RemoveAll(f => f.Number == ModelGraph);
                }
                else
                {
                    model.Add(model.One(ModelGraph).Clone());
                }

                return "graph count";
            case 17:
            {
                var dims = graph.Where(GraphInput).First().Children!.One(2).Children!.One(1).Children!.One(2).Children!;
                dims[1 + random.Next(3)].Children!.One(1).Varint += 1;
                return "input shape";
            }

            case 18:
                if (random.Next(2) == 0)
                {
                    graph.Add(graph.Where(GraphOutput).First().Clone());
                }
                else
                {
                    graph.Where(GraphOutput).First().Children!.One(1).Bytes = "out"u8.ToArray();
                }

                return "graph outputs";
            case 19:
            {
                var list = Nodes(model);
                List<ProtoField> node = list[1 + random.Next(list.Count - 1)];
                node.Where(NodeInput).First().Bytes = "nowhere"u8.ToArray();
                return "broken chain";
            }

            case 20:
            {
                List<ProtoField> node = NodeOf(random, model, "Conv");
                node.Add(IntsAttribute("strides", 2, 2));
                return "repeated attribute";
            }

            case 21:
                graph.Add(ProtoField.Message(15, new List<ProtoField>()));
                return "sparse initializer";
            case 22:
                Attribute(NodeOf(random, model, "Conv"), "strides")!.One(AttrType).Varint = 2;
                return "attribute type";
            case 23:
                Attribute(NodeOf(random, model, "Softmax"), "axis")!.One(AttrI).Varint = 0;
                return "softmax axis";
            case 24:
            {
                // A varint field sent as a length-delimited one, or a group.
                List<ProtoField> tensor = Tensor(random, model);
                if (random.Next(2) == 0)
                {
                    ProtoField type = tensor.One(TensorType);
                    type.Wire = 2;
                    type.Bytes = new byte[] { 1 };
                }
                else
                {
                    tensor.Add(new ProtoField { Number = 200, Wire = 3 });
                }

                return "wire type";
            }

            default:
            {
                // Graph input type: not float.
                var tensorType = graph.Where(GraphInput).First().Children!.One(2).Children!.One(1).Children!;
                tensorType.One(1).Varint = 11;
                return "input elem_type";
            }
        }
    }
}

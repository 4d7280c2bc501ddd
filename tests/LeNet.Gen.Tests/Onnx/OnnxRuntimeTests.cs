using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>
/// Every test architecture, exported with SaveOnnx, runs in ONNX Runtime (an independent inference engine) and gives
/// what Predict gives; and the exported model reads back into a fresh network bit for bit.
/// </summary>
public sealed class OnnxRuntimeTests(ITestOutputHelper output)
{
    private const int Batch = 6;

    [Theory]
    [MemberData(nameof(OnnxCase.Data), MemberType = typeof(OnnxCase))]
    public void The_exported_model_runs_in_ONNX_Runtime_and_gives_what_Predict_gives(OnnxCase network)
    {
        INetwork model = network.Create(3);
        PerturbBiases(model);
        byte[] file = OnnxMembers.SaveToBytes(model);
        int[] inputShape = network.Layers[0].InputShape.ToArray();
        float[] inputs = RandomSigned(Batch * model.InputLength, seed: 4);

        using var session = new InferenceSession(file);
        NodeMetadata inputInfo = session.InputMetadata["input"];
        Assert.Equal(new[] { -1 }.Concat(inputShape), inputInfo.Dimensions);
        Assert.Equal("N", inputInfo.SymbolicDimensions[0]);
        Assert.Equal(new[] { "output" }, session.OutputMetadata.Keys);
        string summary = (string)model.GetType().GetField("Summary")!.GetValue(null)!;
        Assert.Equal(summary, session.ModelMetadata.Description);
        Assert.Equal(network.Name, session.ModelMetadata.GraphName);

        var tensor = new DenseTensor<float>(inputs, new[] { Batch }.Concat(inputShape).ToArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", tensor) });
        float[] actual = results.Single().AsEnumerable<float>().ToArray();
        Assert.Equal(Batch * model.OutputLength, actual.Length);

        var expected = new float[model.OutputLength];
        double worst = 0;
        for (int n = 0; n < Batch; n++)
        {
            model.Predict(inputs.AsSpan(n * model.InputLength, model.InputLength), expected);
            for (int k = 0; k < expected.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(actual[(n * model.OutputLength) + k] - expected[k]));
            }
        }

        output.WriteLine($"{network.Name}: {file.Length} bytes, largest difference from ONNX Runtime {worst:E2}");
        Assert.True(worst <= 1e-5, $"{network.Name}: largest difference from ONNX Runtime {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(OnnxCase.Data), MemberType = typeof(OnnxCase))]
    public void The_exported_model_loads_back_bit_for_bit(OnnxCase network)
    {
        INetwork source = network.Create(5);
        INetwork target = network.Create(6);
        Assert.False(source.Parameters.SequenceEqual(target.Parameters));

        // A batch count that differs from the source's, to see that loading leaves it alone.
        foreach (TensorInfo tensor in target.Tensors.Where(t => t.ElementType == TensorElementType.Int64))
        {
            OnnxMembers.State(target)[tensor.Offset - target.Parameters.Length] = 41;
        }

        float[] targetState = OnnxMembers.State(target).ToArray();

        OnnxMembers.Load(target, new MemoryStream(OnnxMembers.SaveToBytes(source)));

        Assert.True(source.Parameters.SequenceEqual(target.Parameters));

        // The running statistics come across too; num_batches_tracked is not in the file and stays as it was.
        var stateTensors = source.Tensors.Where(t => t.Offset >= source.Parameters.Length).ToArray();
        foreach (TensorInfo tensor in stateTensors)
        {
            int at = tensor.Offset - source.Parameters.Length;
            float[] loaded = OnnxMembers.State(target).Slice(at, tensor.Length).ToArray();
            float[] expected = tensor.ElementType == TensorElementType.Int64
                ? targetState.AsSpan(at, tensor.Length).ToArray()
                : OnnxMembers.State(source).Slice(at, tensor.Length).ToArray();
            Assert.True(expected.SequenceEqual(loaded), $"{tensor.Name}: [{string.Join(", ", loaded)}], expected [{string.Join(", ", expected)}]");
        }
    }

    /// <summary>Non-zero, varied biases, so that a bias misplaced in the graph cannot go unnoticed.</summary>
    private static void PerturbBiases(INetwork network)
    {
        var random = new Random(9);
        foreach (TensorInfo tensor in network.Tensors.Where(t => t.Name.EndsWith(".bias", StringComparison.Ordinal)))
        {
            foreach (ref float value in network.Parameters.Slice(tensor.Offset, tensor.Length))
            {
                value = (float)((random.NextDouble() * 0.6) - 0.3);
            }
        }
    }

    internal static float[] RandomSigned(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}

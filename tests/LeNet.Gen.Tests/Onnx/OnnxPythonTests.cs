using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using LeNet.Gen.Tests.Generated;
using LeNet.Gen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>
/// The exported models pass the ONNX checker (Debian's python3-onnx, full_check), and models that real PyTorch
/// (Debian's python3-torch 1.13, torch.onnx.export at opset 13) exports for the equivalent modules load with
/// LoadOnnx and give PyTorch's probabilities.
/// </summary>
public sealed class OnnxPythonTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lenet-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [RequiresFact(Tool.PyTorch, Tool.Onnx)]
    public void Every_exported_model_passes_the_ONNX_checker_with_full_check()
    {
        var paths = OnnxCase.All.Select(network =>
        {
            string path = Path.Combine(_folder, network.Name + ".onnx");
            File.WriteAllBytes(path, OnnxMembers.SaveToBytes(network.Create(1)));
            return (network, path);
        }).ToArray();

        string result = PythonTools.Run(output.WriteLine, new[] { "check" }.Concat(paths.Select(p => p.path)).ToArray());

        foreach (var (network, path) in paths)
        {
            string line = result.Split('\n').SingleOrDefault(l => l.StartsWith("ok " + path + " ", StringComparison.Ordinal))
                ?? throw new Xunit.Sdk.XunitException($"{network.Name}: the checker did not pass it\n{result}");
            Assert.Contains("opset 13 ", line);
            // Every tensor but num_batches_tracked (Int64 training bookkeeping, which PyTorch does not export either).
            string names = string.Join(",", network.Create(1).Tensors.Where(t => t.ElementType != TensorElementType.Int64).Select(t => t.Name));
            Assert.EndsWith("initializers " + names, line.TrimEnd());
        }
    }

    [RequiresTheory(Tool.PyTorch, Tool.Onnx)]
    [InlineData("lenet5", "plain")]
    [InlineData("padded", "plain")]
    [InlineData("padded", "inputs")]
    [InlineData("padded", "constants")]
    [InlineData("padded", "untransposed")]
    [InlineData("ceilpool", "plain")]
    [InlineData("bnnet", "preserve")]
    public void A_model_exported_by_PyTorch_loads_and_gives_PyTorchs_probabilities(string module, string form)
    {
        INetwork network = module switch
        {
            "lenet5" => new LeNet5(1),
            "padded" => new PaddedStrided(1),
            "bnnet" => new BatchNormNet(1),
            _ => new CeilingPooled(1),
        };
        float[] inputs = OnnxRuntimeTests.RandomSigned(16 * network.InputLength, seed: 21);
        float[] expected = Export(module, form, inputs, out string model);

        using (var file = File.OpenRead(model))
        {
            OnnxMembers.Load(network, file);
        }

        var probabilities = new float[network.OutputLength];
        double worst = 0;
        for (int n = 0; n < 16; n++)
        {
            network.Predict(inputs.AsSpan(n * network.InputLength, network.InputLength), probabilities);
            for (int k = 0; k < probabilities.Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(probabilities[k] - expected[(n * network.OutputLength) + k]));
            }
        }

        output.WriteLine($"{module} ({form}): largest difference from PyTorch's probabilities {worst:E2}");
        Assert.True(worst < 1e-5, $"largest difference {worst:E2}");
    }

    [RequiresFact(Tool.PyTorch, Tool.Onnx)]
    public void A_PyTorch_model_of_another_network_is_rejected_naming_PyTorchs_node_and_leaves_the_weights()
    {
        float[] inputs = OnnxRuntimeTests.RandomSigned(1024, seed: 22);
        Export("lenet5", "plain", inputs, out string model);
        var network = new LeNet5MaxTanh(2);
        float[] before = network.Parameters.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => network.LoadOnnx(model));

        output.WriteLine(error.Message);
        Assert.Equal($"{model}: node /Relu (conv1): op_type Relu, expected Tanh", error.Message);
        Assert.True(network.Parameters.SequenceEqual(before));
    }

    [RequiresFact(Tool.PyTorch, Tool.Onnx)]
    public void A_PyTorch_model_whose_batch_norm_was_folded_into_the_convolution_is_rejected_and_leaves_the_network()
    {
        // torch.onnx.export in eval mode (its default) folds BatchNorm2d into the Conv before it: no node holds the
        // running statistics any more, and the network's separate batch norm cannot be recovered from the folded weights.
        float[] inputs = OnnxRuntimeTests.RandomSigned(4 * BatchNormNet.InputLength, seed: 23);
        Export("bnnet", "plain", inputs, out string model);
        var network = new BatchNormNet(2);
        float[] before = network.Parameters.ToArray().Concat(network.State.ToArray()).ToArray();

        var error = Assert.Throws<InvalidDataException>(() => network.LoadOnnx(model));

        output.WriteLine(error.Message);
        Assert.StartsWith($"{model}: node /Relu (bn1): op_type Relu, expected BatchNormalization", error.Message, StringComparison.Ordinal);
        Assert.Contains("TrainingMode.PRESERVE", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, network.Parameters.ToArray().Concat(network.State.ToArray()).ToArray());
    }

    private float[] Export(string module, string form, float[] inputs, out string model)
    {
        model = Path.Combine(_folder, $"{module}-{form}.onnx");
        string inputPath = Path.Combine(_folder, "inputs.bin");
        string expectedPath = Path.Combine(_folder, "expected.bin");
        File.WriteAllBytes(inputPath, MemoryMarshal.AsBytes(inputs.AsSpan()).ToArray());
        PythonTools.Run(output.WriteLine, "export", module, form, model, inputPath, expectedPath);
        return MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(expectedPath)).ToArray();
    }
}

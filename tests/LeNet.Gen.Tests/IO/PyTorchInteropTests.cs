using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LeNet.Gen.Testing;
using LeNet.Gen.Tests.Generated;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.IO;

/// <summary>
/// Weights move between LeNet.Gen and real PyTorch (Debian's python3-torch; skipped with the install command where it is absent): weights saved by
/// the generated LeNet-5 load into the equivalent nn.Module with strict names and shapes and give the same
/// probabilities, and a PyTorch model's state_dict loads into the generated network and gives PyTorch's probabilities.
/// </summary>
public sealed class PyTorchInteropTests(ITestOutputHelper output) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _folder = Directory.CreateTempSubdirectory("lenet-torch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [RequiresFact(Tool.PyTorch)]
    public void Weights_saved_by_LeNet_Gen_give_the_same_probabilities_in_PyTorch()
    {
        var network = new LeNet5(11);
        var inputs = Numerics.RandomInputs(16, 1024, seed: 12);
        network.Train(inputs, Numerics.RandomLabels(16, 10, seed: 13), 0.05f); // not just the initial weights
        var probabilities = new float[16 * 10];
        for (int n = 0; n < 16; n++)
        {
            network.Predict(inputs.AsSpan(n * 1024, 1024), probabilities.AsSpan(n * 10, 10));
        }

        string weights = Path.Combine(_folder, "dotnet.safetensors");
        network.Save(weights);
        string result = RunPython("check", weights, WriteFloats("inputs.bin", inputs), WriteFloats("expected.bin", probabilities));

        double difference = double.Parse(Regex.Match(result, @"max_abs_difference (\S+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(difference < 1e-5, result);
        Assert.Contains("same_classes True", result);
    }

    [RequiresFact(Tool.PyTorch)]
    public void A_PyTorch_state_dict_loads_into_the_generated_network()
    {
        var inputs = Numerics.RandomInputs(16, 1024, seed: 14);
        string weights = Path.Combine(_folder, "torch.safetensors");
        string expectedPath = Path.Combine(_folder, "torch-probabilities.bin");
        RunPython("export", weights, WriteFloats("inputs.bin", inputs), expectedPath);
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(expectedPath)).ToArray();

        var network = new LeNet5(1);
        network.Load(weights);

        var probabilities = new float[10];
        double worst = 0;
        for (int n = 0; n < 16; n++)
        {
            network.Predict(inputs.AsSpan(n * 1024, 1024), probabilities);
            for (int k = 0; k < 10; k++)
            {
                worst = Math.Max(worst, Math.Abs(probabilities[k] - expected[(n * 10) + k]));
            }
        }

        output.WriteLine($"largest difference from PyTorch's probabilities: {worst:E2}");
        Assert.True(worst < 1e-5, $"largest difference {worst:E2}");
    }

    [RequiresFact(Tool.PyTorch)]
    public void A_batch_norm_network_saved_by_LeNet_Gen_gives_the_same_eval_probabilities_in_PyTorch()
    {
        var network = new BatchNormNet(11);
        var inputs = Numerics.RandomInputs(16, BatchNormNet.InputLength, seed: 12);
        var labels = Numerics.RandomLabels(16, BatchNormNet.OutputLength, seed: 13);
        for (int step = 0; step < 3; step++)
        {
            network.Train(inputs, labels, 0.05f); // running statistics away from 0 and 1, and 3 batches tracked
        }

        var probabilities = new float[16 * BatchNormNet.OutputLength];
        for (int n = 0; n < 16; n++)
        {
            network.Predict(inputs.AsSpan(n * BatchNormNet.InputLength, BatchNormNet.InputLength), probabilities.AsSpan(n * BatchNormNet.OutputLength, BatchNormNet.OutputLength));
        }

        string weights = Path.Combine(_folder, "dotnet-bn.safetensors");
        network.Save(weights);
        string result = RunPython("check-bn", weights, WriteFloats("inputs.bin", inputs), WriteFloats("expected.bin", probabilities));

        double difference = double.Parse(Regex.Match(result, @"max_abs_difference (\S+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(difference < 1e-5, result);
        Assert.Contains("same_classes True", result);
        Assert.Contains("num_batches_tracked torch.int64 [] 3 3", result);
    }

    [RequiresFact(Tool.PyTorch)]
    public void A_PyTorch_batch_norm_state_dict_with_running_statistics_loads_and_saves_back()
    {
        var inputs = Numerics.RandomInputs(16, BatchNormNet.InputLength, seed: 14);
        string weights = Path.Combine(_folder, "torch-bn.safetensors");
        string expectedPath = Path.Combine(_folder, "torch-bn-probabilities.bin");
        RunPython("export-bn", weights, WriteFloats("inputs.bin", inputs), expectedPath);
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(expectedPath)).ToArray();

        var network = new BatchNormNet(1);
        network.Load(weights);

        var state = network.State.ToArray();
        var tracked = BatchNormNet.Tensors.Single(t => t.Name == "bn2.num_batches_tracked");
        Assert.Equal(2f, state[tracked.Offset - BatchNormNet.ParameterCount]); // two train-mode batches in PyTorch
        var probabilities = new float[BatchNormNet.OutputLength];
        double worst = 0;
        for (int n = 0; n < 16; n++)
        {
            network.Predict(inputs.AsSpan(n * BatchNormNet.InputLength, BatchNormNet.InputLength), probabilities);
            for (int k = 0; k < BatchNormNet.OutputLength; k++)
            {
                worst = Math.Max(worst, Math.Abs(probabilities[k] - expected[(n * BatchNormNet.OutputLength) + k]));
            }
        }

        output.WriteLine($"largest difference from PyTorch's eval probabilities: {worst:E2}");
        Assert.True(worst < 1e-5, $"largest difference {worst:E2}");

        // Saved again, the file is what PyTorch wrote, value for value (the running statistics and counts included).
        string again = Path.Combine(_folder, "again.safetensors");
        network.Save(again);
        var copy = new BatchNormNet(99);
        copy.Load(again);
        Assert.Equal(network.Parameters.ToArray(), copy.Parameters.ToArray());
        Assert.Equal(network.State.ToArray(), copy.State.ToArray());
        string result = RunPython("check-bn", again, WriteFloats("inputs.bin", inputs), expectedPath);
        Assert.Contains("num_batches_tracked torch.int64 [] 2 2", result);
        double difference = double.Parse(Regex.Match(result, @"max_abs_difference (\S+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(difference < 1e-5, result);
    }

    private string WriteFloats(string name, float[] values)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        return path;
    }

    private string RunPython(params string[] arguments)
    {
        ExternalTools.Require(Tool.PyTorch);
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "IO", "lenet5_torch.py"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "python did not finish");
        output.WriteLine(stdout + stderr);
        Assert.True(process.ExitCode == 0, $"python failed ({process.ExitCode}); is python3-torch installed?\n{stdout}{stderr}");
        return stdout;
    }
}

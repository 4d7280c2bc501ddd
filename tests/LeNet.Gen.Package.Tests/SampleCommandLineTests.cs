using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace LeNet.Gen.Package.Tests;

/// <summary>
/// The sample's command line, as a user meets it: every bad option or bad file ends the program with one line on the
/// standard error and a non-zero exit code, never a stack trace.
/// </summary>
[Collection(PackingCollection.Name)]
public sealed class SampleCommandLineTests : IClassFixture<SampleCommandLineTests.BuiltSample>, IDisposable
{
    private readonly BuiltSample _sample;
    private readonly TempFolder _temp = new();

    public SampleCommandLineTests(BuiltSample sample) => _sample = sample;

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("--epochs", "-1")]
    [InlineData("--epochs", "ten")]
    [InlineData("--lr", "0")]
    [InlineData("--lr", "nan")]
    [InlineData("--lr", "abc")]
    [InlineData("--batch", "0")]
    [InlineData("--threads", "0")]
    [InlineData("--optimizer", "rmsprop")]
    [InlineData("--seed", "x")]
    [InlineData("--bogus", "1")]
    public async Task Bad_options_give_one_line_and_exit_code_2(string option, string value)
    {
        var result = await _sample.RunAsync(_temp.Path, option, value);

        Assert.Equal(2, result.ExitCode);
        AssertOneLineError(result);
    }

    [Fact]
    public async Task A_missing_data_folder_gives_one_line_and_exit_code_1()
    {
        var result = await _sample.RunAsync(_temp.Path, "--data", Path.Combine(_temp.Path, "no-such-folder"));

        Assert.Equal(1, result.ExitCode);
        AssertOneLineError(result);
        Assert.Contains("no-such-folder", result.Output);
    }

    [Fact]
    public async Task A_malformed_data_file_gives_one_line_and_exit_code_1()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_temp.Path, "bad-data")).FullName;
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            File.WriteAllBytes(Path.Combine(folder, name), new byte[] { 0, 0, 8, 3, 0, 0, 0, 9 }); // a header cut short
        }

        var result = await _sample.RunAsync(_temp.Path, "--data", folder);

        Assert.Equal(1, result.ExitCode);
        AssertOneLineError(result);
        Assert.Contains("train-images-idx3-ubyte", result.Output);
    }

    [Fact]
    public async Task Weights_that_do_not_fit_LeNet5_give_one_line_and_exit_code_1()
    {
        string weights = Path.Combine(_temp.Path, "small.safetensors");
        LeNet.Gen.IO.SafeTensors.Save(weights, new float[60], new[] { new TensorInfo("conv1.weight", 0, 6, 1, 3, 3), new TensorInfo("conv1.bias", 54, 6) });

        var result = await _sample.RunAsync(_temp.Path, "--epochs", "0", "--load", weights);

        Assert.Equal(1, result.ExitCode);
        AssertOneLineError(result);
        Assert.Contains("conv1.weight: shape [6,1,3,3], expected [6,1,5,5]", result.Output);
    }

    [Fact]
    public async Task A_file_that_is_not_safetensors_gives_one_line_and_exit_code_1()
    {
        string weights = Path.Combine(_temp.Path, "garbage.safetensors");
        File.WriteAllText(weights, "this is not a weights file");

        var result = await _sample.RunAsync(_temp.Path, "--epochs", "0", "--load", weights);

        Assert.Equal(1, result.ExitCode);
        AssertOneLineError(result);
    }

    [Fact]
    public async Task Help_describes_every_option()
    {
        var result = await _sample.RunAsync(_temp.Path, "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--data", "--epochs", "--batch", "--lr", "--optimizer", "--seed", "--threads", "--save", "--load", "--out" })
        {
            Assert.Contains(option, result.Output);
        }
    }

    private static void AssertOneLineError(ProcessResult result)
    {
        var errors = result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errors.Length == 1, "expected one line on the standard error:\n" + result);
        Assert.DoesNotContain("   at ", result.Output); // no stack trace
        Assert.DoesNotContain("Exception", result.Output);
    }

    /// <summary>Builds the sample once for all these tests.</summary>
    public sealed class BuiltSample
    {
        private readonly Lazy<Task<string>> _assembly = new(BuildAsync);

        public async Task<ProcessResult> RunAsync(string workingDirectory, params string[] arguments)
        {
            string assembly = await _assembly.Value;
            return await Cli.RunAsync("dotnet", new[] { assembly }.Concat(arguments), workingDirectory);
        }

        private static async Task<string> BuildAsync()
        {
            string output = Path.Combine(Path.GetTempPath(), "lenet-sample-cli-" + Guid.NewGuid().ToString("N"));
            var build = await Cli.DotnetAsync(Cli.RepositoryRoot, "build", "samples/LeNet.Mnist/LeNet.Mnist.csproj", "-c", "Release", "-o", output);
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException("the sample did not build:\n" + build);
            }

            return Path.Combine(output, "LeNet.Mnist.dll");
        }
    }
}

using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using LeNet.Gen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Package.Tests;

/// <summary>
/// The sample published with Native AOT: no trimming or AOT warning, and the native binary trains, saves, loads and
/// predicts. Reports the binary's size and its start-to-first-prediction time (not asserted: timings are not tests).
/// </summary>
[Collection(PackingCollection.Name)]
public sealed class NativeAotTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [RequiresFact(Tool.NativeAotLinker)]
    public async Task The_sample_publishes_with_native_AOT_without_warnings_and_the_binary_trains_and_predicts()
    {
        ExternalTools.Require(Tool.NativeAotLinker);
        string publish = Path.Combine(_temp.Path, "aot");
        var build = await Cli.DotnetAsync(Cli.RepositoryRoot, "publish", "samples/LeNet.Mnist/LeNet.Mnist.csproj", "-c", "Release", "-p:PublishAot=true", "-o", publish);
        output.WriteLine(build.ToString());
        Assert.True(build.ExitCode == 0, build.ToString());
        var warnings = build.Output.Split('\n').Where(l => Regex.IsMatch(l, @"warning (IL|AOT|CS|NETSDK)\d+")).Distinct().ToArray();
        Assert.True(warnings.Length == 0, "warnings:\n" + string.Join("\n", warnings));

        string binary = Path.Combine(publish, "LeNet.Mnist");
        Assert.True(File.Exists(binary), $"no native binary at {binary}");
        Assert.False(File.Exists(Path.Combine(publish, "LeNet.Mnist.dll")), "a managed assembly was published: this is not a native AOT build");
        output.WriteLine($"native binary: {new FileInfo(binary).Length / 1024.0 / 1024.0:F1} MB");

        string weights = Path.Combine(_temp.Path, "lenet5.safetensors");
        var train = await Cli.RunAsync(binary, new[] { "--epochs", "2", "--save", weights, "--out", Path.Combine(_temp.Path, "out") }, _temp.Path);
        output.WriteLine(train.ToString());
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.True(Accuracy(train) >= 95.0, train.ToString());
        Assert.True(File.Exists(weights));

        var predict = await Cli.RunAsync(binary, new[] { "--epochs", "0", "--load", weights, "--out", Path.Combine(_temp.Path, "out2") }, _temp.Path);
        output.WriteLine(predict.ToString());
        Assert.True(predict.ExitCode == 0, predict.ToString());
        Assert.Equal(Accuracy(train), Accuracy(predict));
        output.WriteLine($"start to the predictions of 2,000 test digits with loaded weights: {predict.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static double Accuracy(ProcessResult result)
    {
        string last = result.Output.TrimEnd().Split('\n')[^1];
        var match = Regex.Match(last, @"^test accuracy: (\d+\.\d\d)%$");
        Assert.True(match.Success, $"the last line is not the accuracy: '{last}'");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}

using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Package.Tests;

/// <summary>
/// The package on the oldest runtime it targets: a consumer of the packed LeNet.Gen built for <c>net8.0</c>
/// (self-contained, so it runs on the .NET 8 runtime from NuGet whatever runtimes the machine has) and for
/// <c>net10.0</c>. The same network, weights and inputs must give the same bits on both, and an input with one NaN
/// pixel must give NaN outputs on both, as IEEE arithmetic propagates it.
/// </summary>
/// <remarks>
/// This catches code whose meaning depends on the runtime version. It found one: <c>Vector256.Max</c> and
/// <c>Vector512.Max</c> keep a NaN only from .NET 9 on; on .NET 8 they are <c>a &gt; b ? a : b</c>. The vectorised max
/// pooling used them, so on .NET 8, 38 of 300 inputs with one NaN pixel gave finite probabilities (a NaN dropped by
/// a pooling window). The runtime now uses <c>Simd.Max</c>, which has <c>MathF.Max</c>'s rules on every version.
/// </remarks>
[Collection(PackingCollection.Name)]
public sealed class DotnetEightTests(ITestOutputHelper output) : IDisposable
{
    private const string Version = "0.1.0-net8";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // Both max pooling kernels the runtime vectorises (2×2 stride 2, and a 3×3 stride-2 window), ReLU after a
    // convolution, and batch norm, whose training pass normalises with the vector ReLU.
    private const string Network = """
        using LeNet.Gen;

        namespace Consumer;

        [Network(1, 30, 30)]
        [Conv(8, 3, Padding = 1, Activation = Activation.ReLU)]
        [Pool(PoolKind.Max, 2, Stride = 2)]
        [Conv(16, 3, Padding = 1, Activation = Activation.ReLU)]
        [BatchNorm]
        [Pool(PoolKind.Max, 3, Stride = 2)]
        [Dense(32, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class Probe { }
        """;

    // Prints the runtime, the bits of some predictions, how many one-NaN inputs gave any finite output, and the bits of
    // the parameters' sum after five training steps.
    private const string Program = """
        using System;
        using System.Globalization;
        using System.Linq;
        using System.Runtime.InteropServices;
        using System.Text;
        using Consumer;

        Console.WriteLine("runtime: " + RuntimeInformation.FrameworkDescription);
        var network = new Probe(seed: 7);
        int n = Probe.InputLength;
        var random = new Random(11);
        float[] Image() => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        string Bits(float value) => BitConverter.SingleToInt32Bits(value).ToString("x8", CultureInfo.InvariantCulture);

        var probabilities = new float[Probe.OutputLength];
        var predicted = new StringBuilder();
        for (int t = 0; t < 8; t++)
        {
            network.Predict(Image(), probabilities);
            predicted.Append(string.Concat(probabilities.Select(Bits))).Append(' ');
        }

        Console.WriteLine("predict: " + predicted);
        var image = Image();
        int tried = 0, finite = 0;
        for (int p = 0; p < n; p += 3)
        {
            var poisoned = (float[])image.Clone();
            poisoned[p] = float.NaN;
            network.Predict(poisoned, probabilities);
            tried++;
            finite += probabilities.Any(float.IsFinite) ? 1 : 0;
        }

        Console.WriteLine($"nan: {finite} of {tried}");
        var images = new float[16 * n];
        var labels = new int[16];
        for (int e = 0; e < 16; e++)
        {
            Image().CopyTo(images, e * n);
            labels[e] = e % Probe.OutputLength;
        }

        for (int step = 0; step < 5; step++)
        {
            network.Train(images, labels, 0.05f);
        }

        double sum = 0;
        foreach (float value in network.Parameters)
        {
            sum += value;
        }

        Console.WriteLine("train: " + BitConverter.DoubleToInt64Bits(sum).ToString("x16", CultureInfo.InvariantCulture));
        """;

    [Fact]
    public async Task A_consumer_on_the_dotnet_8_runtime_computes_the_same_bits_as_on_dotnet_10_and_keeps_NaN()
    {
        string feed = Path.Combine(_temp.Path, "feed");
        var pack = await Cli.DotnetAsync(Cli.RepositoryRoot, "pack", "src/LeNet.Gen/LeNet.Gen.csproj", "-c", "Release", "-o", feed, $"-p:PackageVersion={Version}");
        Assert.True(pack.ExitCode == 0, pack.ToString());

        string project = Path.Combine(_temp.Path, "Consumer");
        Directory.CreateDirectory(project);

        // The local feed first, then the machine's own sources for the .NET 8 targeting and runtime packs.
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFrameworks>net8.0;net10.0</TargetFrameworks>
                <Nullable>enable</Nullable>
                <RestorePackagesPath>{Path.Combine(_temp.Path, "packages")}</RestorePackagesPath>
              </PropertyGroup>
              <PropertyGroup Condition="'$(TargetFramework)' == 'net8.0'">
                <RuntimeIdentifier>{PortableRuntimeIdentifier()}</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
              </PropertyGroup>
              <ItemGroup><PackageReference Include="LeNet.Gen" Version="{Version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), Program);
        File.WriteAllText(Path.Combine(project, "Probe.cs"), Network);

        var eight = await Cli.DotnetAsync(project, "run", "-c", "Release", "-f", "net8.0");
        output.WriteLine(eight.ToString());
        Assert.True(eight.ExitCode == 0, eight.ToString());
        var ten = await Cli.DotnetAsync(project, "run", "-c", "Release", "-f", "net10.0");
        output.WriteLine(ten.ToString());
        Assert.True(ten.ExitCode == 0, ten.ToString());

        Assert.StartsWith(".NET 8.", Line(eight, "runtime"), StringComparison.Ordinal);
        Assert.StartsWith(".NET 10.", Line(ten, "runtime"), StringComparison.Ordinal);
        Assert.Equal(Line(ten, "predict"), Line(eight, "predict"));
        Assert.Equal(Line(ten, "train"), Line(eight, "train"));
        Assert.Matches(@"^0 of \d+$", Line(eight, "nan"));
        Assert.Matches(@"^0 of \d+$", Line(ten, "nan"));
    }

    // The runtime packs on NuGet exist for the portable identifiers only (linux-x64, not a distribution's own build such as
    // ubuntu.24.04-x64, which RuntimeInformation.RuntimeIdentifier names on a source-built .NET).
    private static string PortableRuntimeIdentifier()
    {
        string system = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        return $"{system}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
    }

    private static string Line(ProcessResult run, string label)
    {
        var match = Regex.Match(run.Output, $"^{label}: (.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{label}:' line in:\n{run}");
        return match.Groups[1].Value.Trim();
    }
}

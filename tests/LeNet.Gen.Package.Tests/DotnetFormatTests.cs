using System;
using System.IO;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Package.Tests;

/// <summary>
/// The code fixes as a user without an IDE gets them: a new project references the packed LeNet.Gen from a local
/// folder, has an LNG0001 error, and <c>dotnet format analyzers --diagnostics LNG0001 --severity error</c> applies the
/// first suggested fix (the nearest smaller stride) to the attribute; the project then builds and runs.
/// </summary>
/// <remarks>In the same collection as <see cref="PackageTests"/>: the two would otherwise pack the same projects at once.</remarks>
[Collection(PackingCollection.Name)]
public sealed class DotnetFormatTests(ITestOutputHelper output) : IDisposable
{
    private const string Version = "0.1.0-format";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // LeNet-5 with one mistake: a stride of 2 on the 14×14 input of conv2 makes (14 − 5) / 2 + 1 = 5.5 outputs.
    private const string Network = """
        using LeNet.Gen;

        namespace Consumer;

        [Network(1, 32, 32)]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Conv(16, 5, Stride = 2, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Dense(120, Activation = Activation.ReLU)]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5 { }
        """;

    private const string Program = """
        using System;
        using Consumer;

        var network = new LeNet5(seed: 1);
        Console.WriteLine($"parameters: {LeNet5.ParameterCount}, predicted: {network.Predict(new float[LeNet5.InputLength])}");
        """;

    [Fact]
    public async Task Dotnet_format_applies_the_LNG0001_fix_from_the_package_and_the_project_then_builds()
    {
        string feed = Path.Combine(_temp.Path, "feed");
        var pack = await Cli.DotnetAsync(Cli.RepositoryRoot, "pack", "src/LeNet.Gen/LeNet.Gen.csproj", "-c", "Release", "-o", feed, $"-p:PackageVersion={Version}");
        Assert.True(pack.ExitCode == 0, pack.ToString());

        string project = Path.Combine(_temp.Path, "Consumer");
        var create = await Cli.DotnetAsync(_temp.Path, "new", "console", "-o", project, "--framework", "net10.0");
        Assert.True(create.ExitCode == 0, create.ToString());
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        string csproj = Path.Combine(project, "Consumer.csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace(
            "</Project>",
            $"""
              <PropertyGroup><RestorePackagesPath>{Path.Combine(_temp.Path, "packages")}</RestorePackagesPath></PropertyGroup>
              <ItemGroup><PackageReference Include="LeNet.Gen" Version="{Version}" /></ItemGroup>
            </Project>
            """,
            StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(project, "Program.cs"), Program);
        string networkFile = Path.Combine(project, "LeNet5.cs");
        File.WriteAllText(networkFile, Network);

        var broken = await Cli.DotnetAsync(project, "build", "-c", "Release");
        output.WriteLine(broken.ToString());
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("error LNG0001: conv2: the output size is not a whole number", broken.Output, StringComparison.Ordinal);

        var format = await Cli.DotnetAsync(project, "format", "analyzers", "--diagnostics", "LNG0001", "--severity", "error", "--verbosity", "detailed");
        output.WriteLine(format.ToString());
        Assert.True(format.ExitCode == 0, format.ToString());

        // Exactly one edit: the stride, to the first suggestion (1 → conv2 10×10, i.e. LeNet-5 as published).
        string expected = Network.Replace("[Conv(16, 5, Stride = 2, ", "[Conv(16, 5, Stride = 1, ", StringComparison.Ordinal);
        Assert.Equal(expected, File.ReadAllText(networkFile));

        var run = await Cli.DotnetAsync(project, "run", "-c", "Release");
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        // 61,706 is LeNet-5's published parameter count: the fixed spec is the classic network.
        Assert.Contains("parameters: 61706, predicted: ", run.Output, StringComparison.Ordinal);
    }
}

/// <summary>
/// Tests that build, pack or publish a project of this repository: they run one after the other, because two builds of
/// the same project at once write the same files (MSB4018 on <c>LeNet.Gen.CodeFixes.deps.json</c> was seen).
/// </summary>
[CollectionDefinition(Name)]
public sealed class PackingCollection
{
    public const string Name = "Packing";
}

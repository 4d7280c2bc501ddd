using System;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Package.Tests;

/// <summary>
/// The package as a user gets it: pack it, create a console project outside the solution with <c>dotnet new</c>,
/// reference LeNet.Gen from the local folder only, declare LeNet-5, embed the bundled digits, train briefly on them and
/// check the printed accuracy; then make one shape mistake and check the build fails with the LNG error at the right line.
/// </summary>
[Collection(PackingCollection.Name)]
public sealed class PackageTests(ITestOutputHelper output) : IDisposable
{
    private const string Version = "0.1.0-local";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private const string Network = """
        using LeNet.Gen;

        namespace Consumer;

        [Network(1, 32, 32)]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Conv(16, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Dense(120, Activation = Activation.ReLU)]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5 { }
        """;

    private const string Program = """
        using System;
        using System.Globalization;
        using System.IO;
        using System.Reflection;
        using Consumer;
        using LeNet.Gen.Data;
        using LeNet.Gen.Training;

        // The bundled digits travel inside this program as embedded resources, as a user would ship them.
        Stream Digits(string name) => Assembly.GetExecutingAssembly().GetManifestResourceStream(name + ".gz")
            ?? throw new FileNotFoundException(name);
        var (train, test) = Mnist.Load(Digits("train-images-idx3-ubyte"), Digits("train-labels-idx1-ubyte"), Digits("t10k-images-idx3-ubyte"), Digits("t10k-labels-idx1-ubyte"));
        var network = new LeNet5(seed: 1);
        Trainer.Fit(network, train, test, new TrainingOptions { Epochs = 2, LearningRate = 0.05f },
            epochDone: e => Console.WriteLine($"epoch {e.Epoch}: loss {e.Loss:F3}, test {e.TestAccuracy:P2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {Evaluation.Of(network, test).Accuracy * 100:F2}%"));
        """;

    [Fact]
    public async Task The_package_works_in_a_new_project_and_reports_shape_errors_at_the_attribute()
    {
        string feed = Path.Combine(_temp.Path, "feed");
        var pack = await Cli.DotnetAsync(Cli.RepositoryRoot, "pack", "src/LeNet.Gen/LeNet.Gen.csproj", "-c", "Release", "-o", feed, $"-p:PackageVersion={Version}");
        Assert.True(pack.ExitCode == 0, pack.ToString());
        AssertPackageLayout(Path.Combine(feed, $"LeNet.Gen.{Version}.nupkg"));

        // Packing a test version must not rebuild the solution's own generator under another assembly version: the
        // other test projects, built meanwhile, copy it and stamp its version into [GeneratedCode] (their snapshots).
        string generator = Path.Combine(Cli.RepositoryRoot, "generator", "LeNet.Gen.Generator", "bin", "Release", "netstandard2.0", "LeNet.Gen.Generator.dll");
        Assert.Equal(new Version(1, 0, 0, 0), System.Reflection.AssemblyName.GetAssemblyName(generator).Version);

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
        string digits = Path.Combine(Cli.RepositoryRoot, "samples", "LeNet.Mnist", "Data", "mnist-npm10k");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace(
            "</Project>",
            $"""
              <PropertyGroup><RestorePackagesPath>{Path.Combine(_temp.Path, "packages")}</RestorePackagesPath></PropertyGroup>
              <ItemGroup><PackageReference Include="LeNet.Gen" Version="{Version}" /></ItemGroup>
              <ItemGroup><EmbeddedResource Include="{digits}/*.gz" LogicalName="%(Filename)%(Extension)" /></ItemGroup>
            </Project>
            """,
            StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(project, "Program.cs"), Program);
        File.WriteAllText(Path.Combine(project, "LeNet5.cs"), Network);

        var run = await Cli.DotnetAsync(project, "run", "-c", "Release");
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        var accuracy = Regex.Match(run.Output, @"test accuracy: (\d+\.\d\d)%");
        Assert.True(accuracy.Success, run.ToString());
        Assert.True(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture) >= 95.0, run.ToString());

        // One shape mistake: a stride of 2 on the 14×14 input of conv2 makes 5.5 outputs.
        string mistaken = Network.Replace("[Conv(16, 5, Activation = Activation.ReLU)]", "[Conv(16, 5, Stride = 2)]", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(project, "LeNet5.cs"), mistaken);
        var build = await Cli.DotnetAsync(project, "build", "-c", "Release");
        output.WriteLine(build.ToString());
        Assert.NotEqual(0, build.ExitCode);
        int line = mistaken.Split('\n').ToList().FindIndex(l => l.Contains("Conv(16, 5, Stride = 2)", StringComparison.Ordinal)) + 1;
        Assert.Matches($@"LeNet5\.cs\({line},2\): error LNG0001: conv2: the output size is not a whole number: \(14 − 5 \+ 2·0\) / 2 \+ 1 = 5\.5", build.Output);
        // No error inside the network's file or generated code: an invalid spec generates nothing. (Program.cs, which calls
        // the members the spec would have generated, does get errors for them.)
        Assert.DoesNotMatch(@"(LeNet5\.cs|\.g\.cs)\(\d+,\d+\): error CS\d{4}", build.Output);
    }

    private void AssertPackageLayout(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToArray();
        output.WriteLine(string.Join("\n", entries));
        Assert.Contains("lib/net8.0/LeNet.Gen.dll", entries);
        Assert.Contains("lib/net8.0/LeNet.Gen.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/LeNet.Gen.Generator.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/LeNet.Gen.CodeFixes.dll", entries);
        Assert.Contains("README.md", entries);
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string metadata = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", metadata);
        Assert.Contains("<readme>README.md</readme>", metadata);
        Assert.Contains("<repository type=\"git\"", metadata);
        Assert.Contains("<tags>", metadata);
        Assert.Matches("<dependencies>\\s*<group targetFramework=\"net8.0\" />\\s*</dependencies>", metadata); // no dependencies at all
        Assert.True(File.Exists(Path.ChangeExtension(package, ".snupkg")), "no symbol package");
        output.WriteLine("SourceLink: " + SourceLinkOf(Path.ChangeExtension(package, ".snupkg")));
        Assert.Matches("\"documents\":\\{\".*\\*\":\"https://raw.githubusercontent.com/lenet-gen/LeNet.Gen/[0-9a-f]{40}/\\*\"\\}", SourceLinkOf(Path.ChangeExtension(package, ".snupkg")));
    }

    /// <summary>The SourceLink JSON embedded in the symbol package's PDB (how a debugger finds the sources).</summary>
    private static string SourceLinkOf(string symbols)
    {
        var sourceLinkKind = new Guid("CC110556-A091-4D38-9FEC-25AB9A351A6A");
        using var zip = ZipFile.OpenRead(symbols);
        using var pdb = new MemoryStream();
        using (var entry = zip.Entries.Single(e => e.FullName.EndsWith("LeNet.Gen.pdb", StringComparison.Ordinal)).Open())
        {
            entry.CopyTo(pdb);
        }

        pdb.Position = 0;
        using var provider = System.Reflection.Metadata.MetadataReaderProvider.FromPortablePdbStream(pdb);
        var reader = provider.GetMetadataReader();
        foreach (var handle in reader.CustomDebugInformation)
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == sourceLinkKind)
            {
                return System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
            }
        }

        return "(none)";
    }
}

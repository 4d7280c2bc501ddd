using System.Linq;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Diagnostics;

/// <summary>Warnings and notes obey <c>#pragma warning disable</c> and <c>.editorconfig</c> like any other rule.</summary>
public class SeverityTests
{
    private const string StrideSkips = """
        using LeNet.Gen;
        [Network(1, 10, 10)]
        [Pool(PoolKind.Max, 1, Stride = 3)]
        [Dense(2, Activation = Activation.Softmax)]
        public partial class Skipper { }
        """;

    [Fact]
    public void LNG0101_stride_larger_than_the_window_is_a_warning_on_the_stride()
    {
        var result = TestCompiler.Run(StrideSkips);

        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal("LNG0101", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(SourceSpan.Of(StrideSkips, "Stride = 3"), SourceSpan.Of(warning));
        Assert.Equal("pool1: stride 3 is larger than the 1×1 window, so 2 of every 3 rows and columns are never read", warning.GetMessage());
        Assert.Single(result.Generated); // a warning does not stop generation
    }

    [Fact]
    public void Pragma_warning_disable_silences_LNG0101()
    {
        var result = TestCompiler.Run("#pragma warning disable LNG0101\n" + StrideSkips);

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Generated);
    }

    [Fact]
    public void Editorconfig_can_silence_LNG0101()
    {
        var result = TestCompiler.Run(new[] { new SourceFile("/src/Network.cs", StrideSkips) }, "root = true\n[*.cs]\ndotnet_diagnostic.LNG0101.severity = none\n");

        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Editorconfig_can_raise_LNG0101_to_an_error()
    {
        var result = TestCompiler.Run(new[] { new SourceFile("/src/Network.cs", StrideSkips) }, "root = true\n[*.cs]\ndotnet_diagnostic.LNG0101.severity = error\n");

        Assert.Equal(DiagnosticSeverity.Error, Assert.Single(result.Diagnostics).Severity);
    }

    [Fact]
    public void LNG0102_floor_rounding_notes_the_ignored_rows()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 15, 15, Rounding = ShapeRounding.Floor)]
            [Pool(PoolKind.Max, 2)]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Floored { }
            """;

        var result = TestCompiler.Run(source);

        var note = Assert.Single(result.Diagnostics);
        Assert.Equal("LNG0102", note.Id);
        Assert.Equal(DiagnosticSeverity.Info, note.Severity);
        Assert.Equal("pool1: Rounding = Floor ignores the last 1 rows and columns of the 15×15 input", note.GetMessage());
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void LNG0201_no_softmax_head_warns_that_Train_is_not_generated()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dense(3, Activation = Activation.Sigmoid)]
            public partial class Regressor { }
            """;

        var result = TestCompiler.Run(source);

        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal("LNG0201", warning.Id);
        Assert.Equal(SourceSpan.Of(source, "Activation = Activation.Sigmoid"), SourceSpan.Of(warning));
        Assert.Equal(
            "'Regressor' gets Predict but no Train: training minimises cross-entropy, which needs Activation.Softmax on the last layer, and fc1 uses Activation.Sigmoid",
            warning.GetMessage());
        Assert.Single(result.Generated);
    }

    [Fact]
    public void Every_rule_has_a_category_a_help_link_and_an_entry_in_the_release_tracking_file()
    {
        string unshipped = System.IO.File.ReadAllText(System.IO.Path.Combine(Paths.GeneratorProject, "AnalyzerReleases.Unshipped.md"));
        foreach (var rule in LeNet.Gen.Generator.Diagnostics.Rules.All)
        {
            Assert.Matches("^LNG[0-9]{4}$", rule.Id);
            Assert.StartsWith("LeNet.Gen.", rule.Category);
            Assert.EndsWith("#" + rule.Id.ToLowerInvariant(), rule.HelpLinkUri);
            Assert.Contains($"{rule.Id} | {rule.Category} | {rule.DefaultSeverity} |", unshipped);
        }

        Assert.Equal(LeNet.Gen.Generator.Diagnostics.Rules.All.Length, LeNet.Gen.Generator.Diagnostics.Rules.All.Select(r => r.Id).Distinct().Count());
    }
}

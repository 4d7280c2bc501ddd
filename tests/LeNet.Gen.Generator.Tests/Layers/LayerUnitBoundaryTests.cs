using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Layers;

/// <summary>
/// Issue 14's goal, checked on the generator's source tree and its registry: a layer kind lives in its unit
/// (<c>Layers/&lt;Kind&gt;/</c>), and the rest of the generator reaches it only through <see cref="ILayerKind"/> and its
/// companion interfaces. No file outside a unit names a type the unit declares, except the registry line that lists it.
/// </summary>
public class LayerUnitBoundaryTests
{
    private static readonly Regex Declaration = new(@"\b(?:class|record|struct|enum|interface)\s+([A-Z]\w*)", RegexOptions.CultureInvariant);

    /// <summary>The source files of a generator tree, as paths relative to it with forward slashes, and their text.</summary>
    private static Dictionary<string, string> SourcesUnder(string root) => Directory
        .EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
        .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
        .Where(path => !path.StartsWith("bin/", StringComparison.Ordinal) && !path.StartsWith("obj/", StringComparison.Ordinal))
        .ToDictionary(path => path, path => File.ReadAllText(Path.Combine(root, path)), StringComparer.Ordinal);

    /// <summary>The unit folders (<c>Layers/Conv/</c>, …) and the type names declared in each.</summary>
    private static Dictionary<string, HashSet<string>> UnitDeclarations(Dictionary<string, string> sources)
    {
        var units = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (path, text) in sources)
        {
            string[] parts = path.Split('/');
            if (parts.Length == 3 && parts[0] == "Layers")
            {
                string unit = "Layers/" + parts[1] + "/";
                if (!units.TryGetValue(unit, out var names))
                {
                    units[unit] = names = new HashSet<string>(StringComparer.Ordinal);
                }

                names.UnionWith(Declaration.Matches(WithoutComments(text)).Select(m => m.Groups[1].Value));
            }
        }

        return units;
    }

    // Line comments go (prose such as "ConvSpec, PoolSpec, … live in their units" is not a reference); strings stay.
    private static string WithoutComments(string text) =>
        string.Join("\n", text.Split('\n').Select(line => line.IndexOf("//", StringComparison.Ordinal) is int at and >= 0 ? line.Substring(0, at) : line));

    /// <summary>
    /// Every place outside a unit that names a type declared in it, as <c>file:line: name</c>. The registry's
    /// <c>Kind.Instance</c> in <c>Layers/ILayerKind.cs</c> is the one allowed mention, for the registered kinds in
    /// <paramref name="registered"/>.
    /// </summary>
    private static List<string> Crossings(Dictionary<string, string> sources, ISet<string> registered)
    {
        var crossings = new List<string>();
        foreach (var (unit, names) in UnitDeclarations(sources))
        {
            var pattern = new Regex(@"\b(" + string.Join("|", names.Select(Regex.Escape)) + @")\b(\.Instance\b)?", RegexOptions.CultureInvariant);
            foreach (var (path, text) in sources.Where(s => !s.Key.StartsWith(unit, StringComparison.Ordinal)))
            {
                string[] lines = WithoutComments(text).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    foreach (Match m in pattern.Matches(lines[i]))
                    {
                        bool registryLine = path == "Layers/ILayerKind.cs" && m.Groups[2].Success && registered.Contains(m.Groups[1].Value);
                        if (!registryLine)
                        {
                            crossings.Add($"{path}:{i + 1}: {m.Groups[1].Value}");
                        }
                    }
                }
            }
        }

        return crossings;
    }

    private static HashSet<string> RegisteredKinds() => LayerKinds.All.Select(k => k.GetType().Name).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void Each_registered_kind_is_declared_in_a_unit_of_its_own()
    {
        var units = UnitDeclarations(SourcesUnder(Paths.GeneratorProject));

        Assert.Equal(LayerKinds.All.Length, units.Count);
        foreach (var kind in LayerKinds.All)
        {
            var unit = Assert.Single(units, u => u.Value.Contains(kind.GetType().Name));
            Assert.Single(LayerKinds.All, k => unit.Value.Contains(k.GetType().Name));
        }
    }

    [Fact]
    public void No_file_outside_a_unit_names_a_type_the_unit_declares()
    {
        var crossings = Crossings(SourcesUnder(Paths.GeneratorProject), RegisteredKinds());

        Assert.True(crossings.Count == 0, "Outside their units:\n" + string.Join("\n", crossings));
    }

    [Fact]
    public void The_check_finds_an_emitter_that_asks_for_a_spec_type_and_a_kind_named_outside_the_registry()
    {
        // A tree as the generator was before issue 14's hooks: an emitter testing for a unit's spec type and calling its kind.
        var sources = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Layers/ILayerKind.cs"] = "internal static class LayerKinds { static object[] All = { NormLayer.Instance }; }\n",
            ["Layers/Norm/NormLayer.cs"] = "internal sealed record NormSpec(int Index);\ninternal sealed class NormLayer { public static readonly NormLayer Instance = new(); }\n",
            ["Emit/Emitter.cs"] = "// NormSpec in a comment is prose\nclass Emitter\n{\n    bool IsNorm(object s) => s is NormSpec;\n    object K => NormLayer.Instance;\n}\n",
        };

        var crossings = Crossings(sources, new HashSet<string> { "NormLayer" });

        Assert.Equal(new[] { "Emit/Emitter.cs:4: NormSpec", "Emit/Emitter.cs:5: NormLayer" }, crossings);
    }

    [Fact]
    public void Outside_the_units_a_layer_names_only_its_methods_and_its_output()
    {
        // A layer's generated names are its PascalCase name and a suffix (Conv1Forward, Conv1PaddedInput). Outside the units
        // only what every layer has is named so; a kind's own buffers (a convolution's padded input, its wide rows) are
        // named in its unit, which declares them through ILayerKind.Workspace.
        var sources = SourcesUnder(Paths.GeneratorProject);
        var suffix = new Regex(@"\bPascal \+ ""(\w+)""|\{(?:\w+\.)?Pascal\}(\w+)", RegexOptions.CultureInvariant);
        string[] SuffixesIn(Func<string, bool> where) => sources
            .Where(s => where(s.Key))
            .SelectMany(s => suffix.Matches(WithoutComments(s.Value)).Cast<Match>())
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();

        bool InUnit(string path) => path.StartsWith("Layers/", StringComparison.Ordinal) && path.Count(c => c == '/') == 2;
        Assert.Equal(new[] { "Backward", "Forward", "Output" }, SuffixesIn(path => !InUnit(path)));

        var conv = SuffixesIn(path => path.StartsWith("Layers/Conv/", StringComparison.Ordinal));
        Assert.Contains("PaddedInput", conv);
        Assert.Contains("Wide", conv);
        Assert.Contains("RotatedWeights", conv);
    }

    [Fact]
    public void The_hooks_answer_for_each_registered_kind()
    {
        string[] Prefixes(Func<ILayerKind, bool> hook) => LayerKinds.All.Where(hook).Select(k => k.NamePrefix).OrderBy(p => p, StringComparer.Ordinal).ToArray();

        // Only [Conv] and [Dense] have an Activation argument and random initial weights; only batch norm moves the
        // activation written before it, and trains on whole-batch statistics.
        Assert.Equal(new[] { "conv", "fc" }, Prefixes(k => k.HasActivation));
        Assert.Equal(new[] { "conv", "fc" }, Prefixes(k => k.DrawsParameters));
        Assert.Equal(new[] { "bn" }, Prefixes(k => k.AppliesPreviousActivation));
        Assert.Equal(new[] { "bn" }, Prefixes(k => k is IBatchWideKind));
    }
}

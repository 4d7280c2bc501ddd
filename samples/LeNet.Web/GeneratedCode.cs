using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace LeNet.Web;

/// <summary>A method of the generated source, with the comment lines above it, exactly as written.</summary>
/// <param name="Name">The method's name, e.g. <c>Conv1Forward</c>.</param>
/// <param name="Line">Its first line (the first comment line) in the generated file, from 1.</param>
/// <param name="Text">The comment, the signature and the body, with the class's indentation removed.</param>
public sealed record CodeMethod(string Name, int Line, string Text);

/// <summary>One row of the generated layer table (<c>LeNet5.Summary</c>).</summary>
/// <param name="Name">The layer's name, e.g. <c>conv1</c>, or <c>input</c>.</param>
/// <param name="Description">The layer as the table describes it, e.g. <c>conv1 5×5×6 s1 p0 ReLU</c>.</param>
/// <param name="Output">Its output shape, e.g. <c>6×28×28</c>.</param>
/// <param name="Parameters">Its weights and biases.</param>
public sealed record LayerRow(string Name, string Description, string Output, int Parameters);

/// <summary>
/// The generated source of <see cref="LeNet5"/>, embedded in this assembly when it was built (see LeNet.Web.csproj), and
/// the methods of each layer cut out of it.
/// </summary>
public sealed partial class GeneratedCode
{
    /// <summary>The name of the embedded resource.</summary>
    public const string ResourceName = "generated/LeNet.Web.LeNet5.g.cs";

    private const string MemberIndent = "        "; // members of a class inside a namespace block

    private readonly Dictionary<string, CodeMethod[]> _byLayer;

    /// <summary>Reads the embedded source and indexes its methods by layer.</summary>
    /// <exception cref="InvalidOperationException">The assembly was built without the source.</exception>
    public GeneratedCode()
    {
        using Stream stream = typeof(GeneratedCode).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The sample was built without its embedded resource {ResourceName}.");
        using var reader = new StreamReader(stream);
        Source = reader.ReadToEnd();
        Methods = ParseMethods(Source);
        Layers = ParseSummary(LeNet5.Summary);
        _byLayer = Layers
            .Where(layer => layer.Name is not ("input" or "total"))
            .ToDictionary(layer => layer.Name, layer => Methods.Where(method => BelongsTo(method.Name, layer.Name)).ToArray());
    }

    /// <summary>The whole generated file.</summary>
    public string Source { get; }

    /// <summary>Every method of the generated class that has a body, in file order.</summary>
    public IReadOnlyList<CodeMethod> Methods { get; }

    /// <summary>The rows of the layer table, from <c>input</c> to <c>total</c>.</summary>
    public IReadOnlyList<LayerRow> Layers { get; }

    /// <summary>The methods of one layer (<c>conv1</c>, <c>fc2</c>…): its forward and backward passes and their vector kernels, in file order.</summary>
    /// <param name="layer">The layer's name.</param>
    /// <returns>The methods, or null for an unknown layer.</returns>
    public IReadOnlyList<CodeMethod>? MethodsOf(string layer) => _byLayer.GetValueOrDefault(layer);

    // Conv1Forward, Conv1ForwardWideVector512, Conv1Backward… belong to conv1; Conv10Forward would not.
    private static bool BelongsTo(string method, string layer)
    {
        string prefix = char.ToUpperInvariant(layer[0]) + layer[1..];
        return method.StartsWith(prefix, StringComparison.Ordinal) && method.Length > prefix.Length && char.IsUpper(method[prefix.Length]);
    }

    private static CodeMethod[] ParseMethods(string source)
    {
        string[] lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var methods = new List<CodeMethod>();
        for (int i = 0; i < lines.Length; i++)
        {
            Match signature = MethodSignature().Match(lines[i]);
            if (!signature.Success || i + 1 >= lines.Length || lines[i + 1] != MemberIndent + "{")
            {
                continue;
            }

            int first = i;
            while (first > 0 && (lines[first - 1].StartsWith(MemberIndent + "//", StringComparison.Ordinal) || lines[first - 1].StartsWith(MemberIndent + "[", StringComparison.Ordinal)))
            {
                first--;
            }

            int last = i + 1;
            while (last < lines.Length && lines[last] != MemberIndent + "}")
            {
                last++;
            }

            var text = string.Join('\n', lines[first..(last + 1)].Select(line => line.StartsWith(MemberIndent, StringComparison.Ordinal) ? line[MemberIndent.Length..] : line));
            methods.Add(new CodeMethod(signature.Groups["name"].Value, first + 1, text));
            i = last;
        }

        return methods.ToArray();
    }

    private static LayerRow[] ParseSummary(string summary)
    {
        var rows = new List<LayerRow>();
        foreach (string line in summary.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(2))
        {
            string[] cells = Columns().Split(line);
            string name = cells[0].Split(' ')[0];
            int parameters = int.Parse(cells[^1].Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
            rows.Add(new LayerRow(name, cells[0], cells.Length == 3 ? cells[1] : "", parameters));
        }

        return rows.ToArray();
    }

    [GeneratedRegex(@"^        (?:private|public|internal)\b[^=(]*\s(?<name>\w+)\(")]
    private static partial Regex MethodSignature();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Columns();
}

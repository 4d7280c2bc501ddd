using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;

// This file is compiled into two assemblies: the analyzer (which writes fixes into a diagnostic's properties) and
// LeNet.Gen.CodeFixes (which reads them back and applies the edits). It is the one home of that format, so the code-fix
// assembly never repeats the shape arithmetic: it only edits what the analyzer tells it to.
namespace LeNet.Gen.Generator.Diagnostics;

/// <summary>What an edit does to the syntax at its location.</summary>
internal enum FixEditKind
{
    /// <summary>Sets a named attribute argument (<c>Stride = 1</c>), adding it when it is not written.</summary>
    SetArgument,

    /// <summary>Removes a named attribute argument.</summary>
    RemoveArgument,

    /// <summary>Adds the <c>partial</c> modifier to the type declaration at the location.</summary>
    AddPartial,

    /// <summary>Removes the attribute at the location (and its brackets, when it is alone in them).</summary>
    RemoveAttribute,
}

/// <summary>
/// One edit of a fix. <see cref="Location"/> indexes the diagnostic's additional locations: an attribute for the
/// argument edits, a type declaration's name for <see cref="FixEditKind.AddPartial"/>.
/// </summary>
internal sealed class FixEditData
{
    public FixEditData(int location, FixEditKind kind, string name, string value)
    {
        Location = location;
        Kind = kind;
        Name = name;
        Value = value;
    }

    public int Location { get; }

    public FixEditKind Kind { get; }

    /// <summary>The property name of the argument (<c>Stride</c>), empty for <see cref="FixEditKind.AddPartial"/>.</summary>
    public string Name { get; }

    /// <summary>
    /// The C# expression to assign, fully qualified for enum members (<c>global::LeNet.Gen.ShapeRounding.Floor</c>);
    /// the code fix lets the simplifier shorten it to what the file's usings allow. Empty when not setting a value.
    /// </summary>
    public string Value { get; }
}

/// <summary>One fix as offered to the user: its title, its equivalence key (for Fix All) and its edits.</summary>
internal sealed class FixData
{
    public FixData(string title, string equivalenceKey, IReadOnlyList<FixEditData> edits)
    {
        Title = title;
        EquivalenceKey = equivalenceKey;
        Edits = edits;
    }

    public string Title { get; }

    /// <summary>
    /// Names the kind of fix, not its numbers (<c>LNG0001.SmallerStride</c>), so that Fix All applies the same kind of
    /// fix to every diagnostic, each with its own values.
    /// </summary>
    public string EquivalenceKey { get; }

    public IReadOnlyList<FixEditData> Edits { get; }
}

/// <summary>Writes fixes into a diagnostic's properties and reads them back.</summary>
internal static class FixProperties
{
    private const string Prefix = "LeNet.Gen.Fix";
    private const string CountKey = Prefix + ".Count";
    private const char FieldSeparator = '|';
    private const char EditSeparator = '\n';

    public static ImmutableDictionary<string, string?> Encode(IReadOnlyList<FixData> fixes)
    {
        var properties = ImmutableDictionary.CreateBuilder<string, string?>();
        if (fixes.Count == 0)
        {
            return properties.ToImmutable();
        }

        properties[CountKey] = fixes.Count.ToString(CultureInfo.InvariantCulture);
        for (int i = 0; i < fixes.Count; i++)
        {
            var fix = fixes[i];
            var edits = new List<string>();
            foreach (var edit in fix.Edits)
            {
                edits.Add(string.Join(
                    FieldSeparator.ToString(),
                    edit.Location.ToString(CultureInfo.InvariantCulture),
                    edit.Kind.ToString(),
                    edit.Name,
                    edit.Value));
            }

            properties[Key(i, "Title")] = fix.Title;
            properties[Key(i, "EquivalenceKey")] = fix.EquivalenceKey;
            properties[Key(i, "Edits")] = string.Join(EditSeparator.ToString(), edits);
        }

        return properties.ToImmutable();
    }

    /// <summary>The fixes in <paramref name="properties"/>, in the order written; a malformed entry is skipped, never thrown on.</summary>
    public static IReadOnlyList<FixData> Decode(ImmutableDictionary<string, string?> properties, int locationCount)
    {
        var fixes = new List<FixData>();
        if (!properties.TryGetValue(CountKey, out var countText)
            || !int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            return fixes;
        }

        for (int i = 0; i < count; i++)
        {
            if (properties.TryGetValue(Key(i, "Title"), out var title) && !string.IsNullOrEmpty(title)
                && properties.TryGetValue(Key(i, "EquivalenceKey"), out var key) && !string.IsNullOrEmpty(key)
                && properties.TryGetValue(Key(i, "Edits"), out var editsText) && !string.IsNullOrEmpty(editsText)
                && DecodeEdits(editsText!, locationCount) is { } edits)
            {
                fixes.Add(new FixData(title!, key!, edits));
            }
        }

        return fixes;
    }

    private static List<FixEditData>? DecodeEdits(string text, int locationCount)
    {
        var edits = new List<FixEditData>();
        foreach (var line in text.Split(EditSeparator))
        {
            var fields = line.Split(FieldSeparator);
            if (fields.Length != 4
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int location)
                || location >= locationCount
                || !TryParseKind(fields[1], out var kind))
            {
                return null;
            }

            edits.Add(new FixEditData(location, kind, fields[2], fields[3]));
        }

        return edits;
    }

    private static bool TryParseKind(string text, out FixEditKind kind)
    {
        foreach (FixEditKind candidate in new[] { FixEditKind.SetArgument, FixEditKind.RemoveArgument, FixEditKind.AddPartial, FixEditKind.RemoveAttribute })
        {
            if (candidate.ToString() == text)
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }

    private static string Key(int index, string field) => Prefix + index.ToString(CultureInfo.InvariantCulture) + "." + field;
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>
/// Compares generated source with a checked-in baseline, byte for byte, and prints a line diff when they differ.
/// Set the environment variable <c>LENET_UPDATE_SNAPSHOTS=1</c> to rewrite the baselines instead (then review the
/// change with <c>git diff</c>, like any other code change).
/// </summary>
public static class Snapshot
{
    public const string UpdateVariable = "LENET_UPDATE_SNAPSHOTS";

    public static void Match(string name, string actual)
    {
        string path = Path.Combine(Paths.Snapshots, name);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Paths.Snapshots);
            File.WriteAllText(path, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }

        Assert.True(File.Exists(path), $"No baseline {path}. Run the tests with {UpdateVariable}=1 to create it.");
        string expected = File.ReadAllText(path);
        if (expected != actual)
        {
            Assert.Fail($"Generated source differs from the baseline {name} ({UpdateVariable}=1 rewrites it):\n{Diff(expected, actual)}");
        }
    }

    /// <summary>A unified-style diff (longest common subsequence of lines), with two lines of context.</summary>
    public static string Diff(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var lines = new List<(char Kind, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add((' ', x + 1, a[x]));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                lines.Add(('-', x + 1, a[x++]));
            }
            else
            {
                lines.Add(('+', y + 1, b[y++]));
            }
        }

        var changed = lines.Select((l, i) => (l, i)).Where(p => p.l.Kind != ' ').Select(p => p.i).ToHashSet();
        var text = new StringBuilder();
        int last = -10;
        for (int i = 0; i < lines.Count; i++)
        {
            if (!Enumerable.Range(i - 2, 5).Any(changed.Contains))
            {
                continue;
            }

            if (i > last + 1)
            {
                text.AppendLine($"@@ line {lines[i].Line} @@");
            }

            text.Append(lines[i].Kind).Append(' ').AppendLine(lines[i].Text);
            last = i;
        }

        return text.ToString();
    }
}

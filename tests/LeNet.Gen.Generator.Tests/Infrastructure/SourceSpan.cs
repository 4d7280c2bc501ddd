using System;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>Finds the expected line and column span of a piece of source text, for asserting diagnostic locations.</summary>
public static class SourceSpan
{
    /// <summary>The span of the only occurrence of <paramref name="snippet"/> in <paramref name="source"/>, as (line, column) pairs, 1-based.</summary>
    public static (int Line, int Column, int EndLine, int EndColumn) Of(string source, string snippet)
    {
        int start = source.IndexOf(snippet, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{snippet}' is not in the source");
        Assert.True(source.IndexOf(snippet, start + 1, StringComparison.Ordinal) < 0, $"'{snippet}' occurs more than once in the source");
        var (line, column) = Position(source, start);
        var (endLine, endColumn) = Position(source, start + snippet.Length);
        return (line, column, endLine, endColumn);
    }

    public static (int Line, int Column, int EndLine, int EndColumn) Of(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetLineSpan();
        return (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, span.EndLinePosition.Line + 1, span.EndLinePosition.Character + 1);
    }

    private static (int Line, int Column) Position(string source, int offset)
    {
        int line = 1, column = 1;
        for (int i = 0; i < offset; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return (line, column);
    }
}

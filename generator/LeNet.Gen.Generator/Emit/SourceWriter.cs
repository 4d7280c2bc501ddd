using System;
using System.Text;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// A small indented text writer for generated C#: one line at a time, four spaces per level, <c>\n</c> line ends
/// whatever the platform, so the output is the same byte for byte everywhere.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _indent * 4);
            _text.Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes several lines at the current indentation.</summary>
    public SourceWriter Lines(params string[] lines)
    {
        foreach (var line in lines)
        {
            Line(line);
        }

        return this;
    }

    /// <summary>Writes <paramref name="header"/> and <c>{</c>, and indents until the returned scope is disposed, which writes <c>}</c> (plus <paramref name="closing"/>).</summary>
    public Scope Block(string header, string closing = "")
    {
        Line(header);
        Line("{");
        _indent++;
        return new Scope(this, "}" + closing);
    }

    /// <summary>Removes the last line if it is blank, so that a block does not end with an empty line.</summary>
    public void TrimBlankLine()
    {
        if (_text.Length >= 2 && _text[_text.Length - 1] == '\n' && _text[_text.Length - 2] == '\n')
        {
            _text.Length--;
        }
    }

    public void Indent() => _indent++;

    public void Outdent() => _indent--;

    public override string ToString() => _text.ToString();

    public readonly struct Scope : IDisposable
    {
        private readonly SourceWriter _writer;
        private readonly string _closing;

        public Scope(SourceWriter writer, string closing)
        {
            _writer = writer;
            _closing = closing;
        }

        public void Dispose()
        {
            _writer._indent--;
            _writer.Line(_closing);
        }
    }
}

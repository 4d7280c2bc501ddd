using LeNet.Gen.Generator.Emit;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Emit;

/// <summary>The indented writer every emitter uses: exact bytes, so that generated files are the same everywhere.</summary>
public class SourceWriterTests
{
    [Fact]
    public void Blocks_indent_by_four_spaces_and_close_with_their_suffix()
    {
        var w = new SourceWriter();
        using (w.Block("class A"))
        {
            w.Line("int x;");
            using (w.Block("int[] y = new[]", ";"))
            {
                w.Lines("1,", "2,");
            }
        }

        Assert.Equal("class A\n{\n    int x;\n    int[] y = new[]\n    {\n        1,\n        2,\n    };\n}\n", w.ToString());
    }

    [Fact]
    public void Empty_lines_carry_no_indentation_and_line_ends_are_always_lf()
    {
        var w = new SourceWriter();
        w.Indent();
        w.Line("a");
        w.Line();
        w.Line(string.Empty);
        w.Indent();
        w.Line("b");
        w.Outdent();
        w.Outdent();
        w.Line("c");

        Assert.Equal("    a\n\n\n        b\nc\n", w.ToString());
        Assert.DoesNotContain("\r", w.ToString());
    }
}

using System.Linq;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Diagnostics;

/// <summary>Rules about the declaration that carries the spec: partial, layers present and in one place, softmax last, supported kinds of type.</summary>
public class StructureDiagnosticTests
{
    private static Diagnostic SingleError(string source, string id) => SingleError(new[] { new SourceFile("/src/Network.cs", source) }, id);

    private static Diagnostic SingleError(SourceFile[] sources, string id)
    {
        var result = TestCompiler.Run(sources);
        Assert.Empty(result.GeneratorExceptions);
        var error = Assert.Single(result.Errors);
        Assert.Equal(id, error.Id);
        Assert.Empty(result.Generated);
        return error;
    }

    [Fact]
    public void LNG0007_class_not_partial_points_at_its_name()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dense(2, Activation = Activation.Softmax)]
            public class TinyNet { }
            """;

        var error = SingleError(source, "LNG0007");

        Assert.Equal(SourceSpan.Of(source, "TinyNet"), SourceSpan.Of(error));
        Assert.Equal("The network class 'TinyNet' must be declared 'partial' so that the generator can add its members", error.GetMessage());
    }

    [Fact]
    public void LNG0008_no_layers_points_at_network()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 4, 4)]
            public partial class Empty { }
            """;

        var error = SingleError(source, "LNG0008");

        Assert.Equal(SourceSpan.Of(source, "Network(1, 4, 4)"), SourceSpan.Of(error));
    }

    [Fact]
    public void LNG0009_layers_split_across_partial_declarations()
    {
        string first = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(2, 3)]
            public partial class Split { }
            """;
        string second = """
            using LeNet.Gen;
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Split { }
            """;

        var error = SingleError(new[] { new SourceFile("/src/A.cs", first), new SourceFile("/src/B.cs", second) }, "LNG0009");

        Assert.Equal("/src/B.cs", error.Location.SourceTree!.FilePath);
        Assert.Equal(SourceSpan.Of(second, "Dense(2, Activation = Activation.Softmax)"), SourceSpan.Of(error));
    }

    [Fact]
    public void Partial_class_spread_over_files_is_fine_when_the_layers_are_together()
    {
        string first = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(2, 3, Activation = Activation.ReLU)]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Together { }
            """;
        string second = """
            public partial class Together
            {
                public string Describe() => Summary + InputLength.ToString();
            }
            """;

        var result = TestCompiler.Run(new[] { new SourceFile("/src/A.cs", first), new SourceFile("/src/B.cs", second) });

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
    }

    [Fact]
    public void LNG0010_softmax_before_the_last_layer_points_at_the_activation()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dense(8, Activation = Activation.Softmax)]
            [Dense(2)]
            public partial class Net { }
            """;

        var error = SingleError(source, "LNG0010");

        Assert.Equal(SourceSpan.Of(source, "Activation = Activation.Softmax"), SourceSpan.Of(error));
        Assert.Equal("fc1 uses Activation.Softmax, which is allowed only on the last layer (the last layer is fc2)", error.GetMessage());
    }

    [Fact]
    public void LNG0011_layer_attributes_without_network()
    {
        string source = """
            using LeNet.Gen;
            [Conv(6, 5)]
            [Dense(2)]
            public partial class Orphan { }
            """;

        var error = SingleError(source, "LNG0011");

        Assert.Equal(SourceSpan.Of(source, "Conv(6, 5)"), SourceSpan.Of(error));
        Assert.Contains("'Orphan' has layer attributes but no [Network(channels, height, width)] attribute", error.GetMessage());
    }

    [Fact]
    public void LNG0016_an_attribute_of_the_library_that_no_layer_unit_reads_stops_generation()
    {
        // A newer library's attribute, as an older generator meets it: it is never read as some other kind of layer.
        string source = """
            using LeNet.Gen;
            [Network(1, 8, 8)]
            [Conv(4, 3)]
            [Upsample(2)]
            [Dense(10, Activation = Activation.Softmax)]
            public partial class Net { }

            namespace LeNet.Gen
            {
                [System.AttributeUsage(System.AttributeTargets.Class, AllowMultiple = true)]
                public sealed class UpsampleAttribute(int factor) : System.Attribute
                {
                    public int Factor { get; } = factor;
                }
            }
            """;

        var error = SingleError(source, "LNG0016");

        Assert.Equal(SourceSpan.Of(source, "Upsample(2)"), SourceSpan.Of(error));
        Assert.Equal(
            "[Upsample] is an attribute of the LeNet.Gen library that this generator does not know as a layer (it knows [Conv], [Pool], [Dense], [GlobalAveragePool], [Dropout], [BatchNorm]), so no network is generated for 'Net': the library and the generator come from different versions; reference a single LeNet.Gen package",
            error.GetMessage());
    }

    [Fact]
    public void An_attribute_from_another_namespace_is_not_a_layer_and_not_an_error()
    {
        string source = """
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [System.Serializable]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class Net { }
            """;

        var result = TestCompiler.Run(source);

        Assert.Empty(result.GeneratorExceptions);
        Assert.Empty(result.Errors);
        Assert.Single(result.Generated);
    }

    [Theory]
    [InlineData("public partial record Net;", "it is a record; declare a partial class")]
    [InlineData("public static partial class Net { }", "it is static, but a network is created with new and holds its weights")]
    public void LNG0012_records_and_static_classes_cannot_hold_a_network(string declaration, string why)
    {
        string source = $$"""
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dense(2, Activation = Activation.Softmax)]
            {{declaration}}
            """;

        var error = SingleError(source, "LNG0012");

        int line = SourceSpan.Of(source, declaration).Line;
        int column = declaration.IndexOf(" Net", System.StringComparison.Ordinal) + 2;
        Assert.Equal((line, column, line, column + 3), SourceSpan.Of(error)); // the class name
        Assert.Equal("'Net' cannot hold a network: " + why, error.GetMessage());
    }

    [Fact]
    public void LNG0013_nested_class_in_a_non_partial_type()
    {
        string source = """
            using LeNet.Gen;
            public class Outer
            {
                [Network(1, 4, 4)]
                [Dense(2, Activation = Activation.Softmax)]
                public partial class Inner { }
            }
            """;

        var error = SingleError(source, "LNG0013");

        Assert.Equal(SourceSpan.Of(source, "Inner"), SourceSpan.Of(error));
        Assert.Contains("'Inner' is nested in 'Outer'", error.GetMessage());
    }

    [Fact]
    public void Nested_and_generic_classes_are_supported()
    {
        string source = """
            using LeNet.Gen;
            namespace Demo.Models;
            public partial class Outer<T> where T : class
            {
                internal partial struct Holder
                {
                    [Network(1, 4, 4)]
                    [Dense(2, Activation = Activation.Softmax)]
                    public partial class Inner<TTag> { }
                }
            }
            public static class Use
            {
                public static int Length => Outer<string>.Holder.Inner<int>.InputLength + Outer<string>.Holder.Inner<int>.ParameterCount;
            }
            """;

        var result = TestCompiler.Run(source);

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
        Assert.Equal("Demo.Models.Outer_1.Holder.Inner_1.g.cs", Assert.Single(result.Generated).HintName);
    }

    [Fact]
    public void Classes_in_the_global_namespace_are_supported()
    {
        var result = TestCompiler.Run("""
            using LeNet.Gen;
            [Network(1, 4, 4)]
            [Dense(2, Activation = Activation.Softmax)]
            public partial class GlobalNet { }
            """);

        Assert.True(result.Diagnostics.IsEmpty, result.Describe());
    }

    [Fact]
    public void Compiler_errors_in_arguments_are_left_to_the_compiler()
    {
        string source = """
            using LeNet.Gen;
            public partial class Holder
            {
                static int size = 3;
                [Network(1, 4, 4)]
                [Dense(size, Activation = Activation.Softmax)]
                public partial class Net { }
            }
            """;

        var result = TestCompiler.Run(source);

        Assert.Empty(result.GeneratorExceptions);
        Assert.Equal("CS0182", Assert.Single(result.Errors).Id); // an attribute argument must be a constant expression
        Assert.Empty(result.Lng);
        Assert.Empty(result.Generated);
    }
}

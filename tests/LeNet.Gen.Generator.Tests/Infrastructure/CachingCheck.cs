using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>
/// Checks what makes an incremental generator cheap in the IDE: after an edit that does not touch the network, every
/// tracked step's output is <c>Cached</c> or <c>Unchanged</c>, and no step output holds a symbol, syntax node,
/// compilation, location or attribute data (which would keep old compilations alive and defeat caching).
/// <see cref="TestCompiler"/> runs this on every compilation it makes, so every generator test checks caching.
/// </summary>
public static class CachingCheck
{
    private static readonly string[] TrackedSteps = { NetworkGenerator.Steps.Spec, NetworkGenerator.Steps.Plan };

    private static readonly Type[] Forbidden = { typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(Location), typeof(AttributeData), typeof(SemanticModel) };

    public static void AssertCachedAfterUnrelatedEdit(Compilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: TestCompiler.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();
        if (!first.GeneratedSources.IsEmpty)
        {
            Assert.All(TrackedSteps, step => Assert.True(first.TrackedSteps.ContainsKey(step), $"no tracked step '{step}'"));
        }

        foreach (var step in TrackedSteps)
        {
            if (first.TrackedSteps.TryGetValue(step, out var runs))
            {
                foreach (var output in runs.SelectMany(r => r.Outputs))
                {
                    AssertNoForbiddenTypes(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "internal static class UnrelatedEdit { public static int Answer => 42; }", TestCompiler.ParseOptions, "/src/UnrelatedEdit.cs"));
        driver = driver.RunGenerators(edited);
        var second = driver.GetRunResult().Results.Single();

        foreach (var step in TrackedSteps)
        {
            if (!second.TrackedSteps.TryGetValue(step, out var runs))
            {
                continue;
            }

            foreach (var (output, reason) in runs.SelectMany(r => r.Outputs))
            {
                Assert.True(
                    reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"step '{step}' re-ran after an unrelated edit ({reason}) with output {output}");
            }
        }

        foreach (var (output, reason) in second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs))
        {
            Assert.True(reason == IncrementalStepRunReason.Cached, $"source output re-ran after an unrelated edit ({reason}): {output}");
        }
    }

    private static void AssertNoForbiddenTypes(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        var type = value.GetType();
        Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"step '{step}' outputs a {type.Name}, which must not travel down the pipeline");
        if (value is IEnumerable items)
        {
            foreach (var item in items)
            {
                AssertNoForbiddenTypes(item, step, seen);
            }
        }

        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                AssertNoForbiddenTypes(field.GetValue(value), step, seen);
            }
        }
    }
}

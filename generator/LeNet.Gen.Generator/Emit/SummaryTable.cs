using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// The model summary a user sees on hover and in <c>Summary</c>: one row per layer with its output shape and
/// parameter count, then the total, as a fixed-width text table.
/// </summary>
internal static class SummaryTable
{
    public static IReadOnlyList<string> Lines(NetworkPlan plan)
    {
        var rows = new List<(string Layer, string Output, string Parameters)>
        {
            ("layer", "output", "parameters"),
            ("input", plan.Input.ToString(), Count(0)),
        };
        rows.AddRange(plan.Layers.Select(l => (l.DescribeLayer(), l.Output.ToString(), Count(l.ParameterCount))));
        rows.Add(("total", string.Empty, Count(plan.ParameterCount)));

        int layerWidth = rows.Max(r => r.Layer.Length);
        int outputWidth = rows.Max(r => r.Output.Length);
        int countWidth = rows.Max(r => r.Parameters.Length);
        var lines = new List<string>
        {
            string.Format(CultureInfo.InvariantCulture, "{0}: {1} → {2}, {3} parameters", plan.Spec.Type.Name, plan.Input, plan.Output, Count(plan.ParameterCount)),
        };
        foreach (var (layer, output, parameters) in rows)
        {
            lines.Add((layer.PadRight(layerWidth) + "  " + output.PadRight(outputWidth) + "  " + parameters.PadLeft(countWidth)).TrimEnd());
        }

        return lines;
    }

    private static string Count(int value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LeNet.Gen;
using LeNet.Gen.Training;
using ScottPlot;
using SkiaSharp;

namespace LeNet.Mnist;

/// <summary>The pictures of a run, drawn with ScottPlot: training curves and the learned first-layer filters.</summary>
internal static class Plots
{
    private static readonly string? SansFont = FindSansFont();

    /// <summary>
    /// Writes curves.png (when there is a training history) and filters.png into <paramref name="folder"/>, creating it;
    /// returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> WriteAll(string folder, IReadOnlyList<EpochResult> history, SampleNetwork network)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        if (history.Count > 0 && TryWrite(Path.Combine(folder, "curves.png"), path => Curves(history, path)) is string curves)
        {
            written.Add(curves);
        }

        if (TryWrite(Path.Combine(folder, "filters.png"), path => Filters(network, path)) is string filters)
        {
            written.Add(filters);
        }

        return written;
    }

    /// <summary>
    /// Draws one picture with <paramref name="draw"/>; returns <paramref name="path"/>, or null after a warning if the
    /// native drawing library cannot be used (say, a native AOT binary copied without libSkiaSharp beside it).
    /// </summary>
    private static string? TryWrite(string path, Action<string> draw)
    {
        try
        {
            draw(path);
            return path;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            ConsoleReport.Warn($"{path} was not drawn: the native Skia library (libSkiaSharp) could not be loaded ({e.GetBaseException().GetType().Name}); it has to sit beside the program or on the library path");
            return null;
        }
    }

    /// <summary>Loss (left) and train and test accuracy (right) after every epoch.</summary>
    private static void Curves(IReadOnlyList<EpochResult> history, string path)
    {
        double[] epochs = history.Select(r => (double)r.Epoch).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        Plot loss = multiplot.GetPlot(0);
        var lossLine = loss.Add.Scatter(epochs, history.Select(r => r.Loss).ToArray());
        Style(lossLine, Colors.DarkOrange, legend: null);
        loss.Title("Training loss");
        loss.YLabel("mean cross-entropy");
        loss.Axes.SetLimitsY(0, history.Max(r => r.Loss) * 1.1);

        Plot accuracy = multiplot.GetPlot(1);
        var train = accuracy.Add.Scatter(epochs, history.Select(r => r.TrainAccuracy * 100).ToArray());
        Style(train, Colors.SteelBlue, "train");
        var test = accuracy.Add.Scatter(epochs, history.Select(r => r.TestAccuracy * 100).ToArray());
        Style(test, Colors.Crimson, "test");
        accuracy.Title("Accuracy");
        accuracy.YLabel("% correct");
        double lowest = history.Min(r => Math.Min(r.TrainAccuracy, r.TestAccuracy)) * 100;
        accuracy.Axes.SetLimitsY(Math.Max(0, Math.Floor(lowest) - 1), 100.5);
        accuracy.Legend.Alignment = Alignment.LowerRight;
        accuracy.ShowLegend();

        foreach (Plot plot in new[] { loss, accuracy })
        {
            UseSansFont(plot);
            plot.XLabel("epoch");
            plot.Axes.SetLimitsX(0.5, history.Count + 0.5);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        }

        multiplot.SavePng(path, 1200, 480);
    }

    /// <summary>The six 5×5 filters of conv1 as heat maps on one colour scale, centred on zero, with their biases.</summary>
    private static void Filters(SampleNetwork network, string path)
    {
        TensorInfo weights = Find(network, "conv1.weight");
        TensorInfo biases = Find(network, "conv1.bias");
        int filters = weights.Shape[0];
        int size = weights.Shape[2];
        ReadOnlySpan<float> parameters = network.Network.Parameters;
        ReadOnlySpan<float> all = parameters.Slice(weights.Offset, weights.Length);
        double limit = 0;
        foreach (float value in all)
        {
            limit = Math.Max(limit, Math.Abs(value));
        }

        const int Columns = 3;
        const double Gap = 1.5;
        var plot = new Plot();
        UseSansFont(plot);
        IColormap colormap = new ScottPlot.Colormaps.Balance();
        ScottPlot.Plottables.Heatmap? last = null;
        for (int f = 0; f < filters; f++)
        {
            var cells = new double[size, size];
            for (int row = 0; row < size; row++)
            {
                for (int column = 0; column < size; column++)
                {
                    cells[row, column] = all[(f * size * size) + (row * size) + column];
                }
            }

            double left = (f % Columns) * (size + Gap);
            double top = -(f / Columns) * (size + Gap + 1);
            var heatmap = plot.Add.Heatmap(cells);
            heatmap.Colormap = colormap;
            heatmap.ManualRange = new ScottPlot.Range(-limit, limit);
            heatmap.Rectangle = new CoordinateRect(left, left + size, top - size, top);

            double bias = Math.Round(parameters[biases.Offset + f], 2);
            string label = string.Create(CultureInfo.InvariantCulture, $"filter {f + 1}, bias {bias:+0.00;-0.00;0.00}");
            var text = plot.Add.Text(label, left + (size / 2.0), top + 0.6);
            text.LabelAlignment = Alignment.UpperCenter;
            text.LabelFontSize = 16;
            last = heatmap;
        }

        if (last is not null)
        {
            plot.Add.ColorBar(last).Label = "weight";
        }

        int rows = (filters + Columns - 1) / Columns;
        plot.HideAxesAndGrid();
        plot.Title("conv1: the learned 5×5 filters");
        plot.Axes.SetLimits(-0.5, (Columns * (size + Gap)) - Gap + 0.5, -(rows * (size + Gap + 1)) + Gap + 0.5, 1.5);
        plot.Axes.SquareUnits();
        plot.SavePng(path, 900, 640);
    }

    private static void Style(ScottPlot.Plottables.Scatter line, Color color, string? legend)
    {
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 7;
        if (legend is not null)
        {
            line.LegendText = legend;
        }
    }

    /// <summary>
    /// Sets the first installed sans-serif font of a short list. Skia on Linux without fontconfig (the NoDependencies
    /// build) lets ScottPlot fall back to whatever font it finds first, often a serif one.
    /// </summary>
    private static void UseSansFont(Plot plot)
    {
        if (SansFont is not null)
        {
            plot.Font.Set(SansFont);
        }
    }

    private static string? FindSansFont()
    {
        try
        {
            string[] installed = SKFontManager.Default.GetFontFamilies();
            return new[] { "Segoe UI", "Helvetica", "Arial", "DejaVu Sans", "Liberation Sans", "Noto Sans" }.FirstOrDefault(installed.Contains);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            return null; // TryWrite reports the missing native library when a picture is drawn
        }
    }

    private static TensorInfo Find(SampleNetwork network, string name) =>
        network.Network.Tensors.FirstOrDefault(t => t.Name == name)
        ?? throw new InvalidOperationException($"The network has no tensor named {name}.");
}

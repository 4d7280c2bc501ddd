using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// One layer of a generated network whose weight gradient a training step takes over its whole batch at once (its large
/// dense layers): <paramref name="Rows"/> × <paramref name="Columns"/> weights from <paramref name="WeightOffset"/> in the
/// parameter vector, whose gradient is <c>Σ n d[n, o] · x[n, i]</c> over the batch's examples n, with d the gradient of
/// the layer's output and x its input. Not meant to be used directly.
/// </summary>
/// <param name="WeightOffset">Where the layer's weights start in the parameter vector, row by row.</param>
/// <param name="Rows">Rows of the weight matrix: the layer's outputs.</param>
/// <param name="Columns">Columns of the weight matrix: the layer's inputs.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct BatchGradientInfo(int WeightOffset, int Rows, int Columns);

/// <summary>
/// The weight gradients of a training step that are taken over its whole batch at once. During the step, each example's
/// backward pass keeps the two factors of such a layer's weight gradient here (<see cref="Keep"/>) instead of adding
/// their product into the gradient; after the last example, the gradient of every weight is computed in one pass over
/// the batch, in example order, part by part (a block of rows each), and the parts may run on different threads.
/// Not meant to be used directly.
/// </summary>
/// <remarks>
/// A layer whose weights do not fit in the caches would otherwise read and write its whole gradient once per example
/// (or once per chunk of examples, plus a pass that adds the chunks up). Taken over the batch, the gradient is written
/// once per step, straight into the network's gradient, and each value is the same sum whatever the thread count.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class BatchGradients
{
    /// <summary>Weights per part, about: a block of rows whose gradient (32 KB) stays in the level-1 cache while it is summed.</summary>
    public const int PartWeights = 8192;

    private readonly BatchGradientInfo[] _layers;
    private readonly int[] _before; // per layer: rows + columns of the layers before it; its block starts at count × this
    private readonly int _perExample;
    private readonly (int Layer, int FirstRow, int EndRow)[] _parts;
    private float[] _values = Array.Empty<float>();
    private int _count;

    /// <summary>Keeps the factors of <paramref name="layers"/>, which must lie inside <paramref name="parameterCount"/> parameters without overlapping.</summary>
    /// <exception cref="ArgumentException">A layer is empty, reaches outside the parameters or overlaps another.</exception>
    public BatchGradients(BatchGradientInfo[] layers, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = (BatchGradientInfo[])layers.Clone();
        _before = new int[_layers.Length];
        var parts = new List<(int, int, int)>();
        for (int k = 0; k < _layers.Length; k++)
        {
            var layer = _layers[k];
            long end = layer.WeightOffset + ((long)layer.Rows * layer.Columns);
            if (layer.Rows < 1 || layer.Columns < 1 || layer.WeightOffset < 0 || end > parameterCount)
            {
                throw new ArgumentException($"Batch gradient layer {k}: {layer.Rows} × {layer.Columns} weights at {layer.WeightOffset} do not fit in {parameterCount} parameters.", nameof(layers));
            }

            for (int j = 0; j < k; j++)
            {
                var other = _layers[j];
                if (layer.WeightOffset < other.WeightOffset + ((long)other.Rows * other.Columns) && other.WeightOffset < end)
                {
                    throw new ArgumentException($"Batch gradient layers {j} and {k} overlap (weights at {other.WeightOffset} and {layer.WeightOffset}).", nameof(layers));
                }
            }

            _before[k] = _perExample;
            _perExample = checked(_perExample + layer.Rows + layer.Columns);

            // Whole tiles of the kernel's rows per part, so that only a layer's last part may have a short one.
            int tile = Simd.OuterProductTileRows;
            int rows = Math.Min(layer.Rows, Math.Max(tile, PartWeights / layer.Columns / tile * tile));
            for (int first = 0; first < layer.Rows; first += rows)
            {
                parts.Add((k, first, Math.Min(layer.Rows, first + rows)));
            }
        }

        _parts = parts.ToArray();
    }

    /// <summary>How many parts <see cref="WritePart"/> takes.</summary>
    public int Parts => _parts.Length;

    /// <summary>The examples of the current step.</summary>
    public int Count => _count;

    /// <summary>Starts a step of <paramref name="count"/> examples: <see cref="Keep"/> may then take examples 0 … count − 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    public void Begin(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long length = (long)count * _perExample;
        if (_values.Length < length)
        {
            _values = new float[length];
        }

        _count = count;
    }

    /// <summary>
    /// Keeps example <paramref name="example"/>'s factors of the layer whose weights start at <paramref name="weightOffset"/>:
    /// the gradient of its output (<c>Rows</c> values) and its input (<c>Columns</c> values).
    /// </summary>
    /// <exception cref="ArgumentException">No layer's weights start there, the example is outside the step, or a span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Keep(int weightOffset, int example, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input)
    {
        int k = 0;
        while (k < _layers.Length && _layers[k].WeightOffset != weightOffset)
        {
            k++;
        }

        if (k == _layers.Length || (uint)example >= (uint)_count)
        {
            throw new ArgumentException($"No kept layer has weights at {weightOffset}, or example {example} is outside the step's {_count}.");
        }

        var info = _layers[k];
        int block = _count * _before[k];
        outputGradient.Slice(0, info.Rows).CopyTo(_values.AsSpan(block + (example * info.Rows), info.Rows));
        Simd.PackColumns(input, example, _count, info.Columns, _values.AsSpan(block + (_count * info.Rows), _count * info.Columns));
    }

    /// <summary>
    /// Writes part <paramref name="part"/> of the weight gradients (a block of one layer's rows) into
    /// <paramref name="gradients"/>, the network's whole gradient: each value becomes <c>Σ n d[n, o] · x[n, i]</c> over
    /// the step's examples in order, replacing what was there. Returns false when some value written is NaN or infinite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool WritePart(int part, Span<float> gradients)
    {
        var (k, first, end) = _parts[part];
        var info = _layers[k];
        int block = _count * _before[k];
        var weights = gradients.Slice(info.WeightOffset, info.Rows * info.Columns);
        Simd.OuterProducts(
            _values.AsSpan(block, _count * info.Rows),
            _values.AsSpan(block + (_count * info.Rows), _count * info.Columns),
            _count,
            info.Rows,
            info.Columns,
            first,
            end,
            weights);
        return Check.FirstNonFinite(weights.Slice(first * info.Columns, (end - first) * info.Columns)) < 0;
    }

    /// <summary>
    /// The parameters outside every layer of <paramref name="layers"/>, in order, cut into ranges of at most
    /// <paramref name="length"/> values: what is left for the gradient passes that go by parameter.
    /// </summary>
    public static (int Start, int Length)[] RangesOutside(ReadOnlySpan<BatchGradientInfo> layers, int parameterCount, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var covered = new List<(int Start, int End)>();
        foreach (var layer in layers)
        {
            covered.Add((layer.WeightOffset, layer.WeightOffset + (layer.Rows * layer.Columns)));
        }

        covered.Sort();
        var ranges = new List<(int, int)>();
        int at = 0;
        foreach (var (start, end) in covered)
        {
            Cut(at, start);
            at = Math.Max(at, end);
        }

        Cut(at, parameterCount);
        return ranges.ToArray();

        void Cut(int from, int to)
        {
            while (from < to)
            {
                int cut = Math.Min(length, to - from);
                ranges.Add((from, cut));
                from += cut;
            }
        }
    }
}

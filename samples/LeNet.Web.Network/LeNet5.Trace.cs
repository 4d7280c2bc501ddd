using System;
using System.Collections.Generic;

namespace LeNet.Web;

/// <summary>
/// What the page shows of one forward pass: the output of every layer, computed by the generated code itself (this part
/// of the partial class calls the generated <c>Forward</c> and reads the buffers it wrote, so nothing is recomputed
/// here). It depends on the generated class's private members: a generator change that renames them fails this build
/// rather than letting the page drift.
/// </summary>
public partial class LeNet5
{
    /// <summary>The layers whose outputs <see cref="Trace"/> returns, in order, with their shapes (channels × height × width, or units).</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> TracedLayers { get; } =
    [
        ("conv1", [6, 28, 28]),
        ("pool1", [6, 14, 14]),
        ("conv2", [16, 10, 10]),
        ("pool2", [16, 5, 5]),
        ("fc1", [120]),
        ("fc2", [84]),
        ("fc3", [10]),
    ];

    /// <summary>
    /// Runs the generated forward pass on one input and returns a copy of every layer's output. Safe on several threads
    /// at once, like <c>Predict</c> (each call has its own buffers), as long as nobody changes the parameters meanwhile.
    /// </summary>
    /// <param name="input"><see cref="InputLength"/> values, 1×32×32, row-major.</param>
    /// <returns>One array per entry of <see cref="TracedLayers"/>; the last holds the class probabilities.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> does not hold <see cref="InputLength"/> values.</exception>
    public float[][] Trace(ReadOnlySpan<float> input)
    {
        global::LeNet.Gen.Runtime.Check.Length(input.Length, InputLength, "1×32×32", nameof(LeNet5), nameof(input));
        var workspace = new Workspace(training: false);
        PrepareKernels(_parameters, workspace, batch: false, training: false, kept: false); // the kernels Predict chooses for one input (the packed dense rows it keeps across calls give the same values), so the probabilities are Predict's
        Forward(_parameters, input, workspace);
        float[][] buffers =
        [
            workspace.Conv1Output,
            workspace.Pool1Output,
            workspace.Conv2Output,
            workspace.Pool2Output,
            workspace.Fc1Output,
            workspace.Fc2Output,
            workspace.Fc3Output,
        ];
        var outputs = new float[buffers.Length][];
        for (int layer = 0; layer < buffers.Length; layer++)
        {
            int length = 1;
            foreach (int dimension in TracedLayers[layer].Shape)
            {
                length *= dimension;
            }

            // Some buffers are a little longer than the layer's output (the vector code reads past the last row).
            outputs[layer] = buffers[layer].AsSpan(0, length).ToArray();
        }

        return outputs;
    }
}

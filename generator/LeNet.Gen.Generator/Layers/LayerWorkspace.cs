using System;
using System.Collections.Generic;
using LeNet.Gen.Generator.Emit;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// What a layer's chosen code needs in the generated workspace besides the buffer it writes and that buffer's gradient,
/// which every layer has (<see cref="LayerCode.Written"/>): declared by its unit (<see cref="ILayerKind.Workspace"/>),
/// so that the workspace allocates exactly the buffers the chosen kernels use.
/// </summary>
/// <param name="Input">
/// The layer's input moved into a buffer of another layout before its forward method runs, or null when its methods read
/// their source's output (or the network's input) directly.
/// </param>
/// <param name="Scratch">
/// Buffers the layer's methods reach through the workspace, which they then take as their last argument: intermediate
/// results of vector kernels. The workspace declares them after the layer's written buffers, in this order.
/// </param>
/// <param name="SourceLength">
/// Values the layer's methods read from their source's output buffer when they read it directly (no <paramref name="Input"/>):
/// vector loads may run past the tensor's end, and that buffer is then allocated at least this long. 0 for code that reads
/// no further than the tensor.
/// </param>
internal sealed record LayerWorkspace(StagedInput? Input, IReadOnlyList<WorkspaceBuffer> Scratch, long SourceLength)
{
    /// <summary>A layer that needs no buffer of its own and reads no further than its input tensor.</summary>
    public static readonly LayerWorkspace None = new(null, Array.Empty<WorkspaceBuffer>(), 0);
}

/// <summary>
/// One <c>float[]</c> field of the generated workspace.
/// </summary>
/// <param name="Name">The field's name, e.g. <c>Conv1PaddedInput</c>.</param>
/// <param name="Length">Values it holds.</param>
/// <param name="Holds">
/// What it holds, written as a comment next to its allocation (<c>conv1 input, padded: 1×32×32</c>); null for a buffer
/// only training uses, which the workspace's constructor allocates without a comment.
/// </param>
/// <param name="TrainingOnly">
/// True for a buffer only the backward pass uses: a training workspace allocates it, Predict's workspaces leave it empty,
/// and a network without training does not declare it.
/// </param>
internal sealed record WorkspaceBuffer(string Name, long Length, string? Holds, bool TrainingOnly)
{
    /// <summary>A buffer the forward pass uses, so every workspace allocates it.</summary>
    public static WorkspaceBuffer Always(string name, long length, string holds) => new(name, length, holds, TrainingOnly: false);

    /// <summary>A buffer only the backward pass uses.</summary>
    public static WorkspaceBuffer Training(string name, long length) => new(name, length, null, TrainingOnly: true);
}

/// <summary>
/// A layer's input moved, before its forward method runs, into a workspace buffer laid out for its window (a zero-padded
/// copy, or a copy with room for vector loads past the end). The layer's methods read that buffer in place of their
/// source's output, and the backward method writes the input's gradient in the same layout.
/// </summary>
/// <param name="Buffer">The staged input.</param>
/// <param name="Fill">The forward-pass statement that fills <paramref name="Buffer"/>, from the C# expression of the layer's input.</param>
/// <param name="Gradient">
/// The gradient of <paramref name="Buffer"/>, which the backward method writes; null when the backward pass writes the
/// gradient of the source's output directly or needs none (the network's first layer).
/// </param>
/// <param name="Drain">
/// The backward-pass statement that turns <paramref name="Gradient"/> into the gradient of the layer's input, given as a
/// C# expression; null exactly when <paramref name="Gradient"/> is.
/// </param>
/// <param name="BackwardOnly">
/// True when the forward method reads the layer's input in place and only the backward method reads
/// <paramref name="Buffer"/> (a training-only buffer then): the backward pass fills it just before that method runs, so
/// Predict pays for no copy.
/// </param>
internal sealed record StagedInput(WorkspaceBuffer Buffer, Func<string, string> Fill, WorkspaceBuffer? Gradient, Func<string, string>? Drain, bool BackwardOnly = false);

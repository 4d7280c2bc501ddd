using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Emit;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// A convolution's plan for the generated code, worked out from its shapes: whether its window reads a zero-padded copy
/// of the input, whether it gets vector kernels (<see cref="WideConv"/>: directly for stride 1, over phase planes for
/// larger strides, <see cref="IsSpaceToDepth"/>) and which weight-gradient kernel
/// each vector width uses, and from that the workspace buffers the chosen kernels read and write (<see cref="Workspace"/>).
/// </summary>
internal sealed class ConvCode
{
    public ConvCode(LayerCode code)
    {
        Code = code;
        Spec = (ConvSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        var output = code.Layer.Output;

        // The window reads a zero-padded copy of the input when the layer has padding, or when Ceiling rounding places a
        // last window that hangs over the bottom or right edge. A convolution has one filter per output channel.
        int kernel = Spec.Kernel, filters = output.Channels;
        PaddedHeight = Math.Max(input.Height + (2 * Spec.Padding), ((output.Height - 1) * Spec.Stride) + kernel);
        PaddedWidth = Math.Max(input.Width + (2 * Spec.Padding), ((output.Width - 1) * Spec.Stride) + kernel);
        IsPadded = PaddedHeight != input.Height || PaddedWidth != input.Width;
        var (h, w) = IsPadded ? (PaddedHeight, PaddedWidth) : (input.Height, input.Width);
        WindowHeight = h;
        WindowWidth = w;
        if (Spec.Stride == 1)
        {
            var forward = new WideConv(input.Channels, h, w, kernel, filters, output.Height, output.Width);
            if (VectorIsa.All.All(forward.Fits))
            {
                ForwardWide = forward;
                InputGradientWide = new WideConv(filters, h + kernel - 1, w + kernel - 1, kernel, input.Channels, h, w);
            }
        }
        else
        {
            // Space-to-depth: the stride-s convolution is a stride-1 one over C·s² phase planes with ⌈K / s⌉ sub-kernels
            // (LeNet.Gen.Runtime.SpaceToDepth). Sizes that would overflow the generated int arithmetic keep the scalar code.
            int s = Spec.Stride, sub = ((kernel - 1) / s) + 1;
            long planes = (long)input.Channels * s * s;
            int planeHeight = output.Height + sub - 1, planeWidth = output.Width + sub - 1;
            long planeValues = planes * (planeHeight + sub - 1) * (planeWidth + sub - 1);
            long subWeights = planes * filters * sub * sub;
            if (planeValues <= MaxPhaseValues && subWeights <= MaxPhaseValues && (long)filters * (planeHeight + sub) * (planeWidth + sub) <= MaxPhaseValues)
            {
                var forward = new WideConv((int)planes, planeHeight, planeWidth, sub, filters, output.Height, output.Width);
                if (VectorIsa.All.All(forward.Fits))
                {
                    ForwardWide = forward;
                    InputGradientWide = new WideConv(filters, planeHeight + sub - 1, planeWidth + sub - 1, sub, (int)planes, planeHeight, planeWidth);
                    IsSpaceToDepth = true;
                }
            }
        }
    }

    /// <summary>
    /// Why the stride-1 forward kernels read shifted column copies of their source (<see cref="ConvCostModel.ColumnCopies"/>),
    /// or null when they read the source's own rows (and for strided layers, whose phase planes have their own wide rows).
    /// </summary>
    public string? ColumnCopiesReason => ForwardWide is { } wide && !IsSpaceToDepth
        ? ConvCostModel.ColumnCopies(wide.InChannels, wide.Kernel, wide.OutChannels, wide.SourceHeight, wide.OutWidth, wide.Tile(VectorIsa.Avx2).Plane, wide.OnColumnCopies().Tile(VectorIsa.Avx2).Plane)
        : null;

    /// <summary>The forward convolution on shifted column copies (<see cref="WideConv.OnColumnCopies"/>) when the cost model chose them, else null.</summary>
    public WideConv? ForwardCopies => ColumnCopiesReason is null ? null : ForwardWide!.OnColumnCopies();

    /// <summary>The buffer of <see cref="ForwardCopies"/>'s source: the input's shifted column copies.</summary>
    public string ColumnCopies => Code.Pascal + "ColumnCopies";

    /// <summary>Where the cost model runs Winograd's kernels for the layer (<see cref="ConvCostModel"/>), or null when it keeps the direct kernels only.</summary>
    public WinogradChoice? Winograd => ConvCostModel.Winograd(Spec.Kernel, Spec.Stride, IsVectorized, Code.Layer.Input.Channels, Code.Layer.Output.Channels, Code.Layer.Output.Height, Code.Layer.Output.Width);

    /// <summary>
    /// The direct wide-row kernels' estimated nanoseconds per image (<see cref="ConvCostModel.DirectNs"/>), or null without
    /// them.
    /// </summary>
    public double? DirectNs => ForwardWide is { } wide ? ConvCostModel.DirectNs(wide.InChannels, wide.Kernel, wide.OutChannels, wide.Tile(VectorIsa.Avx2).Plane) + PhaseSplitNs : null;

    // A space-to-depth layer's direct kernels first split the input into its phase planes, every call.
    private double PhaseSplitNs => IsSpaceToDepth ? ConvCostModel.PhaseSplitNs((long)ForwardWide!.InChannels * ForwardWide.SourcePlane) : 0;

    /// <summary>
    /// Where the cost model runs the layer's forward passes with the filters across the lanes
    /// (<see cref="ConvCostModel.FilterLanes"/>), or null: for layers whose Winograd kernels, if any, serve batch calls
    /// only. Those keep Winograd's kernels for batch calls and use the filters in lanes for single images.
    /// </summary>
    public FilterLanesChoice? FilterLanes => DirectNs is { } direct && Winograd is not { SingleImages: true }
        ? ConvCostModel.FilterLanes(IsVectorized, Code.Layer.Input.Channels, Code.Layer.Output.Channels, Spec.Kernel, Code.Layer.Output.Height, Code.Layer.Output.Width, direct, DirectNs512!.Value, phasePlanes: IsSpaceToDepth)
        : null;

    /// <summary>The direct wide-row kernels' estimate with AVX-512: their 16-lane plane at twice the rate of <see cref="DirectNs"/> (a space-to-depth layer's split at the same cost).</summary>
    public double? DirectNs512 => ForwardWide is { } wide ? (ConvCostModel.DirectNs(wide.InChannels, wide.Kernel, wide.OutChannels, wide.Tile(VectorIsa.Avx512).Plane) / 2) + PhaseSplitNs : null;

    /// <summary>The workspace flag that tells the forward pass to run the filters-in-lanes kernels, set by <c>PrepareKernels</c>.</summary>
    public string UsesFilterLanes => Code.Pascal + "UsesFilterLanes";

    /// <summary>The workspace field with the layer's weights packed for the filters-in-lanes kernels (taps × filters).</summary>
    public string FilterLanesWeights => Code.Pascal + "FilterLanesWeights";

    /// <summary>The workspace field with the weights <see cref="FilterLanesWeights"/> were packed from (<c>PreparedWeights</c>).</summary>
    public string FilterLanesSource => Code.Pascal + "FilterLanesSource";

    /// <summary>The workspace field with the filters-in-lanes kernels' outputs, position by position.</summary>
    public string FilterLanesScratch => Code.Pascal + "FilterLanesScratch";

    /// <summary>The workspace flag that tells the forward pass to run Winograd's kernels, set by <c>PrepareKernels</c>.</summary>
    public string UsesWinograd => Code.Pascal + "UsesWinograd";

    /// <summary>
    /// Where the cost model runs Winograd's kernels for the input gradient in training (a 3×3 convolution of the output
    /// gradient, padded by 2, with the kernels turned by 180°, filters and channels swapped), or null. Only batch steps use
    /// it: the weights are transformed once per step and workspace.
    /// </summary>
    public WinogradChoice? WinogradBackward => Code.IsFirst || !Code.Plan.CanTrain || InputGradientWide is null || IsSpaceToDepth
        ? null
        : ConvCostModel.Winograd(Spec.Kernel, 1, IsVectorized, Code.Layer.Output.Channels, Code.Layer.Input.Channels, WindowHeight, WindowWidth);

    /// <summary>The workspace flag that tells the backward pass to run Winograd's kernels for the input gradient.</summary>
    public string UsesWinogradBackward => Code.Pascal + "UsesWinogradBackward";

    /// <summary>
    /// Why the input gradient runs as a matrix product and a scatter (<see cref="ConvCostModel.ColumnGradient"/>), or null
    /// when it runs on wide rows: for stride-1 layers with an input gradient and no Winograd for it.
    /// </summary>
    public string? ColumnGradient => Code.IsFirst || !Code.Plan.CanTrain || InputGradientWide is null || IsSpaceToDepth || WinogradBackward is not null
        ? null
        : ConvCostModel.ColumnGradient(Code.Layer.Input.Channels, Code.Layer.Output.Channels, Spec.Kernel, Code.Layer.Output.Height, Code.Layer.Output.Width, InputGradientWide.Tile(VectorIsa.Avx2).Plane);

    /// <summary>True when <see cref="ColumnGradient"/> chose the product and the scatter.</summary>
    public bool UsesColumnGradient => ColumnGradient is not null;

    /// <summary>The scratch of the product and the scatter: the padded output gradient and the product.</summary>
    public string Columns => Code.Pascal + "Columns";

    /// <summary>The workspace field with the turned kernels transformed for Winograd.</summary>
    public string WinogradBackwardWeights => Code.Pascal + "WinogradBackwardWeights";

    /// <summary>The workspace field with the backward Winograd scratch.</summary>
    public string WinogradBackwardScratch => Code.Pascal + "WinogradBackwardScratch";

    /// <summary>The workspace field with the layer's Winograd-transformed weights.</summary>
    public string WinogradWeights => Code.Pascal + "WinogradWeights";

    /// <summary>The workspace field with the weights <see cref="WinogradWeights"/> were transformed from (<c>PreparedWeights</c>).</summary>
    public string WinogradSource => Code.Pascal + "WinogradSource";

    /// <summary>The workspace field with the layer's Winograd scratch.</summary>
    public string WinogradScratch => Code.Pascal + "WinogradScratch";

    // The most values a buffer of the space-to-depth code may hold: far below int.MaxValue, so that the offsets the
    // vector kernels compute (a plane plus a few rows past its end) cannot overflow.
    private const long MaxPhaseValues = 1L << 28;

    /// <summary>The layer's names and shapes, as every kind has them.</summary>
    public LayerCode Code { get; }

    /// <summary>The attribute's values.</summary>
    public ConvSpec Spec { get; }

    /// <summary>True when the window reads a zero-padded copy of the input, <see cref="PaddedHeight"/> × <see cref="PaddedWidth"/> per channel.</summary>
    public bool IsPadded { get; }

    /// <summary>Rows of the padded copy: the input's with the padding on both sides, or more for a Ceiling window hanging over the edge.</summary>
    public int PaddedHeight { get; }

    /// <summary>Columns of the padded copy.</summary>
    public int PaddedWidth { get; }

    /// <summary>Rows of what the window reads: <see cref="PaddedHeight"/> when <see cref="IsPadded"/>, else the input's.</summary>
    public int WindowHeight { get; }

    /// <summary>Columns of what the window reads.</summary>
    public int WindowWidth { get; }

    /// <summary>
    /// True when the vector code computes a strided convolution as a stride-1 one over phase planes (space-to-depth):
    /// <see cref="ForwardWide"/> then reads <see cref="Phases"/>, with the layer's kernels as sub-kernels (<see cref="Emit.StridedWeights"/>); the
    /// backward kernels read the rearranged sub-kernels <see cref="PhaseWeights"/>.
    /// </summary>
    public bool IsSpaceToDepth { get; }

    /// <summary>The stride-1 convolution the vector code computes: over the window's source, or over the phase planes (<see cref="IsSpaceToDepth"/>); null when the layer only has scalar code (outputs too small for a full vector).</summary>
    public WideConv? ForwardWide { get; }

    /// <summary>The input gradient as a convolution of the padded output gradient, for the vector code; null with <see cref="ForwardWide"/>.</summary>
    public WideConv? InputGradientWide { get; }

    /// <summary>True when the layer has vector kernels, which its scalar methods call first.</summary>
    public bool IsVectorized => ForwardWide is not null;

    /// <summary>
    /// Which weight-gradient kernel the vector code uses for <paramref name="isa"/>: one filter per lane when the filters fill
    /// whole vectors (it reads the output gradient transposed, <see cref="TransposedGradient"/>), otherwise dot products
    /// over the wide plane (it reads the output gradient on wide rows, <see cref="WideGradient"/>).
    /// </summary>
    public bool FiltersFillVectors(VectorIsa isa) => ForwardWide!.OutChannels % isa.Lanes == 0;

    /// <summary>True when some vector width's weight-gradient kernel reads <see cref="WideGradient"/>.</summary>
    public bool UsesWideGradient => IsVectorized && VectorIsa.All.Any(isa => !FiltersFillVectors(isa));

    /// <summary>True when some vector width's weight-gradient kernel reads <see cref="TransposedGradient"/>.</summary>
    public bool UsesTransposedGradient => IsVectorized && VectorIsa.All.Any(FiltersFillVectors);

    /// <summary>
    /// True when training steps keep the layer's weight gradient over each chunk of examples with the filters adjacent
    /// (<see cref="PendingWeightGradient"/>), as the filters-in-lanes kernel sums it, and add it into the gradient once per
    /// chunk (<c>FinishExamples</c>) instead of spreading each example's vectors over the filters one value at a time: when
    /// the filters fill the vectors of every instruction set.
    /// </summary>
    public bool DefersWeightGradient => Code.Plan.CanTrain && IsVectorized && VectorIsa.All.All(FiltersFillVectors);

    /// <summary>The workspace flag, set by <c>PrepareKernels</c> for training steps, that says the weight gradient is deferred (<see cref="DefersWeightGradient"/>).</summary>
    public string DefersFlag => Code.Pascal + "DefersWeightGradient";

    /// <summary>The chunk's weight gradient with the filters adjacent: [channel, i, j, filter] of the stride-1 kernels' weights.</summary>
    public string PendingWeightGradient => Code.Pascal + "PendingWeightGradient";

    /// <summary>Values the source of <see cref="ForwardWide"/> must hold, so vector loads past its last row stay inside it; 0 without vector code.</summary>
    public int WideSourceLength => ForwardWide is null ? 0 : VectorIsa.All.Max(isa => ForwardWide.SourceLength(isa));

    /// <summary>
    /// Values the buffer the window reads from must hold: <see cref="WideSourceLength"/> when the stride-1 vector code reads
    /// it directly; 0 without vector code or with space-to-depth, whose vector code reads <see cref="Phases"/>.
    /// </summary>
    public int SourceLength => IsSpaceToDepth ? 0 : WideSourceLength;

    /// <summary>
    /// A first layer with stride-1 vector code needs a copy of the caller's input, which has room for the vector loads past
    /// its end: in every pass, or only for the weight gradient when the forward kernels read the input in place
    /// (<see cref="ReadsInputInPlace"/>).
    /// </summary>
    public bool CopiesInput => Code.IsFirst && IsVectorized && !IsSpaceToDepth && !IsPadded;

    /// <summary>
    /// True when a first layer's forward kernels read the caller's input in place: for every vector width one register
    /// tile fits in the used positions, so the last tile can end at the last output and no load passes the input's end
    /// (<see cref="WideConv.LastTileFits"/>). Predict then copies nothing; training copies the input for the weight
    /// gradient, whose loads run over the whole wide plane.
    /// </summary>
    public bool ReadsInputInPlace => CopiesInput && VectorIsa.All.All(ForwardWide!.LastTileFits);

    /// <summary>The stride (the sides of the phase planes' grid) as the space-to-depth code uses it.</summary>
    public int Stride => Spec.Stride;

    /// <summary>The copy of the caller's input (<see cref="CopiesInput"/>).</summary>
    public string InputCopy => Code.Pascal + "Input";

    /// <summary>The zero-padded copy of the input (<see cref="IsPadded"/>).</summary>
    public string PaddedInput => Code.Pascal + "PaddedInput";

    /// <summary>The gradient of <see cref="PaddedInput"/>, which the backward method writes and the Unpad method crops.</summary>
    public string PaddedInputGradient => Code.Pascal + "PaddedInputGradient";

    /// <summary>The vector forward pass's output, on wide rows, before it is compacted into the output.</summary>
    public string Wide => Code.Pascal + "Wide";

    /// <summary>The output gradient on wide rows, for the dot-product weight-gradient kernel.</summary>
    public string WideGradient => Code.Pascal + "WideGradient";

    /// <summary>The output gradient transposed (position-major), for the filter-per-lane weight-gradient kernel.</summary>
    public string TransposedGradient => Code.Pascal + "TransposedGradient";

    /// <summary>The output gradient zero-padded by kernel − 1 on wide rows, the source of the vector input gradient.</summary>
    public string PaddedGradient => Code.Pascal + "PaddedGradient";

    /// <summary>The kernels turned by 180° with filters and channels swapped, the weights of the vector input gradient.</summary>
    public string RotatedWeights => Code.Pascal + "RotatedWeights";

    /// <summary>The workspace flag that says <see cref="RotatedWeights"/> (and <see cref="PhaseWeights"/>) hold the current step's weights, set by <c>PrepareKernels</c>.</summary>
    public string WeightsTurned => Code.Pascal + "WeightsTurned";

    /// <summary>The vector input gradient on wide rows, before it is compacted into the input gradient.</summary>
    public string WideInputGradient => Code.Pascal + "WideInputGradient";

    /// <summary>The phase planes of the window's source (<see cref="IsSpaceToDepth"/>), which the forward pass writes and the weight gradient reads again.</summary>
    public string Phases => Code.Pascal + "Phases";

    /// <summary>The sub-kernels of the phase planes, rearranged from the weights by the forward pass and read again by the input gradient.</summary>
    public string PhaseWeights => Code.Pascal + "PhaseWeights";

    /// <summary>The gradient of <see cref="PhaseWeights"/>, folded back into the weight gradient.</summary>
    public string PhaseWeightGradient => Code.Pascal + "PhaseWeightGradient";

    /// <summary>The gradient of <see cref="Phases"/>, merged back (depth-to-space) into the gradient of the window's source.</summary>
    public string PhaseGradient => Code.Pascal + "PhaseGradient";

    /// <summary>Taps of the sub-kernels per filter and input channel (s²·K'²), of which <c>K²</c> are the kernel's and the rest zero.</summary>
    public int PhaseTaps => Stride * Stride * ForwardWide!.Kernel * ForwardWide.Kernel;

    /// <summary>
    /// A comment line that says how the vector code computes a strided convolution, e.g. <c>stride 2: the input split into
    /// 4 phase planes per channel, 3×3 → 2×2 sub-kernels (7 of 16 taps zero), then the stride-1 wide kernel</c>; null
    /// without space-to-depth.
    /// </summary>
    public string? SpaceToDepthSummary => IsSpaceToDepth
        ? $"stride {Stride}: the input split into {Stride * Stride} phase planes per channel ({ForwardWide!.InChannels}×{ForwardWide.SourceHeight}×{ForwardWide.SourceWidth}), " +
          $"{Spec.Kernel}×{Spec.Kernel} kernels → {ForwardWide.Kernel}×{ForwardWide.Kernel} sub-kernels ({PhaseTaps - (Spec.Kernel * Spec.Kernel)} of {PhaseTaps} taps zero), then the stride-1 wide kernel"
        : null;

    /// <summary>
    /// The buffers the chosen kernels use: the staged input (a padded copy, or a copy of the caller's input with room for the
    /// vector loads), and for vector code its wide output and, in training, the buffers of the weight-gradient kernel each
    /// vector width picks and of the input gradient.
    /// </summary>
    public LayerWorkspace Workspace()
    {
        var layer = Code.Layer;
        var input = layer.Input;
        StagedInput? staged = null;
        if (ReadsInputInPlace)
        {
            staged = new StagedInput(
                WorkspaceBuffer.Training(InputCopy, SourceLength),
                source => $"{source}.CopyTo(workspace.{InputCopy}); // the weight gradient's vector code reads a little past the last row",
                Gradient: null,
                Drain: null,
                BackwardOnly: true);
        }
        else if (CopiesInput)
        {
            staged = new StagedInput(
                WorkspaceBuffer.Always(InputCopy, SourceLength, $"{layer.Name} input: {input}"),
                source => $"{source}.CopyTo(workspace.{InputCopy}); // the vector code reads a little past the last row",
                Gradient: null,
                Drain: null);
        }
        else if (IsPadded)
        {
            long padded = (long)input.Channels * PaddedHeight * PaddedWidth;
            var buffer = WorkspaceBuffer.Always(PaddedInput, Math.Max(padded, SourceLength), $"{layer.Name} input, padded: {input.Channels}×{PaddedHeight}×{PaddedWidth}");
            string Fill(string source) => $"{Code.Pascal}Pad({source}, workspace.{PaddedInput});";
            staged = Code.IsFirst
                ? new StagedInput(buffer, Fill, Gradient: null, Drain: null)
                : new StagedInput(buffer, Fill, WorkspaceBuffer.Training(PaddedInputGradient, padded), gradient => $"{Code.Pascal}Unpad(workspace.{PaddedInputGradient}, {gradient});");
        }

        var scratch = new List<WorkspaceBuffer>();
        if (ForwardWide is { } forward)
        {
            long subWeights = (long)forward.OutChannels * forward.InChannels * forward.Kernel * forward.Kernel;
            if (IsSpaceToDepth)
            {
                scratch.Add(WorkspaceBuffer.Always(Phases, Math.Max((long)forward.InChannels * forward.SourcePlane, WideSourceLength), $"{layer.Name} phase planes: {forward.InChannels}×{forward.SourceHeight}×{forward.SourceWidth}"));
                scratch.Add(WorkspaceBuffer.Training(PhaseWeightGradient, subWeights));
            }

            long wide = VectorIsa.All.Max(isa => (long)forward.Tile(isa).Plane * forward.OutChannels);
            if (ForwardCopies is { } copies)
            {
                scratch.Add(WorkspaceBuffer.Always(ColumnCopies, VectorIsa.All.Max(copies.SourceLength), $"{layer.Name} input as {copies.Kernel} shifted column copies"));
                wide = Math.Max(wide, VectorIsa.All.Max(isa => (long)copies.Tile(isa).Plane * copies.OutChannels));
            }

            scratch.Add(WorkspaceBuffer.Always(Wide, wide, $"{layer.Name} output on wide rows"));
            if (UsesWideGradient)
            {
                scratch.Add(WorkspaceBuffer.Training(WideGradient, wide));
            }

            if (UsesTransposedGradient)
            {
                scratch.Add(WorkspaceBuffer.Training(TransposedGradient, layer.Output.Length));
            }

            if (UsesColumnGradient)
            {
                int outHeight = Code.Layer.Output.Height, outWidth = Code.Layer.Output.Width;
                long padded = ((long)outHeight * outWidth + 7) / 8 * 8;
                scratch.Add(WorkspaceBuffer.Training(Columns, (forward.OutChannels + ((long)forward.InChannels * forward.Kernel * forward.Kernel)) * padded));
            }
            else if (!Code.IsFirst)
            {
                var backward = InputGradientWide!;
                scratch.Add(WorkspaceBuffer.Training(PaddedGradient, Math.Max((long)backward.InChannels * backward.SourcePlane, VectorIsa.All.Max(isa => backward.SourceLength(isa)))));
                if (IsSpaceToDepth)
                {
                    scratch.Add(WorkspaceBuffer.Training(PhaseWeights, subWeights)); // the sub-kernels, which are then turned
                }

                scratch.Add(WorkspaceBuffer.Training(RotatedWeights, subWeights));
                scratch.Add(WorkspaceBuffer.Training(WideInputGradient, VectorIsa.All.Max(isa => (long)backward.Tile(isa).Plane * backward.OutChannels)));
                if (IsSpaceToDepth)
                {
                    scratch.Add(WorkspaceBuffer.Training(PhaseGradient, (long)forward.InChannels * forward.SourcePlane));
                }
            }
        }

        // Vector loads run past the last row of what the window reads; a staged copy has the room, the source's output must have it otherwise.
        return new LayerWorkspace(staged, scratch, staged is null ? SourceLength : 0);
    }
}

using LeNet.Gen.Generator.Emit;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// A convolution whose Winograd products take the tiles of several images at once in batch calls
/// (<see cref="ConvCostModel.WinogradGroup"/>), through the runtime's <c>Winograd.GroupInput</c>, <c>GroupProducts</c> and
/// <c>GroupOutput</c>. Each image's output is exactly what the layer's single-image Winograd call gives it.
/// </summary>
internal sealed class WinogradGroupStep : ImageGroupStep
{
    private readonly ConvCode _conv;
    private readonly string _shape;

    private WinogradGroupStep(ConvCode conv, int images, string reason)
    {
        _conv = conv;
        Images = images;
        Reason = reason;
        var layer = conv.Code.Layer;

        // channels, window height and width (the padded input the single-image call reads), padding 0, filters
        _shape = $"{Int(layer.Input.Channels)}, {Int(conv.WindowHeight)}, {Int(conv.WindowWidth)}, 0, {Int(layer.Output.Channels)}";
    }

    /// <summary>The step for a layer whose cost model runs Winograd in batch calls on fewer tiles an image than a product wants; otherwise null.</summary>
    public static WinogradGroupStep? For(ConvCode conv)
    {
        if (conv.Winograd is null)
        {
            return null;
        }

        var output = conv.Code.Layer.Output;
        return ConvCostModel.WinogradGroup(ConvCostModel.WinogradTiles(output.Height, output.Width)) is { } group ? new WinogradGroupStep(conv, group.Images, group.Reason) : null;
    }

    public override int Images { get; }

    public override string Reason { get; }

    public override string Field => _conv.Code.Pascal + "WinogradGroup";

    public override string FieldLength(string images) => $"{Winograd}.GroupScratchLength({_shape}, {images})";

    public override void EmitInput(SourceWriter w, string source, string image, string images, string group) =>
        w.Line($"{Winograd}.GroupInput({source}, {_shape}, {image}, {images}, {group}); // {_conv.Code.Layer.Name}: this image's tiles");

    public override void EmitGroup(SourceWriter w, string images, string group) =>
        w.Line($"{Winograd}.GroupProducts(workspace.{_conv.WinogradWeights}!, {_shape}, {images}, {group}); // {_conv.Code.Layer.Name}: the products of every image's tiles");

    public override void EmitOutput(SourceWriter w, string image, string images, string group, string target)
    {
        var code = _conv.Code;
        var activation = code.Activation;
        bool relu = activation.FusesIntoVectorStore && !activation.IsIdentity;
        string bias = $"parameters.Slice({Int(code.Layer.BiasOffset)}, {Int(code.Layer.BiasCount)})";
        w.Line($"{Winograd}.GroupOutput({bias}, {_shape}, relu: {(relu ? "true" : "false")}, {image}, {images}, {group}, {target}); // {code.Layer.Name}: this image's output");
        if (!activation.FusesIntoVectorStore)
        {
            LayerEmitter.EmitActivationInPlace(w, code, target);
        }
    }
}

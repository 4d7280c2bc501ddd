using LeNet.Gen.Generator.Emit;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// A layer whose batch inference runs on a group of images at once while the layers around it run image by image, in a
/// batch <c>Predict</c> call's <c>ForwardImages</c> (<see cref="ILayerKind.ImageGroup"/>): each image of the group gives the
/// layer its input (<see cref="EmitInput"/>), the layer then does the bulk of its work for all of them in one call
/// (<see cref="EmitGroup"/>), and each image takes its output back (<see cref="EmitOutput"/>). A convolution does this
/// with Winograd's products, so that each transformed weight loaded serves the tiles of several images.
/// </summary>
internal abstract class ImageGroupStep
{
    /// <summary>Images per group the layer wants.</summary>
    public abstract int Images { get; }

    /// <summary>Why, as a sentence for the generated comment.</summary>
    public abstract string Reason { get; }

    /// <summary>The workspace field that holds the group's buffers.</summary>
    public abstract string Field { get; }

    /// <summary>A C# expression: the floats of <see cref="Field"/> for a group of <paramref name="images"/> images.</summary>
    public abstract string FieldLength(string images);

    /// <summary>
    /// The statement that hands image <paramref name="image"/> of a group of <paramref name="images"/> to the layer, from
    /// <paramref name="source"/> (the layer's input, staged as its single-image forward pass would read it), into
    /// <paramref name="group"/> (the span over <see cref="Field"/>).
    /// </summary>
    public abstract void EmitInput(SourceWriter w, string source, string image, string images, string group);

    /// <summary>The statement that runs the layer's work for the whole group.</summary>
    public abstract void EmitGroup(SourceWriter w, string images, string group);

    /// <summary>The statements that write image <paramref name="image"/>'s output into <paramref name="target"/>, activation included.</summary>
    public abstract void EmitOutput(SourceWriter w, string image, string images, string group, string target);
}

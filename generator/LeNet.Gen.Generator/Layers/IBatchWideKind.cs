using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// A layer kind whose training forward pass needs statistics of the whole batch (batch normalisation), on top of
/// <see cref="ILayerKind"/>. A network with such a layer trains in stages cut at each one: the runtime runs every example
/// up to the layer's input, reduces the batch statistics, and runs on; backward likewise, with the sums of the output
/// gradient reduced between the two parts of the layer's backward pass. The emitters write the stages and the buffers;
/// the unit writes its own calls, given the arguments as C# expressions.
/// </summary>
internal interface IBatchWideKind : ILayerKind
{
    /// <summary>
    /// How many values of the batch statistics the layer reads in training (the runtime reduces them before the layer's
    /// forward call), which is also how many values of gradient sums its input backward reads.
    /// </summary>
    int StatisticsLength(LayerPlan layer);

    /// <summary>
    /// The statement of the inference forward pass (Predict): the layer on <paramref name="source"/> with its parameters
    /// <paramref name="parameters"/> (weight slice, bias slice) and its state, which starts <paramref name="stateOffset"/>
    /// values after the network's last parameter, into its <see cref="LayerCode.Written"/> buffer.
    /// </summary>
    string InferenceForwardCall(LayerCode code, string source, string parameters, int stateOffset);

    /// <summary>
    /// The statement of the training forward pass: the layer on <paramref name="source"/> with its parameters and the
    /// batch statistics <paramref name="statistics"/> (<see cref="StatisticsLength"/> values), into its
    /// <see cref="LayerCode.Written"/> buffer.
    /// </summary>
    string TrainingForwardCall(LayerCode code, string source, string parameters, string statistics);

    /// <summary>
    /// The backward statement that runs before the runtime sums the layer's output gradient over the batch: from the
    /// gradient of the layer's <see cref="LayerCode.Written"/> buffer to the gradient the sums are taken of (through the
    /// activation the layer applies), in place; null when there is nothing to do.
    /// </summary>
    string? OutputBackwardCall(LayerCode code);

    /// <summary>
    /// The backward statement that runs after the runtime's sums: the gradient of the layer's input, written into the
    /// gradient of <paramref name="source"/>'s output, from the batch <paramref name="statistics"/> and the batch
    /// <paramref name="sums"/> (<see cref="StatisticsLength"/> values each).
    /// </summary>
    string InputBackwardCall(LayerCode code, LayerCode source, string statistics, string sums);

    /// <summary>
    /// The runtime's description of the layer as a C# expression, from which it reduces the statistics: its state
    /// starts <paramref name="stateOffset"/> values after the last parameter, its statistics
    /// <paramref name="statisticsOffset"/> values into the batch statistics.
    /// </summary>
    string RuntimeInfo(LayerCode code, int stateOffset, int statisticsOffset);
}

using System.ComponentModel;
using System.Threading;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Tells a network's prepared kernels (Winograd's transformed weights, the filters-in-lanes packing) whether its
/// parameters may have changed since they were prepared, without reading the parameters. A generated network owns one
/// and moves it on at every change the library makes: <c>Load</c>, <c>LoadOnnx</c> and every training step. Not meant
/// to be used directly.
/// </summary>
/// <remarks>
/// <para>
/// A network also hands out its parameters as a writable span (<c>Parameters</c>, <c>State</c>), and a caller may write
/// through that span at any time while it holds it, unseen. So the first time the span is handed out the version becomes
/// <see cref="Shared"/>, for good: from then on each call compares the weights it prepared from with the parameters, byte
/// for byte (<see cref="PreparedWeights"/>), as every call did before this type existed.
/// </para>
/// <para>
/// Why not always compare: the comparison reads the prepared layers' weights and a copy of them on every call. On a
/// network with 56,000 convolution weights that is 450 KB per image, which pushes the working set out of a 1 MB L2
/// cache; its single-image latency went from 45.7 to 37.3 µs without it (the README's section on the generated code).
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ParameterVersion
{
    private long _number;
    private volatile bool _shared;

    /// <summary>Counts the changes made through the library; a prepared kernel records the number it was prepared at.</summary>
    public long Number => Volatile.Read(ref _number);

    /// <summary>True once the parameters were handed out as a writable span: the number then no longer proves them unchanged.</summary>
    public bool Shared => _shared;

    /// <summary>Records a change of the parameters made through the library (call it before or after the change, on the same thread as the calls that follow).</summary>
    public void Advance() => Interlocked.Increment(ref _number);

    /// <summary>Records that the parameters were handed out as a writable span; from then on every call compares them.</summary>
    public void Share() => _shared = true;
}

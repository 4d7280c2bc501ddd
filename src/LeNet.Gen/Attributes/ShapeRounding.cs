namespace LeNet.Gen;

/// <summary>
/// What a convolution or pooling layer does when <c>(in − kernel + 2·padding) / stride + 1</c> is not a whole number.
/// </summary>
public enum ShapeRounding
{
    /// <summary>A non-whole output size is a compile-time error (LNG0001). The default.</summary>
    Exact = 0,

    /// <summary>Round down: the last rows and columns that do not fill a whole window are ignored (PyTorch's default, <c>ceil_mode=False</c>).</summary>
    Floor = 1,

    /// <summary>
    /// Round up: one more window is placed at the bottom and right, as PyTorch's <c>ceil_mode=True</c> does
    /// (a window is dropped if it would start beyond the input and its padding). Positions of that window that fall
    /// outside the input read zero in a convolution, are skipped by max pooling, and are not counted by average pooling.
    /// </summary>
    Ceiling = 2,
}

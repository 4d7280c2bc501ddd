using System;

namespace LeNet.Gen.Benchmarks.Baseline;

/// <summary>Average pooling over square windows with a stride, no padding, sizes known only at run time; no parameters.</summary>
public sealed class AvgPool2D
{
    /// <summary>Creates the layer; the output is ⌊(in − window) / stride⌋ + 1 in each direction.</summary>
    public AvgPool2D(int channels, int inHeight, int inWidth, int window, int stride)
    {
        Channels = channels;
        InHeight = inHeight;
        InWidth = inWidth;
        Window = window;
        Stride = stride;
        OutHeight = ((inHeight - window) / stride) + 1;
        OutWidth = ((inWidth - window) / stride) + 1;
        Output = new float[channels * OutHeight * OutWidth];
        InputGradient = new float[channels * inHeight * inWidth];
    }

    /// <summary>A replica with its own buffers (pooling has no weights to share).</summary>
    public AvgPool2D(AvgPool2D shared)
        : this(Check(shared).Channels, shared.InHeight, shared.InWidth, shared.Window, shared.Stride)
    {
    }

    public int Channels { get; }

    public int InHeight { get; }

    public int InWidth { get; }

    public int Window { get; }

    public int Stride { get; }

    public int OutHeight { get; }

    public int OutWidth { get; }

    /// <summary>[channels, outHeight, outWidth].</summary>
    public float[] Output { get; }

    /// <summary>Gradient of the loss with respect to the input, written by <see cref="Backward"/>.</summary>
    public float[] InputGradient { get; }

    /// <summary>out[c, y, x] = mean of in[c, y·s + i, x·s + j] over the window.</summary>
    public void Forward(float[] input)
    {
        float[] output = Output;
        int window = Window, stride = Stride, inHeight = InHeight, inWidth = InWidth, outHeight = OutHeight, outWidth = OutWidth;
        float scale = 1f / (window * window);
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    float sum = 0f;
                    int inRow = (((c * inHeight) + (y * stride)) * inWidth) + (x * stride);
                    for (int i = 0; i < window; i++)
                    {
                        for (int j = 0; j < window; j++)
                        {
                            sum += input[inRow + j];
                        }

                        inRow += inWidth;
                    }

                    output[(((c * outHeight) + y) * outWidth) + x] = sum * scale;
                }
            }
        }
    }

    /// <summary>Spreads each output gradient evenly over its window.</summary>
    public void Backward(float[] outputGradient)
    {
        float[] inputGradient = InputGradient;
        int window = Window, stride = Stride, inHeight = InHeight, inWidth = InWidth, outHeight = OutHeight, outWidth = OutWidth;
        float scale = 1f / (window * window);
        Array.Clear(inputGradient);
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    float g = outputGradient[(((c * outHeight) + y) * outWidth) + x] * scale;
                    int inRow = (((c * inHeight) + (y * stride)) * inWidth) + (x * stride);
                    for (int i = 0; i < window; i++)
                    {
                        for (int j = 0; j < window; j++)
                        {
                            inputGradient[inRow + j] += g;
                        }

                        inRow += inWidth;
                    }
                }
            }
        }
    }

    private static AvgPool2D Check(AvgPool2D shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        return shared;
    }
}

using System;
using System.Runtime.Intrinsics.X86;
using LeNet.Gen.Generated;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// The filters-in-lanes weight-gradient kernel of a generated network (WinogradWide's conv2: 32 → 48 filters, 3×3, on
/// 20×20 padded planes) in its two modes: adding each example's sums into the weight gradient one value at a time, and
/// keeping them in a chunk's sum with the filters adjacent, added once with Simd.AddTransposed. Training steps use the
/// second; the batch-norm stages the first. The two must agree bit for bit, so that deferring changes no result.
/// </summary>
public class DeferredGradientTests
{
    private const int Channels = 32, Filters = 48, Kernel = 3, Side = 20, Outputs = 18;

    [Fact]
    public void Keeping_a_chunk_of_sums_with_the_filters_adjacent_gives_the_per_example_gradient_bit_for_bit()
    {
        if (!Fma.IsSupported || !Avx2.IsSupported)
        {
            return; // the kernel is AVX2 code; the instruction-set tests cover the machines without it
        }

        var random = new Random(16);
        float[] Values(int n)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = (float)((random.NextDouble() * 2) - 1);
            }

            return v;
        }

        int rows = Channels * Kernel * Kernel;
        var perExample = new float[Filters * rows];
        var chunk = new float[Filters * rows];
        var pending = new float[rows * Filters];
        var transposed = new float[Filters * Outputs * Outputs];
        for (int example = 0; example < 5; example++)
        {
            float[] source = Values(Channels * Side * Side), outputGradient = Values(Filters * Outputs * Outputs);
            LeNet_Gen_Tests_Generated_WinogradWide_VectorKernels.Conv2WeightGradientVector256(source, outputGradient, transposed, perExample, default);
            LeNet_Gen_Tests_Generated_WinogradWide_VectorKernels.Conv2WeightGradientVector256(source, outputGradient, transposed, Span<float>.Empty, pending);
        }

        Simd.AddTransposed(pending, rows, Filters, chunk);

        Assert.Equal(perExample, chunk);
        Assert.Contains(perExample, value => value != 0f);
    }
}

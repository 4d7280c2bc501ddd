using System;
using Xunit;

namespace LeNet.Gen.Tests.Generated;

/// <summary>The optimizers against their formulas (PyTorch's definitions), step by step, on hand-made gradients.</summary>
public class OptimizerTests
{
    private static readonly float[] Start = { 1f, -2f, 0.5f, 0f };
    private static readonly float[][] Gradients = { new[] { 0.1f, -0.3f, 2f, 0f }, new[] { -0.2f, 0.1f, 1f, 0.5f }, new[] { 0.05f, 0.05f, -1f, 0.5f } };

    [Fact]
    public void Sgd_with_weight_decay_follows_its_formula()
    {
        var parameters = (float[])Start.Clone();
        var sgd = new Sgd(0.1f, weightDecay: 0.01f);
        var expected = Array.ConvertAll(Start, v => (double)v);
        foreach (var g in Gradients)
        {
            sgd.Step(parameters, g);
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] -= 0.1 * (g[i] + (0.01 * expected[i]));
            }
        }

        AssertClose(expected, parameters);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Momentum_follows_pytorch(bool nesterov)
    {
        var parameters = (float[])Start.Clone();
        var optimizer = new MomentumSgd(0.1f, momentum: 0.9f, weightDecay: 0.001f, nesterov: nesterov);
        var p = Array.ConvertAll(Start, v => (double)v);
        var v = new double[p.Length];
        for (int step = 0; step < Gradients.Length; step++)
        {
            optimizer.Step(parameters, Gradients[step]);
            for (int i = 0; i < p.Length; i++)
            {
                double g = Gradients[step][i] + (0.001 * p[i]);
                v[i] = step == 0 ? g : (0.9 * v[i]) + g;
                p[i] -= 0.1 * (nesterov ? g + (0.9 * v[i]) : v[i]);
            }
        }

        AssertClose(p, parameters);
        Assert.Equal(3, optimizer.Steps);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    public void The_vector_loop_gives_each_parameter_what_the_scalar_loop_gives_it_alone(string kind)
    {
        // 21 parameters: two vectors of eight and a scalar tail of five; each also stepped alone by an optimizer of one
        // parameter, which takes the scalar loop. Three steps, so that momentum and Adam's moments carry over.
        Optimizer Create() => kind switch
        {
            "sgd" => new Sgd(0.1f, weightDecay: 0.01f),
            "momentum" => new MomentumSgd(0.1f, momentum: 0.9f, weightDecay: 0.001f),
            "nesterov" => new MomentumSgd(0.1f, momentum: 0.9f, weightDecay: 0.001f, nesterov: true),
            _ => new Adam(0.01f, weightDecay: 0.001f),
        };

        var random = new Random(kind.Length);
        var together = new float[21];
        for (int i = 0; i < together.Length; i++)
        {
            together[i] = (float)((random.NextDouble() * 4) - 2);
        }

        var alone = (float[])together.Clone();
        var optimizer = Create();
        var singles = Array.ConvertAll(alone, _ => Create());
        for (int step = 0; step < 3; step++)
        {
            var gradient = new float[together.Length];
            for (int i = 0; i < gradient.Length; i++)
            {
                gradient[i] = (float)((random.NextDouble() * 2) - 1);
            }

            optimizer.Step(together, gradient);
            for (int i = 0; i < alone.Length; i++)
            {
                singles[i].Step(alone.AsSpan(i, 1), gradient.AsSpan(i, 1));
            }
        }

        Assert.Equal(alone, together);
    }

    [Fact]
    public void Adam_follows_the_paper_with_bias_correction()
    {
        var parameters = (float[])Start.Clone();
        var optimizer = new Adam(0.01f, 0.9f, 0.999f, 1e-8f);
        var p = Array.ConvertAll(Start, v => (double)v);
        var m = new double[p.Length];
        var s = new double[p.Length];
        for (int step = 1; step <= Gradients.Length; step++)
        {
            optimizer.Step(parameters, Gradients[step - 1]);
            for (int i = 0; i < p.Length; i++)
            {
                double g = Gradients[step - 1][i];
                m[i] = (0.9 * m[i]) + (0.1 * g);
                s[i] = (0.999 * s[i]) + (0.001 * g * g);
                double mHat = m[i] / (1 - Math.Pow(0.9, step));
                double sHat = s[i] / (1 - Math.Pow(0.999, step));
                p[i] -= 0.01 * mHat / (Math.Sqrt(sHat) + 1e-8);
            }
        }

        AssertClose(p, parameters);
    }

    [Fact]
    public void An_optimizer_refuses_a_second_network_of_another_size()
    {
        var adam = new Adam();
        adam.Step(new float[4], new float[4]);

        var error = Assert.Throws<ArgumentException>(() => adam.Step(new float[5], new float[5]));
        Assert.Contains("holds state for 4 parameters, but was given 5", error.Message);
        Assert.Equal(1, adam.Steps); // the refused step is not counted

        // So the next step is Adam's second, bias corrections included, as on an optimizer that never saw the bad call.
        var twin = new Adam();
        float[] parameters = [0.5f, -1f, 2f, 0.25f], twinParameters = [.. parameters];
        float[] gradients = [0.1f, -0.2f, 0.3f, 0.4f];
        twin.Step(new float[4], new float[4]);
        adam.Step(parameters, gradients);
        twin.Step(twinParameters, gradients);
        Assert.Equal(2, adam.Steps);
        Assert.Equal(twinParameters, parameters);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(float.NaN)]
    [InlineData(-1f)]
    public void Bad_learning_rates_are_rejected(float learningRate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(learningRate));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MomentumSgd(learningRate));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate));
    }

    [Fact]
    public void Train_with_an_optimizer_uses_the_batch_mean_gradient()
    {
        var inputs = Numerics.RandomInputs(4, DenseOnly.InputLength, seed: 2);
        var labels = Numerics.RandomLabels(4, DenseOnly.OutputLength, seed: 3);
        var a = new DenseOnly(1);
        var b = new DenseOnly(1);
        var gradients = new float[DenseOnly.ParameterCount];

        a.Train(inputs, labels, new Sgd(0.3f));
        b.ComputeGradients(inputs, labels, gradients);
        var expected = b.Parameters.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] -= 0.3f * gradients[i];
        }

        Assert.Equal(expected, a.Parameters.ToArray());
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * (1 + Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
        }
    }
}

using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The runtime's training code on its own, with a network written by hand for the test: softmax regression (one dense
/// layer, 6 inputs → 4 classes), whose gradient has a closed form to check against in double precision.
/// </summary>
public class NetworkTrainingTests
{
    private const int Inputs = Regression.Inputs;
    private const int Classes = Regression.Classes;

    [Fact]
    public void Gradients_and_loss_match_the_closed_form_of_softmax_regression()
    {
        var parameters = RandomValues(Regression.Count, seed: 1, scale: 0.5f);
        var (inputs, labels) = Batch(count: 21, seed: 2);
        var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters);
        var gradients = new float[Regression.Count];

        float loss = training.ComputeGradients(inputs, labels, gradients);

        // d mean loss / d W[k, i] = mean over n of (p[n, k] − [k = label n]) · x[n, i]; the bias gets the same without x.
        var expected = new double[Regression.Count];
        double expectedLoss = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            var x = inputs.AsSpan(n * Inputs, Inputs).ToArray();
            var p = ProbabilitiesInDouble(parameters, x);
            expectedLoss -= Math.Log(p[labels[n]]) / labels.Length;
            for (int k = 0; k < Classes; k++)
            {
                double d = (p[k] - (k == labels[n] ? 1 : 0)) / labels.Length;
                for (int i = 0; i < Inputs; i++)
                {
                    expected[k * Inputs + i] += d * x[i];
                }

                expected[Classes * Inputs + k] += d;
            }
        }

        Assert.Equal(expectedLoss, loss, 5);
        for (int j = 0; j < expected.Length; j++)
        {
            Assert.True(Math.Abs(expected[j] - gradients[j]) < 1e-6, $"gradient {j}: expected {expected[j]}, got {gradients[j]}");
        }
    }

    [Fact]
    public void Any_thread_count_gives_bit_identical_gradients_and_steps()
    {
        var start = RandomValues(Regression.Count, seed: 3, scale: 0.5f);
        var (inputs, labels) = Batch(count: 37, seed: 4); // 5 chunks, the last one short

        float[]? firstParameters = null;
        float[]? firstGradients = null;
        float firstLoss = 0;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var parameters = (float[])start.Clone();
            var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters) { TrainingThreads = threads };
            var gradients = new float[Regression.Count];
            float loss = training.ComputeGradients(inputs, labels, gradients);
            for (int step = 0; step < 3; step++)
            {
                training.Train(inputs, labels, 0.1f);
            }

            if (firstParameters is null)
            {
                (firstParameters, firstGradients, firstLoss) = (parameters, gradients, loss);
                continue;
            }

            Assert.Equal(BitConverter.SingleToInt32Bits(firstLoss), BitConverter.SingleToInt32Bits(loss));
            Assert.Equal(firstGradients!.Select(BitConverter.SingleToInt32Bits), gradients.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(firstParameters.Select(BitConverter.SingleToInt32Bits), parameters.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void A_plain_step_moves_each_parameter_by_minus_the_rate_times_its_gradient_and_returns_the_loss_before()
    {
        var parameters = RandomValues(Regression.Count, seed: 5, scale: 0.5f);
        var (inputs, labels) = Batch(count: 9, seed: 6);
        var before = (float[])parameters.Clone();
        var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters);
        var gradients = new float[Regression.Count];
        float expectedLoss = training.ComputeGradients(inputs, labels, gradients);

        float loss = training.Train(inputs, labels, 0.25f);

        Assert.Equal(expectedLoss, loss);
        for (int j = 0; j < parameters.Length; j++)
        {
            Assert.Equal(before[j] - 0.25f * gradients[j], parameters[j], 6);
        }
    }

    [Fact]
    public void The_optimizer_step_and_the_one_example_step_agree_with_plain_sgd()
    {
        var start = RandomValues(Regression.Count, seed: 7, scale: 0.5f);
        var (inputs, labels) = Batch(count: 1, seed: 8);

        var plain = (float[])start.Clone();
        new NetworkTraining<Regression, RegressionWorkspace>(plain).Train(inputs, labels, 0.5f);
        var single = (float[])start.Clone();
        float singleLoss = new NetworkTraining<Regression, RegressionWorkspace>(single).Train(inputs, labels[0], 0.5f);
        var optimized = (float[])start.Clone();
        new NetworkTraining<Regression, RegressionWorkspace>(optimized).Train(inputs, labels, new Sgd(0.5f));

        Assert.Equal(plain, single);
        for (int j = 0; j < plain.Length; j++)
        {
            Assert.Equal(plain[j], optimized[j], 6);
        }

        Assert.Equal(-Math.Log(ProbabilitiesInDouble(start, inputs)[labels[0]]), singleLoss, 5);
    }

    [Fact]
    public void Loss_is_minus_the_log_probability_of_the_label_and_changes_nothing()
    {
        var parameters = RandomValues(Regression.Count, seed: 9, scale: 1f);
        var before = (float[])parameters.Clone();
        var input = RandomValues(Inputs, seed: 10, scale: 1f);
        var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters);

        for (int label = 0; label < Classes; label++)
        {
            Assert.Equal(-Math.Log(ProbabilitiesInDouble(parameters, input)[label]), training.Loss(input, label), 5);
        }

        Assert.Equal(before, parameters);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_name_and_the_value_before_anything_changes()
    {
        var parameters = RandomValues(Regression.Count, seed: 11, scale: 0.5f);
        var before = (float[])parameters.Clone();
        var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters);
        var (inputs, labels) = Batch(count: 3, seed: 12);

        var length = Assert.Throws<ArgumentException>(() => training.Train(new float[Inputs + 1], 0, 0.1f));
        Assert.Equal("input", length.ParamName);
        Assert.Contains("Regression", length.Message);
        Assert.Contains(Inputs.ToString(), length.Message);

        var batch = Assert.Throws<ArgumentException>(() => training.Train(inputs.AsSpan(1), labels, 0.1f));
        Assert.Equal("inputs", batch.ParamName);
        Assert.Contains((inputs.Length - 1).ToString(), batch.Message);

        Assert.Throws<ArgumentException>(() => training.Train(ReadOnlySpan<float>.Empty, ReadOnlySpan<int>.Empty, 0.1f));

        var label = Assert.Throws<ArgumentOutOfRangeException>(() => training.Train(inputs, new[] { 0, Classes, 1 }, 0.1f));
        Assert.Equal("labels", label.ParamName);
        Assert.Contains(Classes.ToString(), label.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => training.Loss(inputs.AsSpan(0, Inputs), -1));
        var rate = Assert.Throws<ArgumentOutOfRangeException>(() => training.Train(inputs, labels, float.NaN));
        Assert.Equal("learningRate", rate.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => training.Train(inputs, labels, -1f));
        Assert.Throws<ArgumentNullException>(() => training.Train(inputs, labels, (Optimizer)null!));
        var gradients = Assert.Throws<ArgumentException>(() => training.ComputeGradients(inputs, labels, new float[Regression.Count - 1]));
        Assert.Equal("gradients", gradients.ParamName);
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => training.TrainingThreads = 0);
        Assert.Equal("TrainingThreads", threads.ParamName);
        Assert.Throws<ArgumentException>(() => new NetworkTraining<Regression, RegressionWorkspace>(new float[Regression.Count + 1]));

        Assert.Equal(before, parameters);
        Assert.Equal(1, training.TrainingThreads);
    }

    [Fact]
    public void A_non_finite_gradient_throws_and_leaves_the_parameters_unchanged()
    {
        var parameters = RandomValues(Regression.Count, seed: 13, scale: 0.5f);
        var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters);
        var (inputs, labels) = Batch(count: 4, seed: 14);
        inputs[5] = float.PositiveInfinity;
        var before = (float[])parameters.Clone();

        Assert.Throws<ArithmeticException>(() => training.Train(inputs, labels, 0.1f));
        Assert.Throws<ArithmeticException>(() => training.Train(inputs, labels, new Sgd(0.1f)));

        Assert.Equal(before, parameters);
    }

    [Fact]
    public void A_step_allocates_nothing_once_warm_on_one_and_two_threads()
    {
        var parameters = RandomValues(Regression.Count, seed: 15, scale: 0.5f);
        var (inputs, labels) = Batch(count: 32, seed: 16);
        foreach (int threads in new[] { 1, 2 })
        {
            var training = new NetworkTraining<Regression, RegressionWorkspace>(parameters) { TrainingThreads = threads };
            training.Train(inputs, labels, 0.01f);
            SteadyStateAllocation.AssertNone($"a step on {threads} thread(s)", () => training.Train(inputs, labels, 0.01f));
        }
    }

    private static double[] ProbabilitiesInDouble(float[] parameters, ReadOnlySpan<float> x)
    {
        var z = new double[Classes];
        for (int k = 0; k < Classes; k++)
        {
            z[k] = parameters[Classes * Inputs + k];
            for (int i = 0; i < Inputs; i++)
            {
                z[k] += (double)parameters[k * Inputs + i] * x[i];
            }
        }

        double max = z.Max();
        double sum = z.Sum(v => Math.Exp(v - max));
        return z.Select(v => Math.Exp(v - max) / sum).ToArray();
    }

    private static (float[] Inputs, int[] Labels) Batch(int count, int seed)
    {
        var random = new Random(seed);
        return (RandomValues(count * Inputs, seed, 1f), Enumerable.Range(0, count).Select(_ => random.Next(Classes)).ToArray());
    }

    private static float[] RandomValues(int count, int seed, float scale)
    {
        var random = new Random(seed * 7919);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }
}

/// <summary>The buffers of <see cref="Regression"/>.</summary>
public sealed class RegressionWorkspace
{
    /// <summary>Creates the buffers; the gradient only when training.</summary>
    public RegressionWorkspace(bool training) => LogitsGradient = training ? new float[Regression.Classes] : Array.Empty<float>();

    /// <summary>The logits.</summary>
    public float[] Logits { get; } = new float[Regression.Classes];

    /// <summary>The probabilities.</summary>
    public float[] Probabilities { get; } = new float[Regression.Classes];

    /// <summary>The gradient of the loss with respect to the logits.</summary>
    public float[] LogitsGradient { get; }
}

/// <summary>Softmax regression written by hand against <see cref="INetworkKernels{TWorkspace}"/>: weight [4, 6] then bias [4].</summary>
public readonly struct Regression : INetworkKernels<RegressionWorkspace>
{
    /// <summary>Inputs.</summary>
    public const int Inputs = 6;

    /// <summary>Classes.</summary>
    public const int Classes = 4;

    /// <summary>Parameters.</summary>
    public const int Count = Inputs * Classes + Classes;

    [ThreadStatic]
    private static RegressionWorkspace? t_workspace;

    /// <inheritdoc/>
    public static string Name => "Regression";

    /// <inheritdoc/>
    public static string InputShape => "6";

    /// <inheritdoc/>
    public static string OutputShape => "4";

    /// <inheritdoc/>
    public static int InputLength => Inputs;

    /// <inheritdoc/>
    public static int OutputLength => Classes;

    /// <inheritdoc/>
    public static int ParameterCount => Count;

    /// <inheritdoc/>
    public static RegressionWorkspace InferenceWorkspace => t_workspace ??= new RegressionWorkspace(training: false);

    /// <inheritdoc/>
    public static RegressionWorkspace CreateWorkspace(bool training) => new(training);

    /// <inheritdoc/>
    public static void Forward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, RegressionWorkspace workspace)
    {
        for (int k = 0; k < Classes; k++)
        {
            float z = parameters[Classes * Inputs + k];
            for (int i = 0; i < Inputs; i++)
            {
                z += parameters[k * Inputs + i] * input[i];
            }

            workspace.Logits[k] = z;
        }

        Softmax.Apply(workspace.Logits, workspace.Probabilities);
    }

    /// <inheritdoc/>
    public static void Backward(ReadOnlySpan<float> parameters, ReadOnlySpan<float> input, RegressionWorkspace workspace, Span<float> gradients)
    {
        for (int k = 0; k < Classes; k++)
        {
            float d = workspace.LogitsGradient[k];
            for (int i = 0; i < Inputs; i++)
            {
                gradients[k * Inputs + i] += d * input[i];
            }

            gradients[Classes * Inputs + k] += d;
        }
    }

    /// <inheritdoc/>
    public static Span<float> Logits(RegressionWorkspace workspace) => workspace.Logits;

    /// <inheritdoc/>
    public static Span<float> Probabilities(RegressionWorkspace workspace) => workspace.Probabilities;

    /// <inheritdoc/>
    public static Span<float> Output(RegressionWorkspace workspace) => workspace.Probabilities;

    /// <inheritdoc/>
    public static Span<float> LogitsGradient(RegressionWorkspace workspace) => workspace.LogitsGradient;
}

using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// The generated float32 code against the independent double-precision reference, for every test architecture:
/// layout, forward pass, gradients (against central finite differences) and one SGD step.
/// </summary>
public class ReferenceAgreementTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases => NetworkCase.All.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parameter_layout_matches_the_reference_state_dict(NetworkCase @case)
    {
        var network = @case.Create(1);

        Assert.Equal(@case.Reference.InputLength, network.InputLength);
        Assert.Equal(@case.Reference.OutputLength, network.OutputLength);
        Assert.Equal(@case.Reference.ParameterCount, network.ParameterCount);
        Assert.Equal(network.ParameterCount, network.Parameters.Length);
        Assert.Equal(
            @case.Reference.Tensors.Select(t => $"{t.Name} {t.Offset} [{string.Join(",", t.Shape)}]"),
            network.Tensors.Select(t => $"{t.Name} {t.Offset} {t.ShapeText}"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_pass_agrees_with_the_reference_to_1e_5(NetworkCase @case)
    {
        var network = @case.Create(7);
        var inputs = RandomInputs(5, network.InputLength, seed: 11);
        var probabilities = new float[network.OutputLength];
        double worst = 0;
        for (int n = 0; n < 5; n++)
        {
            var input = inputs.AsSpan(n * network.InputLength, network.InputLength);
            network.Predict(input, probabilities);
            var expected = ReferenceForward(@case.Reference, network, input);

            worst = Math.Max(worst, MaxRelativeError(probabilities, expected));
            Assert.Equal(Array.IndexOf(expected, expected.Max()), network.Predict(input));
        }

        output.WriteLine($"{@case.Name}: worst relative error of the outputs {worst:E2}");
        Assert.True(worst < 1e-5, $"worst relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Weights_changed_in_place_between_calls_are_used_by_the_next_call(NetworkCase @case)
    {
        // Layers keep weights they prepared (Winograd's transform, the filters-in-lanes packing) while the parameters do
        // not change; a write through the Parameters span must still reach the next single-image and batch call.
        var network = @case.Create(7);
        const int count = 20;
        var inputs = RandomInputs(count, network.InputLength, seed: 13);
        var input = inputs.AsSpan(0, network.InputLength);
        var probabilities = new float[network.OutputLength];
        var batch = new float[count * network.OutputLength];
        network.Predict(input, probabilities);
        network.Predict(inputs, batch);

        for (int change = 0; change < 2; change++)
        {
            // One weight in the middle of every tensor, then (second round) only the last weight of the last tensor.
            var tensors = change == 0 ? network.Tensors.ToList() : [network.Tensors[^1]];
            foreach (var tensor in tensors)
            {
                network.Parameters[tensor.Offset + (change == 0 ? tensor.Length / 2 : tensor.Length - 1)] += 0.75f;
            }

            network.Predict(input, probabilities);
            network.Predict(inputs, batch);
            var expected = ReferenceForward(@case.Reference, network, input);
            Assert.True(MaxRelativeError(probabilities, expected) < 1e-5, $"single input after change {change}: {MaxRelativeError(probabilities, expected):E2}");
            Assert.True(MaxRelativeError(batch.AsSpan(0, network.OutputLength), expected) < 1e-5, $"batch call after change {change}: {MaxRelativeError(batch.AsSpan(0, network.OutputLength), expected):E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Weights_changed_by_training_and_Load_are_used_by_the_next_call(NetworkCase @case)
    {
        // The network under test never hands out its Parameters span here, so its Predict calls keep their prepared
        // kernels on the word of its parameter version alone: training and Load must move that on. Its calls follow each
        // other with no other Predict of this network type in between on the thread (which would make the next call
        // prepare again anyway), once with single-input calls and once with batch calls. The expected outputs come from
        // twins whose weights are the same.
        foreach (bool batchCalls in new[] { false, true })
        {
            var network = @case.Create(7);
            const int count = 20;
            var inputs = RandomInputs(count, network.InputLength, seed: 13);
            var input = inputs[..network.InputLength];
            var outputs = new float[(batchCalls ? count : 1) * network.OutputLength];
            network.Predict(batchCalls ? inputs : input, outputs);

            // One training step: a twin takes the same step (training is deterministic), and the reference reads its weights.
            var twin = @case.Create(7);
            int[] labels = Enumerable.Range(0, count).Select(n => n % network.OutputLength).ToArray();
            network.Train(inputs, labels, 0.05f);
            twin.Train(inputs, labels, 0.05f);
            AssertAgrees("after a training step", twin);

            // Weights from another network of the same kind, through a safetensors stream and through an ONNX stream.
            var source = @case.Create(11);
            Copy(source, "Save", "Load");
            AssertAgrees("after Load", source);
            if (network.GetType().GetMethod("LoadOnnx", [typeof(System.IO.Stream)]) is not null)
            {
                Copy(twin, "SaveOnnx", "LoadOnnx");
                AssertAgrees("after LoadOnnx", twin);
            }

            void AssertAgrees(string when, ITrainableNetwork weights)
            {
                network.Predict(batchCalls ? inputs : input, outputs);
                var expected = ReferenceForward(@case.Reference, weights, input);
                double error = MaxRelativeError(outputs.AsSpan(0, network.OutputLength), expected);
                Assert.True(error < 1e-5, $"{(batchCalls ? "batch call" : "single input")} {when}: {error:E2}");
            }

            void Copy(ITrainableNetwork from, string save, string load)
            {
                using var stream = new System.IO.MemoryStream();
                from.GetType().GetMethod(save, [typeof(System.IO.Stream)])!.Invoke(from, [stream]);
                stream.Position = 0;
                network.GetType().GetMethod(load, [typeof(System.IO.Stream)])!.Invoke(network, [stream]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Writes_through_a_Parameters_span_kept_from_before_a_call_are_seen(NetworkCase @case)
    {
        // The span is read once, before any call; the writes come after calls that prepared kernels.
        var network = @case.Create(7);
        var parameters = network.Parameters;
        var input = RandomInputs(1, network.InputLength, seed: 17);
        var probabilities = new float[network.OutputLength];
        network.Predict(input, probabilities);
        int length = parameters.Length; // the parameters only, without batch norm's running statistics
        foreach (var tensor in network.Tensors.Where(t => t.Offset + t.Length <= length))
        {
            parameters[tensor.Offset + (tensor.Length / 3)] -= 0.5f;
        }

        network.Predict(input, probabilities);
        var expected = ReferenceForward(@case.Reference, network, input);
        Assert.True(MaxRelativeError(probabilities, expected) < 1e-5, $"{MaxRelativeError(probabilities, expected):E2}");
    }

    [Fact]
    public void Two_networks_of_one_kind_called_in_turn_on_one_thread_each_use_their_own_weights()
    {
        // Both share the thread's inference workspace (one per network type): each call must see whose weights it holds.
        var @case = NetworkCase.All.First(c => c.Name == nameof(WinogradFirst));
        var first = @case.Create(3);
        var second = @case.Create(4);
        var input = RandomInputs(1, first.InputLength, seed: 19);
        var expectedFirst = ReferenceForward(@case.Reference, @case.Create(3), input);
        var expectedSecond = ReferenceForward(@case.Reference, @case.Create(4), input);
        var probabilities = new float[first.OutputLength];
        for (int round = 0; round < 2; round++)
        {
            first.Predict(input, probabilities);
            Assert.True(MaxRelativeError(probabilities, expectedFirst) < 1e-5, $"first, round {round}");
            second.Predict(input, probabilities);
            Assert.True(MaxRelativeError(probabilities, expectedSecond) < 1e-5, $"second, round {round}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_pass_agrees_on_large_random_weights_too(NetworkCase @case)
    {
        // Weights up to ten times the initialisation's bound 1/√fan-in (and at most 1), biases like their layer's weights,
        // push activations into saturation and probabilities towards 0 and 1. The logits are then sums of hundreds of
        // terms of size ~1 whose float32 rounding (~1e-7 each) reaches ~1e-5 in the logits, so this stress test allows a
        // relative 1e-4; the 1e-5 bar holds at normal weights (above).
        var network = @case.Create(3);
        var random = new Random(5);
        var parameters = network.Parameters;
        double bound = 1;
        foreach (var tensor in network.Tensors)
        {
            if (tensor.Name.EndsWith(".weight", StringComparison.Ordinal) && tensor.Shape.Count >= 2)
            {
                int fanIn = tensor.Length / tensor.Shape[0];
                bound = Math.Min(1, 10 / Math.Sqrt(fanIn));
            }

            foreach (ref float p in parameters.Slice(tensor.Offset, tensor.Length))
            {
                p = (float)(((random.NextDouble() * 2) - 1) * bound);
            }
        }

        var input = RandomInputs(1, network.InputLength, seed: 12);
        var probabilities = new float[network.OutputLength];
        network.Predict(input, probabilities);
        var expected = ReferenceForward(@case.Reference, network, input);

        for (int k = 0; k < expected.Length; k++)
        {
            // Relative to the probability, with an absolute floor for probabilities that underflow in float (below 1e-30).
            Assert.True(Math.Abs(probabilities[k] - expected[k]) <= (1e-4 * expected[k]) + 1e-30, $"output {k}: {probabilities[k]} vs {expected[k]}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_agree_with_finite_differences_of_the_reference(NetworkCase @case)
    {
        var network = @case.Create(21);
        const int batch = 3;
        var inputs = RandomInputs(batch, network.InputLength, seed: 31);
        var labels = RandomLabels(batch, network.OutputLength, seed: 41);
        var gradients = new float[network.ParameterCount];

        float loss = network.ComputeGradients(inputs, labels, gradients);

        var parameters = Parameters(network);
        var reference = @case.Reference;
        var doubleInputs = ToDouble(inputs);
        Assert.Equal(reference.MeanLoss(parameters, doubleInputs, labels), loss, 1e-5);

        // Central differences of the reference's loss for a sample of every tensor (all of a small tensor, 40 entries of a
        // large one): each costs two reference forward passes over the batch, which for LeNet-5's 61,706 parameters would take minutes.
        var indices = SampleIndices(network, perTensor: 40, seed: 51);
        var differences = new double[indices.Length];
        const double h = 1e-5;
        for (int n = 0; n < indices.Length; n++)
        {
            int k = indices[n];
            double saved = parameters[k];
            parameters[k] = saved + h;
            double plus = reference.MeanLoss(parameters, doubleInputs, labels);
            parameters[k] = saved - h;
            double minus = reference.MeanLoss(parameters, doubleInputs, labels);
            parameters[k] = saved;
            differences[n] = (plus - minus) / (2 * h);
        }

        double scale = differences.Max(Math.Abs);

        // Degenerate entries: float32 gradients carry an absolute rounding error of about 1e-7 × the size of the terms
        // summed into them, so an entry smaller than 1e-4 of the largest gradient has no meaningful relative error. Those
        // are checked against an absolute bound instead; every other entry must agree to a relative 1e-3.
        int checkedRelative = 0, kinks = 0;
        double worstRelative = 0;
        for (int n = 0; n < indices.Length; n++)
        {
            int k = indices[n];
            double size = Math.Max(Math.Abs(gradients[k]), Math.Abs(differences[n]));
            if (size < 1e-4 * scale)
            {
                Assert.True(Math.Abs(gradients[k] - differences[n]) <= 1e-5 * scale, $"{Name(network, k)}: {gradients[k]} vs {differences[n]} (absolute)");
                continue;
            }

            double relative = Math.Abs(gradients[k] - differences[n]) / size;
            if (relative >= 1e-3 && IsKink(reference, parameters, doubleInputs, labels, k, h, gradients[k]))
            {
                kinks++;
                continue;
            }

            worstRelative = Math.Max(worstRelative, relative);
            checkedRelative++;
            Assert.True(relative < 1e-3, $"{Name(network, k)}: generated {gradients[k]:E6}, finite differences {differences[n]:E6}, relative error {relative:E2}");
        }

        output.WriteLine($"{@case.Name}: {checkedRelative} of {indices.Length} sampled gradients checked relatively, worst {worstRelative:E2}; {kinks} at a kink");
        Assert.True(kinks <= indices.Length / 50, $"{kinks} of {indices.Length} entries sit at a kink: too many to be chance");
        Assert.True(checkedRelative > indices.Length / 4, $"only {checkedRelative} of {indices.Length} gradients were large enough to check relatively");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_batch_of_23_gives_the_reference_gradient_on_1_2_and_3_threads(NetworkCase @case)
    {
        // 23 examples: a batch step, in which networks may run prepared kernels (Winograd's, set up once per step and
        // workspace) in the forward pass and for input gradients, and chunks of 8, 8 and 7: a network that trains in lanes
        // runs the last one in lanes too when 7 reach its TrainingLanesMinimum (LeNet-5's), one example at a time otherwise.
        // Entries agree to 1e-3 relative, or 1e-5 of the largest.
        var network = @case.Create(33);
        const int batch = 23;
        var inputs = RandomInputs(batch, network.InputLength, seed: 34);
        var labels = RandomLabels(batch, network.OutputLength, seed: 35);
        var expected = @case.Reference.Gradient(Parameters(network), ToDouble(inputs), labels);
        double scale = expected.Max(Math.Abs);

        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            network.TrainingThreads = threads;
            var gradients = new float[network.ParameterCount];
            network.ComputeGradients(inputs, labels, gradients);
            if (first is null)
            {
                first = gradients;
                for (int k = 0; k < gradients.Length; k++)
                {
                    Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-3 * Math.Abs(expected[k])) + (1e-5 * scale), $"{Name(network, k)}: {gradients[k]:E6} vs {expected[k]:E6}");
                }
            }
            else
            {
                Assert.Equal(first, gradients);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void One_Train_step_equals_the_reference_SGD_step(NetworkCase @case)
    {
        var network = @case.Create(5);
        const int batch = 4;
        const float learningRate = 0.1f;
        var inputs = RandomInputs(batch, network.InputLength, seed: 6);
        var labels = RandomLabels(batch, network.OutputLength, seed: 8);
        var before = Parameters(network);
        var gradient = @case.Reference.Gradient(before, ToDouble(inputs), labels);
        double expectedLoss = @case.Reference.MeanLoss(before, ToDouble(inputs), labels);

        float loss = network.Train(inputs, labels, learningRate);

        Assert.Equal(expectedLoss, loss, 1e-5);
        var after = network.Parameters;
        for (int k = 0; k < after.Length; k++)
        {
            double expected = before[k] - (learningRate * gradient[k]);
            double tolerance = (2e-7 * Math.Abs(before[k])) + (1e-4 * Math.Abs(learningRate * gradient[k])) + 1e-9;
            Assert.True(Math.Abs(after[k] - expected) <= tolerance, $"{Name(network, k)}: {after[k]} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Max_pool_ties_and_relu_at_zero_follow_the_reference_rules(NetworkCase @case)
    {
        // A constant input makes many windows tie and, with zero biases, puts ReLU inputs at exactly 0 in places:
        // finite differences are undefined there, so the generated gradient must match the reference's analytic one,
        // which sends a tied maximum's gradient to its first element and takes ReLU'(0) = 0.
        var network = @case.Create(9);
        foreach (var tensor in network.Tensors.Where(t => t.Name.EndsWith(".bias", StringComparison.Ordinal)))
        {
            network.Parameters.Slice(tensor.Offset, tensor.Length).Clear();
        }

        var inputs = new float[2 * network.InputLength];
        inputs.AsSpan(network.InputLength).Fill(0.5f);
        int[] labels = { 0, 1 };
        var gradients = new float[network.ParameterCount];
        network.ComputeGradients(inputs, labels, gradients);
        var expected = @case.Reference.Gradient(Parameters(network), ToDouble(inputs), labels);

        double scale = expected.Max(Math.Abs);
        for (int k = 0; k < gradients.Length; k++)
        {
            Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-4 * Math.Abs(expected[k])) + (1e-6 * scale), $"{Name(network, k)}: {gradients[k]} vs {expected[k]}");
        }
    }

    [Fact]
    public void A_tied_maximum_in_a_3x3_window_sends_its_gradient_to_the_first_input_with_that_value()
    {
        // WindowPools: conv1 3×3 (tanh) → max pool 3×3 stride 2. With conv1's weights all 1/8 and no bias, each output is
        // tanh(Σ of its 18 inputs / 8), and inputs in multiples of 1/8 make those sums exact: different patches with the
        // same sum tie exactly, in float and in double. Which tied input gets the gradient then shows in conv1's weight
        // gradient (the patches differ), so it must be the reference's choice: the window's first, row by row.
        var @case = NetworkCase.All.Single(c => c.Name == nameof(WindowPools));
        var network = @case.Create(3);
        var conv1 = network.Tensors.Single(t => t.Name == "conv1.weight");
        network.Parameters.Slice(conv1.Offset, conv1.Length).Fill(0.125f);
        network.Parameters.Slice(network.Tensors.Single(t => t.Name == "conv1.bias").Offset, 6).Clear();

        var random = new Random(5);
        var inputs = new float[2 * network.InputLength];
        for (int k = 0; k < inputs.Length; k++)
        {
            inputs[k] = random.Next(3) * 0.125f; // 0, 1/8 or 1/4
        }

        int[] labels = { 3, 7 };
        var gradients = new float[network.ParameterCount];
        network.ComputeGradients(inputs, labels, gradients);
        var expected = @case.Reference.Gradient(Parameters(network), ToDouble(inputs), labels);

        double scale = expected.Max(Math.Abs);
        for (int k = conv1.Offset; k < conv1.Offset + conv1.Length; k++)
        {
            Assert.True(Math.Abs(gradients[k] - expected[k]) <= (1e-4 * Math.Abs(expected[k])) + (1e-6 * scale), $"{Name(network, k)}: {gradients[k]} vs {expected[k]}");
        }
    }

    /// <summary>
    /// A central difference is meaningless where the loss has a kink within ±h of the point (a ReLU input or a max-pool
    /// winner changing sides). Such a point shows one-sided differences that disagree; the analytic gradient is then the
    /// derivative on the smooth side, so it must match one of them.
    /// </summary>
    private static bool IsKink(ReferenceNetwork reference, double[] parameters, double[] inputs, int[] labels, int k, double h, double generated)
    {
        double saved = parameters[k];
        double center = reference.MeanLoss(parameters, inputs, labels);
        parameters[k] = saved + h;
        double right = (reference.MeanLoss(parameters, inputs, labels) - center) / h;
        parameters[k] = saved - h;
        double left = (center - reference.MeanLoss(parameters, inputs, labels)) / h;
        parameters[k] = saved;

        static double Relative(double a, double b) => Math.Abs(a - b) / Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), 1e-12);
        bool sidesDisagree = Relative(left, right) > 1e-2;
        bool matchesOneSide = Math.Min(Relative(generated, left), Relative(generated, right)) < 1e-2;
        return sidesDisagree && matchesOneSide;
    }

    /// <summary>Every index of a tensor with at most <paramref name="perTensor"/> values, else that many chosen at random.</summary>
    private static int[] SampleIndices(INetwork network, int perTensor, int seed)
    {
        var random = new Random(seed);
        var indices = new List<int>();
        foreach (var tensor in network.Tensors.Where(t => t.Offset < network.ParameterCount)) // batch norm's running statistics follow the parameters and have no gradient
        {
            indices.AddRange(tensor.Length <= perTensor
                ? Enumerable.Range(tensor.Offset, tensor.Length)
                : Enumerable.Range(0, perTensor).Select(_ => tensor.Offset + random.Next(tensor.Length)).Distinct());
        }

        return indices.ToArray();
    }

    private static string Name(INetwork network, int index)
    {
        var tensor = network.Tensors.Last(t => t.Offset <= index);
        return $"{tensor.Name}[{index - tensor.Offset}]";
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using LeNet.Gen.Benchmarks.Baseline;
using LeNet.Gen.Benchmarks.Reporting;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The <c>--verify</c> mode: shows that the straightforward baseline computes the same thing as the generated network,
/// so that the benchmark compares like with like. Starting from the generated network's weights, the baseline's
/// probabilities and the parameters after one SGD step must agree within <see cref="Tolerance"/>. Also checks the FLOP
/// counts behind the results table's GFLOP/s column against counts worked out by hand.
/// </summary>
public static class Verification
{
    /// <summary>Largest absolute difference accepted, in probabilities and in parameters.</summary>
    public const float Tolerance = 1e-4f;

    private const int Seed = 7;
    private const int ProbabilityImages = 200;
    private const float LearningRate = 0.1f;

    public static int Run()
    {
        Digits digits = Digits.Instance;
        Console.WriteLine($"Data: {digits.Directory} ({digits.TrainCount} training, {digits.TestCount} test images)");
        Console.WriteLine($"Tolerance: {Tolerance:0e0} (absolute)");
        Console.WriteLine();
        var results = new List<bool>();

        var generated = new LeNet5(Seed);
        float[] start = generated.Parameters.ToArray();

        // The baseline draws its own weights (different generator); load the generated ones.
        var baseline = new StraightforwardLeNet5(Seed);
        baseline.CopyParametersFrom(start);
        float[] roundTrip = new float[StraightforwardLeNet5.ParameterCount];
        baseline.CopyParametersTo(roundTrip);
        results.Add(Report("parameter layout round trip (exact)", MaxDifference(start, roundTrip), 0f));

        // Forward pass: probabilities of test images.
        float maxProbability = 0f;
        int agree = 0;
        Span<float> p1 = stackalloc float[LeNet5.OutputLength];
        Span<float> p2 = stackalloc float[LeNet5.OutputLength];
        for (int n = 0; n < ProbabilityImages; n++)
        {
            generated.Predict(digits.TestImage(n), p1);
            baseline.Predict(digits.TestImage(n), p2);
            maxProbability = MathF.Max(maxProbability, MaxDifference(p1, p2));
            agree += generated.Predict(digits.TestImage(n)) == baseline.Predict(digits.TestImage(n)) ? 1 : 0;
        }

        results.Add(Report($"probabilities on {ProbabilityImages} test images", maxProbability, Tolerance));
        Console.WriteLine($"    predicted classes agree on {agree}/{ProbabilityImages} images");

        // One online SGD step.
        float generatedLoss = generated.Train(digits.TrainImage(0), digits.TrainLabels[0], LearningRate);
        float baselineLoss = baseline.Train(digits.TrainImage(0), digits.TrainLabels[0], LearningRate);
        results.Add(CompareStep("one SGD step, batch 1", start, generated, baseline, generatedLoss, baselineLoss));

        // One SGD step on a batch of 32: generated with 1 and 2 training threads, baseline on 1 thread and split over 2.
        const int batch = 32;
        ReadOnlyMemory<float> images = digits.TrainImages.AsMemory(0, batch * Digits.ImageLength);
        ReadOnlyMemory<int> labels = digits.TrainLabels.AsMemory(0, batch);

        var generated1 = Fresh(start, threads: 1);
        float loss1 = generated1.Train(images.Span, labels.Span, LearningRate);
        var generated2 = Fresh(start, threads: 2);
        float loss2 = generated2.Train(images.Span, labels.Span, LearningRate);
        baseline.CopyParametersFrom(start);
        float baselineBatchLoss = baseline.Train(images.Span, labels.Span, LearningRate);
        results.Add(CompareStep($"one SGD step, batch {batch}, baseline 1 thread", start, generated1, baseline, loss1, baselineBatchLoss));
        baseline.CopyParametersFrom(start);
        float baselineSplitLoss = baseline.Train(images, labels, LearningRate, threads: 2);
        results.Add(CompareStep($"one SGD step, batch {batch}, baseline 2 threads", start, generated1, baseline, loss1, baselineSplitLoss));

        float threadsDifference = MaxDifference(generated1.Parameters, generated2.Parameters);
        results.Add(Report($"generated TrainingThreads = 2 vs 1, batch {batch} (documented: bit-identical)", threadsDifference, 0f));
        Console.WriteLine($"    losses {loss1:R} and {loss2:R}");

        // The batched API rows: one call over 256 images gives what Predict gives image by image, on 1 and 2 threads.
        results.Add(CompareBatched("LeNet-5", new LeNet5(Seed), digits.TestImages.AsSpan(0, 256 * Digits.ImageLength).ToArray()));

        // vgg-cifar: the batched API likewise, and ONNX Runtime (its peer row) computes the same probabilities.
        var vgg = new VggCifar(Seed);
        var random = new Random(Seed);
        var vggImages = new float[64 * VggCifar.InputLength];
        for (int i = 0; i < vggImages.Length; i++)
        {
            vggImages[i] = (float)random.NextDouble();
        }

        results.Add(CompareBatched("vgg-cifar", vgg, vggImages));
        results.Add(CompareWithOnnxRuntime(vgg, vggImages, 64));

        // The FLOPs per image that the GFLOP/s and share-of-peak columns use, and what every benchmark says it computes.
        results.AddRange(CheckFlops());
        results.Add(CheckBenchmarkWork());

        int failures = results.FindAll(ok => !ok).Count;
        Console.WriteLine();
        Console.WriteLine(failures == 0 ? "Verification passed." : $"Verification FAILED: {failures} of {results.Count} checks.");
        return failures == 0 ? 0 : 1;
    }

    // Batched Predict(inputs, output) and Predict(inputs, classes) on 1 and 2 threads against Predict per image. A call of
    // 16 images or more may run batch kernels (the image-lanes pass, Winograd): documented within 1e-5 of one image at a
    // time, and bit-identical for any thread count, with the classes the largest of its own outputs.
    private static bool CompareBatched(string name, INetwork network, float[] images)
    {
        int count = images.Length / network.InputLength;
        int length = network.OutputLength;
        var single = new float[count * length];
        for (int n = 0; n < count; n++)
        {
            network.Predict(images.AsSpan(n * network.InputLength, network.InputLength), single.AsSpan(n * length, length));
        }

        bool ok = true;
        float[]? first = null;
        foreach (int threads in new[] { 1, 2 })
        {
            network.InferenceThreads = threads;
            var batched = new float[single.Length];
            var classes = new int[count];
            network.Predict(images, batched);
            network.Predict(images, classes);
            ok &= Report($"{name}: batched Predict of {count} images, InferenceThreads = {threads}, vs one image at a time (documented: within 1e-5)", MaxDifference(single, batched), 1e-5f);
            if (first is null)
            {
                first = batched;
            }
            else
            {
                ok &= Report($"{name}: batched Predict of {count} images, InferenceThreads = {threads} vs 1 (documented: bit-identical)", MaxDifference(first, batched), 0f);
            }

            for (int n = 0; n < count; n++)
            {
                var outputs = batched.AsSpan(n * length, length);
                if (classes[n] != outputs.IndexOf(LargestValue(outputs)))
                {
                    Console.WriteLine($"    FAIL: image {n}'s batched class {classes[n]} is not the largest of its batched outputs");
                    ok = false;
                    break;
                }
            }
        }

        return ok;
    }

    private static float LargestValue(ReadOnlySpan<float> values)
    {
        float max = values[0];
        foreach (float v in values)
        {
            max = MathF.Max(max, v);
        }

        return max;
    }

    private static bool CompareWithOnnxRuntime(VggCifar network, float[] images, int count)
    {
        using var model = new System.IO.MemoryStream();
        network.SaveOnnx(model);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToArray());
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(images, [count, 3, 32, 32]);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var outputs = session.Run(runOptions, ["input"], [input], ["output"]);
        var generated = new float[count * VggCifar.OutputLength];
        network.Predict(images, generated);
        return Report($"vgg-cifar: probabilities of {count} random images, generated vs ONNX Runtime", MaxDifference(generated, outputs[0].GetTensorDataAsSpan<float>()), Tolerance);
    }

    // NetworkFlops (from each class's generated Layers) against counts worked out by hand; each term is
    // 2 × output channels × output height × output width × input channels × kernel² for a convolution and
    // 2 × inputs × units for a dense layer; a training step is 3 × forward − the first layer's forward.
    //
    // LeNet-5, 1×32×32:
    //   conv1 6×5×5 → 6×28×28:   2·6·28·28·1·25   =   235,200
    //   conv2 16×5×5 → 16×10×10: 2·16·10·10·6·25  =   480,000
    //   fc 400→120→84→10:        2·(400·120 + 120·84 + 84·10) = 2·58,920 = 117,840
    //   forward 833,040; training step 3·833,040 − 235,200 = 2,263,920
    // vgg-cifar, 3×32×32 (3×3 convolutions with padding 1 keep the size, each 2×2 max pool halves it):
    //   conv1 3→32 at 32×32:  2·32·32·32·3·9  = 1,769,472
    //   conv2 32→64 at 16×16: 2·64·16·16·32·9 = 9,437,184
    //   conv3 64→128 at 8×8:  2·128·8·8·64·9  = 9,437,184
    //   fc 128·4·4 = 2,048 → 256 → 10: 2·(2,048·256 + 256·10) = 1,048,576 + 5,120 = 1,053,696
    //   forward 21,697,536; training step 3·21,697,536 − 1,769,472 = 63,323,136
    // lenet-bn, 1×32×32 (batch norm and dropout count nothing, so it equals the network without them):
    //   conv1 1→32 at 28×28, 5×5: 2·32·28·28·1·25 = 1,254,400; conv2 32→48 at 14×14, 3×3: 2·48·14·14·32·9 = 5,419,008
    //   conv3 48→64 at 5×5, 3×3: 2·64·5·5·48·9 = 1,382,400; fc 64·5·5 = 1,600 → 32 → 10: 2·(1,600·32 + 32·10) = 103,040
    //   forward 8,158,848; training step 3·8,158,848 − 1,254,400 = 23,222,144
    // (The peer harness's nets.py flops gives the same for lenet5 and vgg-cifar.)
    private static IEnumerable<bool> CheckFlops()
    {
        (Type Network, long Forward, long TrainingStep)[] expected =
        [
            (typeof(LeNet5), 833_040, 2_263_920),
            (typeof(VggCifar), 21_697_536, 63_323_136),
            (typeof(LeNetBN), 8_158_848, 23_222_144),
            (typeof(LeNetBNWithoutNorm), 8_158_848, 23_222_144),
        ];
        foreach ((Type network, long forward, long trainingStep) in expected)
        {
            NetworkFlops flops = NetworkFlops.Of(network);
            bool ok = flops.Forward == forward && flops.TrainingStep == trainingStep;
            Console.WriteLine($"{(ok ? "ok  " : "FAIL")}  FLOPs per image of {network.Name}: forward {flops.Forward:N0} (by hand {forward:N0}), training step {flops.TrainingStep:N0} (by hand {trainingStep:N0})");
            yield return ok;
        }
    }

    // Every benchmark that declares its work names a generated network and the thread count its category states.
    private static bool CheckBenchmarkWork()
    {
        MethodInfo[] benchmarks = typeof(Verification).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)
            .ToArray();
        var wrong = new List<string>();
        var without = new List<string>();
        foreach (MethodInfo method in benchmarks)
        {
            if (method.GetCustomAttribute<NetworkWorkAttribute>() is not NetworkWorkAttribute work)
            {
                without.Add(method.Name);
                continue;
            }

            string category = string.Join(", ", method.GetCustomAttribute<BenchmarkCategoryAttribute>()?.Categories ?? []);
            string threads = work.Threads == 1 ? "1 thread" : $"{work.Threads} threads";
            bool resolves;
            try
            {
                resolves = NetworkFlops.Of(work.Network).Forward > 0;
            }
            catch (ArgumentException)
            {
                resolves = false;
            }

            if (!resolves || !category.EndsWith(threads, StringComparison.Ordinal))
            {
                wrong.Add($"{method.DeclaringType?.Name}.{method.Name} ({work.Network.Name}, {threads}; category \"{category}\")");
            }
        }

        bool ok = benchmarks.Length > 0 && wrong.Count == 0;
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")}  {benchmarks.Length - without.Count} of {benchmarks.Length} benchmarks declare a network's work with the threads of their category; without: {string.Join(", ", without)}");
        foreach (string line in wrong)
        {
            Console.WriteLine($"    FAIL: {line}");
        }

        return ok;
    }

    private static LeNet5 Fresh(float[] parameters, int threads)
    {
        var network = new LeNet5(Seed) { TrainingThreads = threads };
        parameters.CopyTo(network.Parameters);
        return network;
    }

    private static bool CompareStep(string what, float[] start, LeNet5 generated, StraightforwardLeNet5 baseline, float generatedLoss, float baselineLoss)
    {
        float[] after = new float[StraightforwardLeNet5.ParameterCount];
        baseline.CopyParametersTo(after);
        ReadOnlySpan<float> generatedAfter = generated.Parameters;
        float moved = MaxDifference(start, generatedAfter);

        // The worst tensor, to say where a mismatch is.
        string worst = string.Empty;
        float worstDifference = -1f;
        foreach (TensorInfo tensor in LeNet5.Tensors)
        {
            float difference = MaxDifference(generatedAfter.Slice(tensor.Offset, tensor.Length), after.AsSpan(tensor.Offset, tensor.Length));
            if (difference > worstDifference)
            {
                worstDifference = difference;
                worst = tensor.Name;
            }
        }

        bool ok = Report(what + ": parameters", worstDifference, Tolerance);
        Console.WriteLine($"    largest difference in {worst}; largest parameter change in the step {moved:0.000e0}; losses {generatedLoss:R} and {baselineLoss:R}");

        // A step that moved nothing would make the comparison meaningless.
        if (moved <= Tolerance)
        {
            Console.WriteLine("    FAIL: the step barely changed the parameters, so the comparison proves nothing");
            ok = false;
        }

        bool lossOk = MathF.Abs(generatedLoss - baselineLoss) <= Tolerance * MathF.Max(1f, MathF.Abs(generatedLoss));
        if (!lossOk)
        {
            Console.WriteLine("    FAIL: the losses differ");
        }

        return ok && lossOk;
    }

    private static bool Report(string what, float difference, float tolerance)
    {
        bool ok = difference <= tolerance;
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")}  {what}: max |difference| = {difference:0.000e0}");
        return ok;
    }

    private static float MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Lengths differ: {a.Length} and {b.Length}.", nameof(b));
        }

        float max = 0f;
        for (int i = 0; i < a.Length; i++)
        {
            float difference = MathF.Abs(a[i] - b[i]);
            if (float.IsNaN(difference))
            {
                return float.NaN; // fails every tolerance
            }

            max = MathF.Max(max, difference);
        }

        return max;
    }
}

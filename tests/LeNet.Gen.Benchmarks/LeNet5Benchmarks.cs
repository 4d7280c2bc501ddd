using System;
using System.IO;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LeNet.Gen.Benchmarks.Baseline;
using LeNet.Gen.Benchmarks.Reporting;
using Microsoft.ML.OnnxRuntime;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The generated LeNet-5 side by side with <see cref="StraightforwardLeNet5"/>, on real digits. Each category has one
/// benchmark of each; the straightforward one is the baseline. Every benchmark sets <c>OperationsPerInvoke</c> to the
/// number of images it processes, so times and allocations are per image.
/// </summary>
/// <remarks>
/// Training benchmarks train for real (both networks start from the same weights); each time a network has gone once
/// through the 8,000 training images its weights are reset to the starting ones, so every measurement sees the same
/// first-epoch regime rather than an ever more trained (and possibly denormal-laden) network.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class LeNet5Benchmarks
{
    public const string PredictOneCategory = "Predict 1 image, 1 thread";
    public const string Inference1Category = "Inference batch 256, 1 thread";
    public const string Inference2Category = "Inference batch 256, 2 threads";
    public const string Train32Threads1Category = "Train batch 32, 1 thread";
    public const string Train32Threads2Category = "Train batch 32, 2 threads";
    public const string Train1Category = "Train batch 1 (online SGD), 1 thread";

    public const int InferenceBatch = 256;
    public const int TrainingBatch = 32;
    public const int OnlineSteps = 32;
    public const float BatchLearningRate = 0.05f;
    public const float OnlineLearningRate = 0.01f;

    private const int Seed = 1;
    private const int Halves = 2;

    private readonly int[] _halfSums = new int[Halves];
    private readonly int[] _classes = new int[InferenceBatch];
    private Digits _digits = null!;
    private LeNet5 _generated = null!;
    private StraightforwardLeNet5 _baseline = null!;
    private StraightforwardLeNet5[] _baselinePerThread = [];
    private float[] _initialParameters = [];
    private Action<int> _generatedHalf = null!;
    private Action<int> _baselineHalf = null!;
    private InferenceSession _onnx = null!;
    private RunOptions _onnxRun = null!;
    private float[] _onnxOne = [];
    private float[] _onnxBatch = [];
    private OrtValue _onnxOneInput = null!;
    private OrtValue _onnxBatchInput = null!;
    private int _predictIndex;
    private int _inferenceOffset;
    private int _generatedTrainOffset;
    private int _baselineTrainOffset;

    [GlobalSetup]
    public void Setup()
    {
        _digits = Digits.Instance;
        _generated = new LeNet5(Seed);
        // Read from a twin of the same seed: a network whose Parameters span was handed out checks its prepared weights on
        // every call (ParameterVersion), and the Predict benchmarks measure one that, like an application's, never hands it out.
        _initialParameters = new LeNet5(Seed).Parameters.ToArray();
        _baseline = new StraightforwardLeNet5(Seed);
        _baseline.CopyParametersFrom(_initialParameters);
        _baselinePerThread = [_baseline, _baseline.CreateReplica()];

        // ONNX Runtime as a peer: the same network and weights, exported with SaveOnnx, on one thread.
        using (var model = new MemoryStream())
        {
            _generated.SaveOnnx(model);
            var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            _onnx = new InferenceSession(model.ToArray(), options);
        }

        _onnxRun = new RunOptions();
        _onnxOne = new float[Digits.ImageLength];
        _onnxBatch = new float[InferenceBatch * Digits.ImageLength];
        _onnxOneInput = OrtValue.CreateTensorValueFromMemory(_onnxOne, [1, 1, 32, 32]);
        _onnxBatchInput = OrtValue.CreateTensorValueFromMemory(_onnxBatch, [InferenceBatch, 1, 32, 32]);

        // Cached so that the two-thread benchmarks allocate no closure per call.
        _generatedHalf = GeneratedHalf;
        _baselineHalf = BaselineHalf;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 1)]
    [BenchmarkCategory(PredictOneCategory)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int PredictOneStraightforward() => _baseline.Predict(NextTestImage());

    [Benchmark(OperationsPerInvoke = 1)]
    [BenchmarkCategory(PredictOneCategory)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int PredictOneGenerated() => _generated.Predict(NextTestImage());

    [Benchmark(OperationsPerInvoke = 1)]
    [BenchmarkCategory(PredictOneCategory)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int PredictOneOnnxRuntime()
    {
        NextTestImage().CopyTo(_onnxOne);
        using var outputs = _onnx.Run(_onnxRun, ["input"], [_onnxOneInput], ["output"]);
        return ArgMax(outputs[0].GetTensorDataAsSpan<float>());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int Inference1Straightforward()
    {
        int start = NextInferenceOffset();
        int sum = 0;
        for (int n = 0; n < InferenceBatch; n++)
        {
            sum += _baseline.Predict(_digits.TestImage(start + n));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int Inference1Generated()
    {
        int start = NextInferenceOffset();
        int sum = 0;
        for (int n = 0; n < InferenceBatch; n++)
        {
            sum += _generated.Predict(_digits.TestImage(start + n));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int Inference1OnnxRuntime()
    {
        int start = NextInferenceOffset();
        _digits.TestImages.AsSpan(start * Digits.ImageLength, InferenceBatch * Digits.ImageLength).CopyTo(_onnxBatch);
        using var outputs = _onnx.Run(_onnxRun, ["input"], [_onnxBatchInput], ["output"]);
        ReadOnlySpan<float> probabilities = outputs[0].GetTensorDataAsSpan<float>();
        int sum = 0;
        for (int n = 0; n < InferenceBatch; n++)
        {
            sum += ArgMax(probabilities.Slice(n * 10, 10));
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 1)]
    public int Inference1GeneratedBatched() => GeneratedBatch(threads: 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference2Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 2)]
    public int Inference2Straightforward()
    {
        NextInferenceOffset();
        Parallel.For(0, Halves, _baselineHalf);
        return _halfSums[0] + _halfSums[1];
    }

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference2Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 2)]
    public int Inference2Generated()
    {
        NextInferenceOffset();
        Parallel.For(0, Halves, _generatedHalf);
        return _halfSums[0] + _halfSums[1];
    }

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference2Category)]
    [NetworkWork(typeof(LeNet5), Pass.Forward, threads: 2)]
    public int Inference2GeneratedBatched() => GeneratedBatch(threads: 2);

    [Benchmark(Baseline = true, OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads1Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 1)]
    public float Train32Threads1Straightforward()
    {
        int start = NextBaselineTrainOffset(TrainingBatch);
        return _baseline.Train(TrainImages(start, TrainingBatch).Span, TrainLabels(start, TrainingBatch).Span, BatchLearningRate);
    }

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads1Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 1)]
    public float Train32Threads1Generated()
    {
        _generated.TrainingThreads = 1;
        int start = NextGeneratedTrainOffset(TrainingBatch);
        return _generated.Train(TrainImages(start, TrainingBatch).Span, TrainLabels(start, TrainingBatch).Span, BatchLearningRate);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads2Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 2)]
    public float Train32Threads2Straightforward()
    {
        int start = NextBaselineTrainOffset(TrainingBatch);
        return _baseline.Train(TrainImages(start, TrainingBatch), TrainLabels(start, TrainingBatch), BatchLearningRate, threads: 2);
    }

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads2Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 2)]
    public float Train32Threads2Generated()
    {
        _generated.TrainingThreads = 2;
        int start = NextGeneratedTrainOffset(TrainingBatch);
        return _generated.Train(TrainImages(start, TrainingBatch).Span, TrainLabels(start, TrainingBatch).Span, BatchLearningRate);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OnlineSteps)]
    [BenchmarkCategory(Train1Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 1)]
    public float Train1Straightforward()
    {
        int start = NextBaselineTrainOffset(OnlineSteps);
        float loss = 0f;
        for (int n = start; n < start + OnlineSteps; n++)
        {
            loss += _baseline.Train(_digits.TrainImage(n), _digits.TrainLabels[n], OnlineLearningRate);
        }

        return loss;
    }

    [Benchmark(OperationsPerInvoke = OnlineSteps)]
    [BenchmarkCategory(Train1Category)]
    [NetworkWork(typeof(LeNet5), Pass.TrainingStep, threads: 1)]
    public float Train1Generated()
    {
        _generated.TrainingThreads = 1;
        int start = NextGeneratedTrainOffset(OnlineSteps);
        float loss = 0f;
        for (int n = start; n < start + OnlineSteps; n++)
        {
            loss += _generated.Train(_digits.TrainImage(n), _digits.TrainLabels[n], OnlineLearningRate);
        }

        return loss;
    }

    // The batched API: one Predict call for the 256 images, split over InferenceThreads inside the library.
    private int GeneratedBatch(int threads)
    {
        _generated.InferenceThreads = threads;
        int start = NextInferenceOffset();
        _generated.Predict(_digits.TestImages.AsSpan(start * Digits.ImageLength, InferenceBatch * Digits.ImageLength), _classes);
        int sum = 0;
        foreach (int predicted in _classes)
        {
            sum += predicted;
        }

        return sum;
    }

    private void GeneratedHalf(int half)
    {
        int start = _inferenceOffset + (half * (InferenceBatch / Halves));
        int sum = 0;
        for (int n = 0; n < InferenceBatch / Halves; n++)
        {
            sum += _generated.Predict(_digits.TestImage(start + n));
        }

        _halfSums[half] = sum;
    }

    private void BaselineHalf(int half)
    {
        StraightforwardLeNet5 network = _baselinePerThread[half];
        int start = _inferenceOffset + (half * (InferenceBatch / Halves));
        int sum = 0;
        for (int n = 0; n < InferenceBatch / Halves; n++)
        {
            sum += network.Predict(_digits.TestImage(start + n));
        }

        _halfSums[half] = sum;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++)
        {
            if (values[k] > values[best])
            {
                best = k;
            }
        }

        return best;
    }

    private ReadOnlySpan<float> NextTestImage()
    {
        int index = _predictIndex;
        _predictIndex = index + 1 == _digits.TestCount ? 0 : index + 1;
        return _digits.TestImage(index);
    }

    // Successive windows of the test set; 2,000 is not a multiple of 256, so the windows wander through all of it.
    private int NextInferenceOffset()
    {
        int start = _inferenceOffset + InferenceBatch;
        if (start + InferenceBatch > _digits.TestCount)
        {
            start -= _digits.TestCount - InferenceBatch;
        }

        _inferenceOffset = start;
        return start;
    }

    private int NextGeneratedTrainOffset(int count)
    {
        if (_generatedTrainOffset + count > _digits.TrainCount)
        {
            _generatedTrainOffset = 0;
            _initialParameters.CopyTo(_generated.Parameters);
        }

        int start = _generatedTrainOffset;
        _generatedTrainOffset += count;
        return start;
    }

    private int NextBaselineTrainOffset(int count)
    {
        if (_baselineTrainOffset + count > _digits.TrainCount)
        {
            _baselineTrainOffset = 0;
            _baseline.CopyParametersFrom(_initialParameters);
        }

        int start = _baselineTrainOffset;
        _baselineTrainOffset += count;
        return start;
    }

    private ReadOnlyMemory<float> TrainImages(int start, int count) =>
        _digits.TrainImages.AsMemory(start * Digits.ImageLength, count * Digits.ImageLength);

    private ReadOnlyMemory<int> TrainLabels(int start, int count) => _digits.TrainLabels.AsMemory(start, count);
}

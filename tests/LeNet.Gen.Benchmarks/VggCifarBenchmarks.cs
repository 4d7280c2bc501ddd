using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LeNet.Gen.Benchmarks.Reporting;
using Microsoft.ML.OnnxRuntime;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// The CIFAR-sized <see cref="VggCifar"/> (the peer harness's <c>vgg-cifar</c>): the generated network, through the
/// batched <c>Predict</c> with <c>InferenceThreads</c> 1 and 2, next to ONNX Runtime running the same network and weights
/// (exported with <c>SaveOnnx</c>), which is each inference category's baseline; and training with
/// <c>TrainingThreads</c> 1 and 2 (no peer here: ONNX Runtime does not train). Inputs are random (speed does not depend
/// on the values). <c>OperationsPerInvoke</c> is the number of images, so times are per image.
/// </summary>
/// <remarks>
/// Training runs momentum SGD (learning rate 0.01, momentum 0.9), as the peer harness does, on random labels; each time
/// it has gone once through the training images, the weights are reset, so every measurement sees the same regime.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class VggCifarBenchmarks
{
    public const string PredictOneCategory = "vgg-cifar: Predict 1 image, 1 thread";
    public const string Inference1Category = "vgg-cifar: Inference batch 256, 1 thread";
    public const string Inference2Category = "vgg-cifar: Inference batch 256, 2 threads";
    public const string Train32Threads1Category = "vgg-cifar: Train batch 32, 1 thread";
    public const string Train32Threads2Category = "vgg-cifar: Train batch 32, 2 threads";

    public const int InferenceBatch = 256;
    public const int TrainingBatch = 32;
    public const int TestCount = 512;
    public const int TrainCount = 1024;

    private const int Seed = 1;

    private VggCifar _generated = null!;
    private float[] _initialParameters = [];
    private MomentumSgd _momentum = null!;
    private float[] _test = [];
    private float[] _train = [];
    private int[] _labels = [];
    private int[] _classes = [];
    private InferenceSession _onnx1 = null!;
    private InferenceSession _onnx2 = null!;
    private RunOptions _onnxRun = null!;
    private float[] _onnxOne = [];
    private float[] _onnxBatch = [];
    private OrtValue _onnxOneInput = null!;
    private OrtValue _onnxBatchInput = null!;
    private int _predictIndex;
    private int _inferenceOffset;
    private int _trainOffset;

    [GlobalSetup]
    public void Setup()
    {
        _generated = new VggCifar(Seed);
        // Read from a twin of the same seed: a network whose Parameters span was handed out checks its prepared weights on
        // every call (ParameterVersion), and the Predict benchmarks measure one that, like an application's, never hands it out.
        _initialParameters = new VggCifar(Seed).Parameters.ToArray();
        _momentum = new MomentumSgd(0.01f, 0.9f);
        var random = new Random(Seed);
        _test = RandomImages(random, TestCount);
        _train = RandomImages(random, TrainCount);
        _labels = new int[TrainCount];
        for (int n = 0; n < TrainCount; n++)
        {
            _labels[n] = random.Next(VggCifar.OutputLength);
        }

        _classes = new int[InferenceBatch];
        using (var model = new MemoryStream())
        {
            _generated.SaveOnnx(model);
            _onnx1 = Session(model.ToArray(), threads: 1);
            _onnx2 = Session(model.ToArray(), threads: 2);
        }

        _onnxRun = new RunOptions();
        _onnxOne = new float[VggCifar.InputLength];
        _onnxBatch = new float[InferenceBatch * VggCifar.InputLength];
        _onnxOneInput = OrtValue.CreateTensorValueFromMemory(_onnxOne, [1, 3, 32, 32]);
        _onnxBatchInput = OrtValue.CreateTensorValueFromMemory(_onnxBatch, [InferenceBatch, 3, 32, 32]);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 1)]
    [BenchmarkCategory(PredictOneCategory)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 1)]
    public int PredictOneOnnxRuntime()
    {
        NextTestImage().CopyTo(_onnxOne);
        using var outputs = _onnx1.Run(_onnxRun, ["input"], [_onnxOneInput], ["output"]);
        return ArgMax(outputs[0].GetTensorDataAsSpan<float>());
    }

    [Benchmark(OperationsPerInvoke = 1)]
    [BenchmarkCategory(PredictOneCategory)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 1)]
    public int PredictOneGenerated() => _generated.Predict(NextTestImage());

    [Benchmark(Baseline = true, OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 1)]
    public int Inference1OnnxRuntime() => OnnxBatch(_onnx1);

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference1Category)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 1)]
    public int Inference1GeneratedBatched() => GeneratedBatch(threads: 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference2Category)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 2)]
    public int Inference2OnnxRuntime() => OnnxBatch(_onnx2);

    [Benchmark(OperationsPerInvoke = InferenceBatch)]
    [BenchmarkCategory(Inference2Category)]
    [NetworkWork(typeof(VggCifar), Pass.Forward, threads: 2)]
    public int Inference2GeneratedBatched() => GeneratedBatch(threads: 2);

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads1Category)]
    [NetworkWork(typeof(VggCifar), Pass.TrainingStep, threads: 1)]
    public float Train32Threads1Generated() => Train(threads: 1);

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads2Category)]
    [NetworkWork(typeof(VggCifar), Pass.TrainingStep, threads: 2)]
    public float Train32Threads2Generated() => Train(threads: 2);

    private int GeneratedBatch(int threads)
    {
        _generated.InferenceThreads = threads;
        int start = NextInferenceOffset();
        _generated.Predict(_test.AsSpan(start * VggCifar.InputLength, InferenceBatch * VggCifar.InputLength), _classes);
        int sum = 0;
        foreach (int predicted in _classes)
        {
            sum += predicted;
        }

        return sum;
    }

    private int OnnxBatch(InferenceSession session)
    {
        int start = NextInferenceOffset();
        _test.AsSpan(start * VggCifar.InputLength, InferenceBatch * VggCifar.InputLength).CopyTo(_onnxBatch);
        using var outputs = session.Run(_onnxRun, ["input"], [_onnxBatchInput], ["output"]);
        ReadOnlySpan<float> probabilities = outputs[0].GetTensorDataAsSpan<float>();
        int sum = 0;
        for (int n = 0; n < InferenceBatch; n++)
        {
            sum += ArgMax(probabilities.Slice(n * VggCifar.OutputLength, VggCifar.OutputLength));
        }

        return sum;
    }

    private float Train(int threads)
    {
        _generated.TrainingThreads = threads;
        if (_trainOffset + TrainingBatch > TrainCount)
        {
            _trainOffset = 0;
            _initialParameters.CopyTo(_generated.Parameters); // the momentum is kept: resetting it would allocate it anew
        }

        int start = _trainOffset;
        _trainOffset += TrainingBatch;
        return _generated.Train(
            _train.AsSpan(start * VggCifar.InputLength, TrainingBatch * VggCifar.InputLength),
            _labels.AsSpan(start, TrainingBatch),
            _momentum);
    }

    private static InferenceSession Session(byte[] model, int threads) =>
        new(model, new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL });

    private static float[] RandomImages(Random random, int count)
    {
        var images = new float[count * VggCifar.InputLength];
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = (float)random.NextDouble();
        }

        return images;
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
        _predictIndex = index + 1 == TestCount ? 0 : index + 1;
        return _test.AsSpan(index * VggCifar.InputLength, VggCifar.InputLength);
    }

    // Successive windows of the test images; 512 is a multiple of 256, so the windows alternate between two halves.
    private int NextInferenceOffset()
    {
        int start = _inferenceOffset + InferenceBatch;
        if (start + InferenceBatch > TestCount)
        {
            start = 0;
        }

        _inferenceOffset = start;
        return start;
    }
}

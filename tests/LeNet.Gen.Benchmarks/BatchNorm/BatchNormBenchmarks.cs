using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LeNet.Gen.Benchmarks.Reporting;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// What batch norm costs in training: <see cref="LeNetBN"/> next to <see cref="LeNetBNWithoutNorm"/> (the baseline of
/// each category: the same network without its four <c>[BatchNorm]</c> layers), on 1 and 2 threads, and the
/// normalisation's own arithmetic alone (<see cref="BatchNormArithmetic"/>), per image of a batch of 32. The network
/// with batch norm should cost no more than the one without it plus that arithmetic.
/// </summary>
/// <remarks>
/// Both networks start from their seed-1 weights and train with momentum SGD (0.05, 0.9) on the bundled digits; each
/// time they have gone once through the 8,000 training images, their weights are reset (the running statistics too,
/// which are stored after the parameters).
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class BatchNormBenchmarks
{
    public const string Train32Threads1Category = "lenet-bn: Train batch 32, 1 thread";
    public const string Train32Threads2Category = "lenet-bn: Train batch 32, 2 threads";
    public const string ArithmeticCategory = "lenet-bn: batch-norm arithmetic alone, batch 32, 1 thread";

    public const int TrainingBatch = 32;

    private const int Seed = 1;

    private Digits _digits = null!;
    private LeNetBN _withNorm = null!;
    private LeNetBNWithoutNorm _withoutNorm = null!;
    private float[] _withNormInitial = [];
    private float[] _withoutNormInitial = [];
    private float[] _withNormInitialState = [];
    private MomentumSgd _withNormOptimizer = null!;
    private MomentumSgd _withoutNormOptimizer = null!;
    private BatchNormArithmetic _arithmetic = null!;
    private int _withNormOffset;
    private int _withoutNormOffset;

    [GlobalSetup]
    public void Setup()
    {
        _digits = Digits.Instance;
        _withNorm = new LeNetBN(Seed);
        _withoutNorm = new LeNetBNWithoutNorm(Seed);
        _withNormInitial = _withNorm.Parameters.ToArray();
        _withoutNormInitial = _withoutNorm.Parameters.ToArray();
        _withNormInitialState = _withNorm.State.ToArray();
        _withNormOptimizer = new MomentumSgd(0.05f, 0.9f);
        _withoutNormOptimizer = new MomentumSgd(0.05f, 0.9f);
        _arithmetic = new BatchNormArithmetic(TrainingBatch, Seed);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads1Category)]
    [NetworkWork(typeof(LeNetBNWithoutNorm), Pass.TrainingStep, threads: 1)]
    public float Train32Threads1WithoutNorm() => TrainWithoutNorm(threads: 1);

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads1Category)]
    [NetworkWork(typeof(LeNetBN), Pass.TrainingStep, threads: 1)]
    public float Train32Threads1WithNorm() => TrainWithNorm(threads: 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads2Category)]
    [NetworkWork(typeof(LeNetBNWithoutNorm), Pass.TrainingStep, threads: 2)]
    public float Train32Threads2WithoutNorm() => TrainWithoutNorm(threads: 2);

    [Benchmark(OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(Train32Threads2Category)]
    [NetworkWork(typeof(LeNetBN), Pass.TrainingStep, threads: 2)]
    public float Train32Threads2WithNorm() => TrainWithNorm(threads: 2);

    [Benchmark(Baseline = true, OperationsPerInvoke = TrainingBatch)]
    [BenchmarkCategory(ArithmeticCategory)]
    public float NormalisationArithmetic() => _arithmetic.Step();

    private float TrainWithNorm(int threads)
    {
        _withNorm.TrainingThreads = threads;
        int start = NextOffset(ref _withNormOffset, _withNormInitial, _withNorm.Parameters, out bool reset);
        if (reset)
        {
            _withNormInitialState.CopyTo(_withNorm.State);
        }

        return _withNorm.Train(Images(start), _digits.TrainLabels.AsSpan(start, TrainingBatch), _withNormOptimizer);
    }

    private float TrainWithoutNorm(int threads)
    {
        _withoutNorm.TrainingThreads = threads;
        int start = NextOffset(ref _withoutNormOffset, _withoutNormInitial, _withoutNorm.Parameters, out _);
        return _withoutNorm.Train(Images(start), _digits.TrainLabels.AsSpan(start, TrainingBatch), _withoutNormOptimizer);
    }

    private ReadOnlySpan<float> Images(int start) =>
        _digits.TrainImages.AsSpan(start * Digits.ImageLength, TrainingBatch * Digits.ImageLength);

    // The next batch of the training images; after a whole pass the weights go back to their starting values (the
    // optimizer's momentum is kept: resetting it would allocate it anew).
    private int NextOffset(ref int offset, float[] initial, Span<float> parameters, out bool reset)
    {
        reset = offset + TrainingBatch > _digits.TrainCount;
        if (reset)
        {
            offset = 0;
            initial.CopyTo(parameters);
        }

        int start = offset;
        offset += TrainingBatch;
        return start;
    }
}

using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNet.Gen;

/// <summary>
/// Turns gradients into a parameter update. Pass one to a generated network's <c>Train(inputs, labels, optimizer)</c>.
/// Optimizers with state (momentum, Adam's moments) allocate it on their first step and keep it for one parameter vector;
/// use a new optimizer (or <see cref="Reset"/>) for another network.
/// </summary>
public abstract class Optimizer
{
    private float _learningRate;
    private float _weightDecay;

    /// <summary>Creates an optimizer.</summary>
    /// <param name="learningRate">Step size; finite and positive.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient as <c>weightDecay × parameter</c>; finite and not negative.</param>
    protected Optimizer(float learningRate, float weightDecay)
    {
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>Step size; finite and positive. May be changed between steps, for a learning-rate schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not finite, or not positive.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!float.IsFinite(value) || value <= 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, string.Create(CultureInfo.InvariantCulture, $"The learning rate must be finite and positive, but it is {value}."));
            }

            _learningRate = value;
        }
    }

    /// <summary>L2 penalty coefficient (PyTorch's <c>weight_decay</c>): adds <c>WeightDecay × parameter</c> to each gradient.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or not finite.</exception>
    public float WeightDecay
    {
        get => _weightDecay;
        set
        {
            if (!float.IsFinite(value) || value < 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, string.Create(CultureInfo.InvariantCulture, $"The weight decay must be finite and not negative, but it is {value}."));
            }

            _weightDecay = value;
        }
    }

    /// <summary>Number of steps taken since creation or <see cref="Reset"/>.</summary>
    public long Steps { get; private set; }

    /// <summary>Updates <paramref name="parameters"/> from <paramref name="gradients"/> of the loss.</summary>
    /// <exception cref="ArgumentException">The spans differ in length, or differ from the length of the first step.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        if (parameters.Length != gradients.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"gradients has {gradients.Length} values, but parameters has {parameters.Length}."), nameof(gradients));
        }

        PrepareState(parameters.Length); // refuses a length other than the state's before the step counts
        Steps++;
        Update(parameters, gradients);
    }

    /// <summary>Forgets all state (momentum, moments, step count).</summary>
    public virtual void Reset() => Steps = 0;

    /// <summary>
    /// True for the built-in optimizers: each parameter's update reads only its own gradient and state, so a training
    /// step may run it over ranges of parameters on several threads (<see cref="BeginStep"/>, <see cref="UpdateRange"/>)
    /// with the result of <see cref="Step"/>.
    /// </summary>
    internal virtual bool UpdatesInRanges => false;

    /// <summary>Starts a step that then runs as <see cref="UpdateRange"/> calls: checks and counts it as <see cref="Step"/> does, and makes the state.</summary>
    internal void BeginStep(int parameters, int gradients)
    {
        if (parameters != gradients)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"gradients has {gradients} values, but parameters has {parameters}."), nameof(gradients));
        }

        PrepareState(parameters);
        Steps++;
    }

    /// <summary>Makes (or checks) the state buffers for <paramref name="length"/> parameters.</summary>
    internal virtual void PrepareState(int length)
    {
    }

    /// <summary>The update of parameters <paramref name="offset"/> … <paramref name="offset"/> + <paramref name="parameters"/>.Length − 1, after <see cref="BeginStep"/>.</summary>
    internal virtual void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int offset) =>
        throw new NotSupportedException($"{GetType().Name} updates all parameters at once.");

    /// <summary>Applies one update; <see cref="Steps"/> already counts it.</summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>Returns the state buffer for <paramref name="length"/> parameters, allocating it on the first step.</summary>
    protected static float[] State(ref float[]? buffer, int length)
    {
        if (buffer is null)
        {
            buffer = new float[length];
        }
        else if (buffer.Length != length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"This optimizer holds state for {buffer.Length} parameters, but was given {length}; use one optimizer per network, or call Reset()."), "parameters");
        }

        return buffer;
    }
}

/// <summary>Plain stochastic gradient descent: <c>p ← p − lr · (g + wd · p)</c>.</summary>
public sealed class Sgd(float learningRate, float weightDecay = 0f) : Optimizer(learningRate, weightDecay)
{
    internal override bool UpdatesInRanges => true;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients) => UpdateRange(parameters, gradients, 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int offset)
    {
        float lr = LearningRate, wd = WeightDecay;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float d = ref MemoryMarshal.GetReference(gradients);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight at a time with the scalar loop's operations in its order (no fused multiply-add), so the same result.
            Vector256<float> rate = Vector256.Create(lr), decay = Vector256.Create(wd);
            for (; i <= parameters.Length - 8; i += 8)
            {
                var value = Vector256.LoadUnsafe(ref p, (nuint)i);
                (value - (rate * (Vector256.LoadUnsafe(ref d, (nuint)i) + (decay * value)))).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < parameters.Length; i++)
        {
            Unsafe.Add(ref p, i) -= lr * (Unsafe.Add(ref d, i) + (wd * Unsafe.Add(ref p, i)));
        }
    }
}

/// <summary>
/// SGD with momentum, as PyTorch defines it: <c>v ← μ·v + (g + wd·p)</c>, then <c>p ← p − lr·v</c>
/// (or, with <see cref="Nesterov"/>, <c>p ← p − lr·(g + wd·p + μ·v)</c>).
/// </summary>
public sealed class MomentumSgd : Optimizer
{
    private float[]? _velocity;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; finite and positive.</param>
    /// <param name="momentum">Momentum μ in [0, 1).</param>
    /// <param name="weightDecay">L2 penalty coefficient.</param>
    /// <param name="nesterov">Use Nesterov momentum.</param>
    public MomentumSgd(float learningRate, float momentum = 0.9f, float weightDecay = 0f, bool nesterov = false)
        : base(learningRate, weightDecay)
    {
        if (!(momentum >= 0f && momentum < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, string.Create(CultureInfo.InvariantCulture, $"Momentum must be in [0, 1), but it is {momentum}."));
        }

        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Momentum μ.</summary>
    public float Momentum { get; }

    /// <summary>Whether the update uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override void Reset()
    {
        base.Reset();
        _velocity = null;
    }

    internal override bool UpdatesInRanges => true;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        PrepareState(parameters.Length);
        UpdateRange(parameters, gradients, 0);
    }

    internal override void PrepareState(int length) => State(ref _velocity, length);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int offset)
    {
        var velocity = _velocity.AsSpan(offset, parameters.Length);
        float lr = LearningRate, wd = WeightDecay, mu = Momentum;
        bool first = Steps == 1, nesterov = Nesterov;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float d = ref MemoryMarshal.GetReference(gradients);
        ref float u = ref MemoryMarshal.GetReference(velocity);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight at a time with the scalar loop's operations in its order (no fused multiply-add), so the same result.
            Vector256<float> rate = Vector256.Create(lr), decay = Vector256.Create(wd), momentum = Vector256.Create(mu);
            for (; i <= parameters.Length - 8; i += 8)
            {
                var value = Vector256.LoadUnsafe(ref p, (nuint)i);
                var g = Vector256.LoadUnsafe(ref d, (nuint)i) + (decay * value);
                var v = first ? g : (momentum * Vector256.LoadUnsafe(ref u, (nuint)i)) + g;
                v.StoreUnsafe(ref u, (nuint)i);
                (value - (rate * (nesterov ? g + (momentum * v) : v))).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < parameters.Length; i++)
        {
            float g = Unsafe.Add(ref d, i) + (wd * Unsafe.Add(ref p, i));
            float v = first ? g : (mu * Unsafe.Add(ref u, i)) + g; // PyTorch starts the buffer at the first gradient
            Unsafe.Add(ref u, i) = v;
            Unsafe.Add(ref p, i) -= lr * (nesterov ? g + (mu * v) : v);
        }
    }
}

/// <summary>
/// Adam (Kingma and Ba, 2015) with PyTorch's defaults and bias correction; <see cref="Optimizer.WeightDecay"/> is added to
/// the gradient, as in PyTorch's <c>Adam(weight_decay=…)</c>.
/// </summary>
public sealed class Adam : Optimizer
{
    private float[]? _m;
    private float[]? _v;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; 0.001 is the usual default.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator; positive.</param>
    /// <param name="weightDecay">L2 penalty coefficient.</param>
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate, weightDecay)
    {
        if (!(beta1 >= 0f && beta1 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, string.Create(CultureInfo.InvariantCulture, $"beta1 must be in [0, 1), but it is {beta1}."));
        }

        if (!(beta2 >= 0f && beta2 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, string.Create(CultureInfo.InvariantCulture, $"beta2 must be in [0, 1), but it is {beta2}."));
        }

        if (!(epsilon > 0f) || !float.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, string.Create(CultureInfo.InvariantCulture, $"epsilon must be finite and positive, but it is {epsilon}."));
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Epsilon { get; }

    /// <inheritdoc/>
    public override void Reset()
    {
        base.Reset();
        _m = null;
        _v = null;
    }

    internal override bool UpdatesInRanges => true;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        PrepareState(parameters.Length);
        UpdateRange(parameters, gradients, 0);
    }

    internal override void PrepareState(int length)
    {
        State(ref _m, length);
        State(ref _v, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, int offset)
    {
        var m = _m.AsSpan(offset, parameters.Length);
        var v = _v.AsSpan(offset, parameters.Length);
        float b1 = Beta1, b2 = Beta2, wd = WeightDecay;
        float correction1 = 1f - MathF.Pow(b1, Steps);
        float correction2 = 1f - MathF.Pow(b2, Steps);
        float stepSize = LearningRate / correction1;
        float sqrtCorrection2 = MathF.Sqrt(correction2), epsilon = Epsilon;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float d = ref MemoryMarshal.GetReference(gradients);
        ref float first = ref MemoryMarshal.GetReference(m);
        ref float second = ref MemoryMarshal.GetReference(v);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight at a time with the scalar loop's operations in its order (no fused multiply-add; the square root and
            // the division are correctly rounded in both), so the same result.
            Vector256<float> beta1 = Vector256.Create(b1), beta2 = Vector256.Create(b2), rest1 = Vector256.Create(1f - b1), rest2 = Vector256.Create(1f - b2);
            Vector256<float> decay = Vector256.Create(wd), step = Vector256.Create(stepSize), root = Vector256.Create(sqrtCorrection2), eps = Vector256.Create(epsilon);
            for (; i <= parameters.Length - 8; i += 8)
            {
                var value = Vector256.LoadUnsafe(ref p, (nuint)i);
                var g = Vector256.LoadUnsafe(ref d, (nuint)i) + (decay * value);
                var mi = (beta1 * Vector256.LoadUnsafe(ref first, (nuint)i)) + (rest1 * g);
                var vi = (beta2 * Vector256.LoadUnsafe(ref second, (nuint)i)) + (rest2 * g * g);
                mi.StoreUnsafe(ref first, (nuint)i);
                vi.StoreUnsafe(ref second, (nuint)i);
                (value - (step * mi / ((Vector256.Sqrt(vi) / root) + eps))).StoreUnsafe(ref p, (nuint)i);
            }
        }

        for (; i < parameters.Length; i++)
        {
            float g = Unsafe.Add(ref d, i) + (wd * Unsafe.Add(ref p, i));
            ref float mi = ref Unsafe.Add(ref first, i);
            ref float vi = ref Unsafe.Add(ref second, i);
            mi = (b1 * mi) + ((1f - b1) * g);
            vi = (b2 * vi) + ((1f - b2) * g * g);
            Unsafe.Add(ref p, i) -= stepSize * mi / ((MathF.Sqrt(vi) / sqrtCorrection2) + epsilon);
        }
    }
}

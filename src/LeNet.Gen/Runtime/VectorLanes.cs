using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeNet.Gen.Runtime;

/// <summary>The vector operations the lane kernels (ImageLanes, FilterLanes) use, for one vector width; a struct, so each width gets its own compiled kernels.</summary>
internal interface ILanes<TVector>
    where TVector : struct
{
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector Load(ref float source, nuint offset);

    static abstract void Store(TVector value, ref float target, nuint offset);

    static abstract TVector Splat(float value);

    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Divide(TVector a, TVector b);

    /// <summary>The larger of the two as <see cref="MathF.Max(float, float)"/>: NaN when either is NaN, +0 over −0.</summary>
    static abstract TVector Max(TVector a, TVector b);

    /// <summary>max(0, x), NaN for NaN (as the scalar layers' ReLU).</summary>
    static abstract TVector Relu(TVector x);
}

internal readonly struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> value, ref float target, nuint offset) => value.StoreUnsafe(ref target, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Avx.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => Avx.Divide(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Simd.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> x) => Simd.Relu(x);
}

internal readonly struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> value, ref float target, nuint offset) => value.StoreUnsafe(ref target, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => Avx512F.Add(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => Avx512F.Multiply(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => Avx512F.Divide(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Simd.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> x) => Simd.Relu(x);
}

/// <summary>
/// Whether a kernel's stores apply ReLU, fixed when the JIT compiles the kernel for <see cref="Rectified"/> or
/// <see cref="Identity"/>: no branch per store, and no register given to it.
/// </summary>
internal interface IActivation
{
    static abstract bool Rectifies { get; }
}

internal readonly struct Rectified : IActivation
{
    public static bool Rectifies => true;
}

internal readonly struct Identity : IActivation
{
    public static bool Rectifies => false;
}

/// <summary>A count fixed when the JIT compiles a kernel for it: filters (or blocks of filters) per register tile, a pooling stride.</summary>
internal interface ICount
{
    static abstract int Value { get; }
}

internal readonly struct Three : ICount
{
    public static int Value => 3;
}

internal readonly struct Four : ICount
{
    public static int Value => 4;
}

/// <summary>1: one block of filters per register tile, or a pooling stride of 1.</summary>
internal readonly struct One : ICount
{
    public static int Value => 1;
}

/// <summary>2: two blocks of filters per register tile, or a pooling stride of 2.</summary>
internal readonly struct Two : ICount
{
    public static int Value => 2;
}

/// <summary>5: taps of a kernel row per register tile (TrainingLanes).</summary>
internal readonly struct Five : ICount
{
    public static int Value => 5;
}

/// <summary>6: taps of a kernel row per register tile (TrainingLanes).</summary>
internal readonly struct Six : ICount
{
    public static int Value => 6;
}

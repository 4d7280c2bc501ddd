using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// Argument checks shared by the generated networks, so that every network reports a bad argument the same way:
/// an exception that names the parameter, the expected value and the actual one. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Check
{
    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>, the length of one input or output.</summary>
    public static void Length(int actual, int expected, string shape, string network, string parameterName)
    {
        if (actual != expected)
        {
            ThrowLength(actual, expected, shape, network, parameterName);
        }
    }

    /// <summary>Throws unless <paramref name="inputsLength"/> holds a whole, non-empty batch matching <paramref name="labelCount"/> labels.</summary>
    public static void Batch(int inputsLength, int labelCount, int inputLength, string network, string inputsName, string labelsName)
    {
        if (labelCount == 0)
        {
            throw new ArgumentException($"The batch is empty: {labelsName} has no labels.", labelsName);
        }

        if ((long)labelCount * inputLength != inputsLength)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{labelsName} has {labelCount} labels, so {inputsName} must hold {labelCount} × {inputLength} = {(long)labelCount * inputLength} values for {network}, but it has {inputsLength}") +
                (inputsLength % inputLength == 0 ? string.Create(CultureInfo.InvariantCulture, $" ({inputsLength / inputLength} inputs).") : "."),
                inputsName);
        }
    }

    /// <summary>
    /// Returns how many inputs of <paramref name="inputLength"/> values <paramref name="inputsLength"/> values hold, and
    /// throws unless they hold a whole number of them (zero included).
    /// </summary>
    public static int Inputs(int inputsLength, int inputLength, string shape, string network, string parameterName)
    {
        if (inputsLength % inputLength != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{parameterName} has {inputsLength} values, but {network} needs a whole number of inputs of {inputLength} values ({shape}) each: {inputsLength} is not a multiple of {inputLength}."),
                parameterName);
        }

        return inputsLength / inputLength;
    }

    /// <summary>Throws unless <paramref name="outputsLength"/> holds exactly one output of <paramref name="outputLength"/> values for each of <paramref name="count"/> inputs.</summary>
    public static void Outputs(int outputsLength, int count, int outputLength, string shape, string network, string parameterName, string inputsName)
    {
        long expected = (long)count * outputLength;
        if (outputsLength == expected)
        {
            return;
        }

        if (count == 1)
        {
            ThrowLength(outputsLength, outputLength, shape, network, parameterName); // one input: the message of a single-input call
        }

        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{parameterName} has {outputsLength} values, but {inputsName} holds {InputCount(count)}, so {network} needs {count} × {outputLength} = {expected} ({count} outputs of {shape})."),
            parameterName);
    }

    /// <summary>Throws unless <paramref name="classesLength"/> is <paramref name="count"/>: one class per input.</summary>
    public static void Classes(int classesLength, int count, string network, string parameterName, string inputsName)
    {
        if (classesLength != count)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{parameterName} has {classesLength} values, but {inputsName} holds {InputCount(count)} for {network}, so it needs {count} (one class per input)."),
                parameterName);
        }
    }

    /// <summary>Throws unless <paramref name="label"/> is a class index in [0, <paramref name="classes"/>).</summary>
    public static void Label(int label, int classes, string parameterName, int index = -1)
    {
        if ((uint)label >= (uint)classes)
        {
            string where = index >= 0 ? string.Create(CultureInfo.InvariantCulture, $"{parameterName}[{index}]") : parameterName;
            throw new ArgumentOutOfRangeException(parameterName, label, string.Create(CultureInfo.InvariantCulture, $"{where} is {label}, but labels must be in [0, {classes})."));
        }
    }

    /// <summary>Throws unless every label is in [0, <paramref name="classes"/>).</summary>
    public static void Labels(ReadOnlySpan<int> labels, int classes, string parameterName)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            Label(labels[i], classes, parameterName, i);
        }
    }

    /// <summary>Throws unless the learning rate is finite and positive.</summary>
    public static void LearningRate(float learningRate, string parameterName)
    {
        if (!float.IsFinite(learningRate) || learningRate <= 0f)
        {
            throw new ArgumentOutOfRangeException(parameterName, learningRate, string.Create(CultureInfo.InvariantCulture, $"The learning rate must be finite and positive, but it is {learningRate}."));
        }
    }

    /// <summary>Returns <paramref name="threads"/> if it is at least 1, else throws.</summary>
    public static int Threads(int threads, string parameterName) => threads >= 1
        ? threads
        : throw new ArgumentOutOfRangeException(parameterName, threads, string.Create(CultureInfo.InvariantCulture, $"The thread count must be at least 1, but it is {threads}."));

    /// <summary>Throws <see cref="ArgumentNullException"/> for a null reference argument.</summary>
    public static void NotNull([NotNull] object? value, string parameterName) => ArgumentNullException.ThrowIfNull(value, parameterName);

    /// <summary>
    /// Throws <see cref="ArithmeticException"/> when a training step produced a non-finite loss or gradient, which
    /// would otherwise poison every parameter. Called before the parameters change, so they stay as they were.
    /// </summary>
    public static void Finite(float loss, ReadOnlySpan<float> gradients, string network)
    {
        if (!float.IsFinite(loss))
        {
            throw new ArithmeticException(string.Create(CultureInfo.InvariantCulture, $"{network}: the loss is {loss}; the parameters were left unchanged. Check the inputs for NaN or infinity, or lower the learning rate."));
        }

        int bad = FirstNonFinite(gradients);
        if (bad >= 0)
        {
            throw new ArithmeticException(string.Create(CultureInfo.InvariantCulture, $"{network}: gradient {bad} is {gradients[bad]}; the parameters were left unchanged. Check the inputs for NaN or infinity, or lower the learning rate."));
        }
    }

    /// <summary>The index of the first NaN or infinite value, or −1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        // x − x is 0 for every finite x and NaN for NaN and ±infinity, so summing x − x finds both in one vectorised
        // pass (four independent sums, so the additions do not wait on each other); only a failure needs the slow search.
        ref float start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(values);
        int i = 0;
        bool finite = true;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && values.Length >= 32)
        {
            var a = System.Runtime.Intrinsics.Vector256<float>.Zero;
            var b = a;
            var c = a;
            var d = a;
            for (; i <= values.Length - 32; i += 32)
            {
                var v0 = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)i);
                var v1 = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)(i + 8));
                var v2 = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)(i + 16));
                var v3 = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)(i + 24));
                a += v0 - v0;
                b += v1 - v1;
                c += v2 - v2;
                d += v3 - v3;
            }

            finite = System.Runtime.Intrinsics.Vector256.EqualsAll((a + b) + (c + d), System.Runtime.Intrinsics.Vector256<float>.Zero);
        }

        float rest = 0f;
        for (; i < values.Length; i++)
        {
            rest += values[i] - values[i];
        }

        if (finite && rest == 0f)
        {
            return -1;
        }

        for (i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static string InputCount(int count) => count switch
    {
        0 => "no inputs",
        1 => "1 input",
        _ => string.Create(CultureInfo.InvariantCulture, $"{count} inputs"),
    };

    [DoesNotReturn]
    private static void ThrowLength(int actual, int expected, string shape, string network, string parameterName) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{parameterName} has {actual} values, but {network} needs {expected} ({shape})."), parameterName);
}

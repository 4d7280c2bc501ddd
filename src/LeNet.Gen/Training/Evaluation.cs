using System;
using System.Globalization;
using System.Text;
using LeNet.Gen.Data;

namespace LeNet.Gen.Training;

/// <summary>How a network does on a labelled data set: accuracy, mean loss and the confusion matrix.</summary>
public sealed class Evaluation
{
    private readonly int[,] _confusion;

    internal Evaluation(int classes, int[,] confusion, double meanLoss)
    {
        Classes = classes;
        _confusion = confusion;
        MeanLoss = meanLoss;
        for (int i = 0; i < classes; i++)
        {
            for (int j = 0; j < classes; j++)
            {
                Count += confusion[i, j];
                if (i == j)
                {
                    Correct += confusion[i, j];
                }
            }
        }
    }

    /// <summary>Number of classes.</summary>
    public int Classes { get; }

    /// <summary>Number of examples evaluated.</summary>
    public int Count { get; }

    /// <summary>Examples whose predicted class is the label.</summary>
    public int Correct { get; }

    /// <summary>Correct ÷ Count, in [0, 1].</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>Mean cross-entropy loss, or NaN for a network without a softmax head.</summary>
    public double MeanLoss { get; }

    /// <summary>How many examples of class <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    public int this[int actual, int predicted] => _confusion[actual, predicted];

    /// <summary>The confusion matrix as a text table: one row per true class, one column per predicted class.</summary>
    public string FormatConfusionMatrix()
    {
        int width = Math.Max(5, Count.ToString(CultureInfo.InvariantCulture).Length + 1);
        var text = new StringBuilder();
        text.Append("true\\pred".PadRight(10));
        for (int j = 0; j < Classes; j++)
        {
            text.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(width));
        }

        text.AppendLine();
        for (int i = 0; i < Classes; i++)
        {
            text.Append(i.ToString(CultureInfo.InvariantCulture).PadRight(10));
            for (int j = 0; j < Classes; j++)
            {
                text.Append(_confusion[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(width));
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>Evaluates <paramref name="network"/> on every example of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data set's images or classes do not fit the network.</exception>
    public static Evaluation Of(INetwork network, ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        Fit.Check(network, data, nameof(data));
        int classes = network.OutputLength;
        var confusion = new int[classes, classes];
        var output = new float[classes];
        double loss = 0;
        bool probabilities = network is ITrainableNetwork;
        for (int n = 0; n < data.Count; n++)
        {
            network.Predict(data.Image(n), output);
            int predicted = 0;
            for (int k = 1; k < classes; k++)
            {
                if (output[k] > output[predicted])
                {
                    predicted = k;
                }
            }

            int label = data.Label(n);
            confusion[label, predicted]++;
            if (probabilities)
            {
                loss -= Math.Log(Math.Max(output[label], 1e-30));
            }
        }

        return new Evaluation(classes, confusion, probabilities && data.Count > 0 ? loss / data.Count : double.NaN);
    }
}

/// <summary>Checks that a data set fits a network.</summary>
internal static class Fit
{
    public static void Check(INetwork network, ImageDataset data, string parameterName)
    {
        if (data.ImageLength != network.InputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The images have {data.ImageLength} values ({data.Size}×{data.Size}), but the network takes {network.InputLength}."), parameterName);
        }

        if (data.Classes > network.OutputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The data set has {data.Classes} classes, but the network has only {network.OutputLength} outputs."), parameterName);
        }
    }
}

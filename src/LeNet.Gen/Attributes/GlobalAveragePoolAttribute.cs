using System;

namespace LeNet.Gen;

/// <summary>
/// Global average pooling: the mean of each channel over its whole height and width, C×H×W → C×1×1 (PyTorch's
/// <c>AdaptiveAvgPool2d(1)</c>). No parameters. It needs a channels × height × width input, so it comes before the
/// first <see cref="DenseAttribute"/>; a <c>[Dense]</c> may follow it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAveragePoolAttribute : Attribute
{
}

namespace LeNet.Gen.Generator.Spec;

/// <summary>The metadata names of the public attributes in the LeNet.Gen library.</summary>
internal static class AttributeNames
{
    public const string Network = "LeNet.Gen.NetworkAttribute";
    public const string Conv = "LeNet.Gen.ConvAttribute";
    public const string Pool = "LeNet.Gen.PoolAttribute";
    public const string Dense = "LeNet.Gen.DenseAttribute";
}

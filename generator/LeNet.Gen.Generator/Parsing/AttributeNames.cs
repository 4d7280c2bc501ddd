namespace LeNet.Gen.Generator.Parsing;

/// <summary>The metadata names of the public attributes in the LeNet.Gen library.</summary>
internal static class AttributeNames
{
    public const string Network = "LeNet.Gen.NetworkAttribute";
}

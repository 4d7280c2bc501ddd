using System.Collections.Immutable;
using System.Linq;
using LeNet.Gen.Generator.Model;
using Xunit;

namespace LeNet.Gen.Generator.Tests.Emit;

/// <summary>The array the incremental pipeline compares by value: equal contents must mean equal models.</summary>
public class EquatableArrayTests
{
    [Fact]
    public void Arrays_with_the_same_elements_are_equal_and_hash_alike()
    {
        var a = new[] { "conv1", "pool1", "fc1" }.ToEquatableArray();
        var b = new[] { "conv1", "pool1" }.Append("fc1").ToEquatableArray();

        Assert.True(a.Equals(b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Order_length_and_contents_make_arrays_differ()
    {
        var a = new[] { 1, 2, 3 }.ToEquatableArray();

        Assert.NotEqual(a, new[] { 3, 2, 1 }.ToEquatableArray());
        Assert.NotEqual(a, new[] { 1, 2 }.ToEquatableArray());
        Assert.NotEqual(a, new[] { 1, 2, 4 }.ToEquatableArray());
        Assert.False(a.Equals("not an array"));
    }

    [Fact]
    public void The_default_value_is_an_empty_array_equal_to_any_other_empty_one()
    {
        EquatableArray<int> empty = default;

        Assert.Empty(empty);
        Assert.Equal(0, empty.AsSpan().Length);
        Assert.Equal(EquatableArray<int>.Empty, System.Array.Empty<int>().ToEquatableArray());
        Assert.Equal(empty.GetHashCode(), System.Array.Empty<int>().ToEquatableArray().GetHashCode());
    }

    [Fact]
    public void It_reads_like_the_list_it_was_built_from_and_does_not_see_later_changes_to_the_builder()
    {
        var builder = ImmutableArray.CreateBuilder<int>();
        builder.AddRange(4, 5, 6);
        var array = builder.ToEquatableArray();
        builder.Add(7);

        Assert.Equal(3, array.Count);
        Assert.Equal(5, array[1]);
        Assert.Equal(new[] { 4, 5, 6 }, array.ToArray());
    }
}

using System;
using System.IO;
using System.Linq;
using LeNet.Gen.Onnx;
using LeNet.Gen.Tests.Generated;
using Xunit;

namespace LeNet.Gen.Tests.Onnx;

/// <summary>What LoadOnnx says about a model of another network, and how SaveOnnx replaces files.</summary>
public sealed class OnnxLoadTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lenet-onnx-load-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_stride_mismatch_names_the_node_the_attribute_and_both_values()
    {
        var error = Reject(new StrideTwo(1), new StrideOne(2));
        Assert.Equal("node conv1 (conv1): strides [2,2], expected [1,1]", error.Message);
    }

    [Fact]
    public void Another_pooling_kind_is_named()
    {
        var error = Reject(new MaxPooled(1), new AveragePooled(2));
        Assert.Equal("node pool1 (pool1): op_type MaxPool, expected AveragePool", error.Message);
    }

    [Fact]
    public void Ceiling_rounding_does_not_load_into_floor_rounding()
    {
        var error = Reject(new CeilingMaxFirst(1), new FloorMaxFirst(2));
        Assert.Equal(
            "node pool1 (pool1): pads [0,0,1,1] with ceil_mode 0 give height 5, expected 4 (ShapeRounding.Floor: pads [0,0,0,0] with ceil_mode 0)",
            error.Message);
    }

    [Fact]
    public void Another_activation_is_named()
    {
        var error = Reject(new LeNet5MaxTanh(1), new LeNet5MaxTanh(2), file => Replace(file, "Tanh", "Relu"));
        Assert.Equal("node conv1_tanh (conv1): op_type Relu, expected Tanh", error.Message);
    }

    [Fact]
    public void A_network_of_other_shapes_is_rejected_at_its_first_difference()
    {
        var error = Reject(new PaddedStrided(1), new LeNet5(2));
        Assert.StartsWith("input input: shape [-1,1,16,16], expected [-1,1,32,32]", error.Message);
    }

    [Fact]
    public void Loading_from_a_path_names_the_file()
    {
        string path = Path.Combine(_folder, "other.onnx");
        new StrideTwo(1).SaveOnnx(path);
        var target = new StrideOne(2);
        var error = Assert.Throws<InvalidDataException>(() => target.LoadOnnx(path));
        Assert.Equal($"{path}: node conv1 (conv1): strides [2,2], expected [1,1]", error.Message);
    }

    [Fact]
    public void Saving_replaces_the_file_only_when_the_whole_model_is_written()
    {
        string path = Path.Combine(_folder, "lenet5.onnx");
        var first = new LeNet5(1);
        first.SaveOnnx(path);
        byte[] before = File.ReadAllBytes(path);

        var second = new LeNet5(2);
        Assert.Throws<IOException>(() => OnnxModel.Save(path, second.Parameters, LeNet5.Tensors, LeNet5.Layers, LeNet5.Summary, stream => new FailingStream(stream, failAfter: 100_000)));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_folder));

        second.SaveOnnx(path);
        var loaded = new LeNet5(3);
        loaded.LoadOnnx(path);
        Assert.True(loaded.Parameters.SequenceEqual(second.Parameters));
    }

    private static InvalidDataException Reject(INetwork source, INetwork target, Func<byte[], byte[]>? edit = null)
    {
        byte[] file = OnnxMembers.SaveToBytes(source);
        if (edit is not null)
        {
            file = edit(file);
        }

        float[] before = target.Parameters.ToArray();
        var error = Assert.Throws<InvalidDataException>(() => OnnxMembers.Load(target, new MemoryStream(file)));
        Assert.True(target.Parameters.SequenceEqual(before), "the parameters changed");
        return error;
    }

    /// <summary>Replaces every occurrence of an ASCII string by another of the same length.</summary>
    private static byte[] Replace(byte[] file, string from, string to)
    {
        byte[] result = (byte[])file.Clone();
        byte[] pattern = System.Text.Encoding.ASCII.GetBytes(from);
        byte[] replacement = System.Text.Encoding.ASCII.GetBytes(to);
        int count = 0;
        for (int i = 0; i + pattern.Length <= result.Length; i++)
        {
            if (result.AsSpan(i, pattern.Length).SequenceEqual(pattern))
            {
                replacement.CopyTo(result, i);
                count++;
            }
        }

        Assert.True(count > 0);
        return result;
    }

    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter)
            {
                throw new IOException("disk full (simulated)");
            }

            _written += buffer.Length;
            inner.Write(buffer);
        }
    }
}

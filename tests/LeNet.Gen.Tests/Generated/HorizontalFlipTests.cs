using System;
using System.Linq;
using LeNet.Gen.Data;
using LeNet.Gen.Training;
using Xunit;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// <see cref="TrainingOptions.HorizontalFlip"/>: the mirror itself, and that the trainer's coin flips come from a stream
/// of their own (turning them on changes nothing for images that look the same mirrored, and changes the run otherwise).
/// </summary>
public class HorizontalFlipTests
{
    [Fact]
    public void MirrorRows_reverses_every_row_and_twice_is_the_identity()
    {
        float[] image = Enumerable.Range(1, 9).Select(v => (float)v).ToArray();

        ImageDataset.MirrorRows(image, 3);
        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7 }, image);

        ImageDataset.MirrorRows(image, 3);
        Assert.Equal(Enumerable.Range(1, 9).Select(v => (float)v), image);
    }

    [Fact]
    public void MirrorRows_rejects_an_image_that_is_not_size_squared()
    {
        float[] image = new float[10];

        var error = Assert.Throws<ArgumentException>(() => ImageDataset.MirrorRows(image, 3));

        Assert.Equal("image", error.ParamName);
        Assert.Contains("holds 10 floats, expected 9 (3×3)", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageDataset.MirrorRows(image, 0));
    }

    [Fact]
    public void Flips_leave_mirror_symmetric_images_and_the_rest_of_the_run_as_they_were()
    {
        // Without shifts: a shifted symmetric image mirrored is the image shifted the other way.
        var symmetric = Images(mirrorSymmetric: true);

        float[] without = Train(symmetric, flip: false, maxShift: 0);
        float[] with = Train(symmetric, flip: true, maxShift: 0);

        Assert.Equal(without, with); // the same shuffling, bit for bit
    }

    [Fact]
    public void Flips_change_a_run_on_images_that_are_not_symmetric_and_repeat_with_the_seed()
    {
        var asymmetric = Images(mirrorSymmetric: false);

        float[] without = Train(asymmetric, flip: false, maxShift: 1);
        float[] with = Train(asymmetric, flip: true, maxShift: 1);
        float[] again = Train(asymmetric, flip: true, maxShift: 1);

        Assert.NotEqual(without, with);
        Assert.Equal(with, again);
    }

    // 40 random 8×8 images in 5 classes; with mirrorSymmetric each row reads the same both ways.
    private static ImageDataset Images(bool mirrorSymmetric)
    {
        var random = new Random(7);
        byte[] pixels = new byte[40 * 64];
        random.NextBytes(pixels);
        if (mirrorSymmetric)
        {
            for (int row = 0; row < 40 * 8; row++)
            {
                for (int x = 0; x < 4; x++)
                {
                    pixels[(row * 8) + 7 - x] = pixels[(row * 8) + x];
                }
            }
        }

        byte[] labels = Enumerable.Range(0, 40).Select(i => (byte)(i % 5)).ToArray();
        return ImageDataset.FromIdx(new IdxImages(40, 8, 8, pixels), labels, size: 8, classes: 5);
    }

    private static float[] Train(ImageDataset data, bool flip, int maxShift)
    {
        var network = new DenseOnly(seed: 3);
        Trainer.Fit(network, data, options: new TrainingOptions { Epochs = 2, BatchSize = 8, MaxShift = maxShift, Seed = 5, HorizontalFlip = flip });
        return network.Parameters.ToArray();
    }
}

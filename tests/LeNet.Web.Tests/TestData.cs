using System;
using System.IO;
using System.Net.Http;
using System.Threading.Tasks;
using LeNet.Gen.Data;

namespace LeNet.Web.Tests;

/// <summary>Helpers shared by the API tests.</summary>
internal static class TestData
{
    private static readonly Digits Shared = new();

    /// <summary>The bundled test digits, 32×32 (as the network takes them).</summary>
    public static ImageDataset Digits => Shared.Test;

    /// <summary>A test digit's 28×28 pixels (the 2-pixel border taken off).</summary>
    public static float[] Pixels28(int index) => Shared.TestPixels28(index);

    /// <summary>Downloads the server's current weights and loads them into a network of our own.</summary>
    public static async Task<LeNet5> DownloadNetwork(HttpClient client)
    {
        byte[] bytes = await client.GetByteArrayAsync("/api/weights.safetensors");
        var network = new LeNet5(seed: 12345);
        network.Load(new MemoryStream(bytes));
        return network;
    }

    /// <summary>The JSON body of a predict request.</summary>
    public static StringContent Body(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>A body with the given pixel values.</summary>
    public static StringContent Body(float[] pixels) => Body("{\"pixels\":[" + string.Join(",", Array.ConvertAll(pixels, p => p.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]}");
}

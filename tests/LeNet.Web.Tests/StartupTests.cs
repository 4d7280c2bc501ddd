using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;

namespace LeNet.Web.Tests;

/// <summary>What the server does on start: load the weights it saved, or train a first network and save it.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lenet-web-tests-" + Guid.NewGuid().ToString("N"));

    public StartupTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Saved_weights_are_loaded_on_start_and_answer_at_once()
    {
        string path = Path.Combine(_folder, "saved.safetensors");
        var saved = new LeNet5(seed: 7);
        saved.Save(path);
        await using var factory = new WebFactory(trainOnStart: false, weightsPath: path);
        HttpClient client = factory.CreateClient();
        JsonElement status = await WebFactory.WaitUntilIdleAndReady(client);
        Assert.StartsWith($"loaded {path}, test accuracy ", status.GetProperty("network").GetString(), StringComparison.Ordinal);
        Assert.Equal($"loaded the weights saved in {path}", status.GetProperty("startup").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("training").ValueKind);

        JsonElement answer = await (await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(5)))).Content.ReadFromJsonAsync<JsonElement>();
        var expected = new float[10];
        saved.Predict(TestData.Digits.Image(5), expected);
        Assert.Equal(expected, answer.GetProperty("probabilities").Deserialize<float[]>());
    }

    [Fact]
    public async Task Without_saved_weights_the_first_network_is_trained_and_saved()
    {
        string path = Path.Combine(_folder, "sub", "first.safetensors");
        await using var factory = new WebFactory(weightsPath: path);
        HttpClient client = factory.CreateClient();
        JsonElement status = await WebFactory.WaitUntilIdleAndReady(client);
        Assert.Equal("training a first network (2 epochs)", status.GetProperty("startup").GetString());
        Assert.Equal("completed", status.GetProperty("training").GetProperty("state").GetString());
        Assert.Equal("startup", status.GetProperty("training").GetProperty("kind").GetString());

        LeNet5 served = await TestData.DownloadNetwork(client);
        var fromFile = new LeNet5(seed: 0);
        fromFile.Load(path);
        Assert.Equal(served.Parameters.ToArray(), fromFile.Parameters.ToArray());
    }

    [Fact]
    public async Task A_damaged_weights_file_is_not_used_and_the_server_says_what_it_does()
    {
        string path = Path.Combine(_folder, "damaged.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        await using var factory = new WebFactory(trainOnStart: false, weightsPath: path);
        HttpClient client = factory.CreateClient();
        DateTime end = DateTime.UtcNow.AddSeconds(60);
        JsonElement status;
        do
        {
            await Task.Delay(50);
            status = await client.GetFromJsonAsync<JsonElement>("/api/status");
        }
        while (status.GetProperty("startup").GetString() == "starting" && DateTime.UtcNow < end);

        string startup = status.GetProperty("startup").GetString()!;
        Assert.StartsWith($"could not load {path} ({path}: ", startup, StringComparison.Ordinal);
        Assert.EndsWith("), and training on start is off: press Train", startup, StringComparison.Ordinal);
        Assert.False(status.GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(0)))).StatusCode);
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace LeNet.Web.Tests;

/// <summary>Readiness, live training, its events and cancellation, and predictions while it runs.</summary>
public sealed class TrainingTests
{
    [Fact]
    public async Task Before_a_network_is_ready_predict_answers_503_with_Retry_After_then_200_once_trained()
    {
        await using var factory = new WebFactory(trainOnStart: false);
        HttpClient client = factory.CreateClient();
        foreach (string path in new[] { "/api/predict", "/api/activations" })
        {
            HttpResponseMessage response = await client.PostAsync(path, TestData.Body(TestData.Pixels28(0)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(WebApp.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/api/weights.safetensors")).StatusCode);
        JsonElement status = await client.GetFromJsonAsync<JsonElement>("/api/status");
        Assert.False(status.GetProperty("ready").GetBoolean());

        HttpResponseMessage started = await client.PostAsync("/api/train", JsonContent.Create(new { epochs = 1 }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        await WebFactory.WaitUntilIdleAndReady(client);
        HttpResponseMessage ready = await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(0)));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Predictions_keep_answering_during_training_and_end_on_the_final_weights()
    {
        await using var factory = new WebFactory();
        HttpClient client = factory.CreateClient();
        await WebFactory.WaitUntilIdleAndReady(client);

        HttpResponseMessage started = await client.PostAsync("/api/train", JsonContent.Create(new { epochs = 2, fresh = true }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        int runId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        // Eight clients predict while the run trains and publishes new weights several times a second.
        var versions = new HashSet<int>();
        int answered = 0;
        async Task Client(int seed)
        {
            HttpClient own = factory.CreateClient();
            for (int i = 0; ; i++)
            {
                JsonElement status = await own.GetFromJsonAsync<JsonElement>("/api/status");
                if (status.GetProperty("training").GetProperty("state").GetString() != "running" && i > 0)
                {
                    return;
                }

                HttpResponseMessage response = await own.PostAsync("/api/activations", TestData.Body(TestData.Pixels28((seed * 100) + (i % 100))));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                JsonElement answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                float[] probabilities = answer.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
                Assert.All(probabilities, p => Assert.True(float.IsFinite(p) && p >= 0 && p <= 1));
                Assert.Equal(1.0, probabilities.Sum(p => (double)p), 4);
                Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), answer.GetProperty("class").GetInt32());
                lock (versions)
                {
                    versions.Add(answer.GetProperty("version").GetInt32());
                    answered++;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(seed => Task.Run(() => Client(seed))));
        JsonElement done = await WebFactory.WaitUntilIdleAndReady(client);
        Assert.Equal(runId, done.GetProperty("training").GetProperty("id").GetInt32());
        Assert.Equal("completed", done.GetProperty("training").GetProperty("state").GetString());
        Assert.True(versions.Count >= 2, $"{answered} predictions saw only the network versions {string.Join(", ", versions)}");

        // After the run, every prediction is the final network's, exactly.
        LeNet5 final = await TestData.DownloadNetwork(client);
        for (int i = 0; i < 20; i++)
        {
            JsonElement answer = await (await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(i)))).Content.ReadFromJsonAsync<JsonElement>();
            var expected = new float[10];
            final.Predict(TestData.Digits.Image(i), expected);
            Assert.Equal(expected, answer.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray());
        }
    }

    [Fact]
    public async Task A_run_streams_its_batches_as_server_sent_events_and_can_be_cancelled()
    {
        await using var factory = new WebFactory();
        HttpClient client = factory.CreateClient();
        await WebFactory.WaitUntilIdleAndReady(client);

        HttpResponseMessage started = await client.PostAsync("/api/train", JsonContent.Create(new { epochs = 50 }));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        int runId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        HttpResponseMessage second = await client.PostAsync("/api/train", JsonContent.Create(new { epochs = 1 }));
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains($"Training run {runId} is still running", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Read events until this run has reported at least 30 batches, each batch exactly once, in order.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using HttpResponseMessage events = await client.GetAsync("/api/train/events", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(cancel.Token));
        var steps = new List<int>();
        int eventsRead = 0;
        while (steps.Count < 30)
        {
            string? line = await reader.ReadLineAsync(cancel.Token);
            Assert.NotNull(line);
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                Assert.Equal("event: status", line);
            }

            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            eventsRead++;
            JsonElement status = JsonDocument.Parse(line["data:".Length..]).RootElement;
            JsonElement run = status.GetProperty("training");
            Assert.Equal(runId, run.GetProperty("id").GetInt32());
            Assert.Equal(steps.Count, run.GetProperty("pointsFrom").GetInt32());
            foreach (JsonElement point in run.GetProperty("points").EnumerateArray())
            {
                steps.Add(point.GetProperty("step").GetInt32());
                Assert.InRange(point.GetProperty("accuracy").GetDouble(), 0, 1);
                Assert.True(point.GetProperty("loss").GetDouble() > 0);
            }
        }

        Assert.Equal(Enumerable.Range(1, steps.Count), steps);
        Assert.True(eventsRead >= 1);

        HttpResponseMessage cancelled = await client.PostAsync("/api/train/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        JsonElement after = await WebFactory.WaitUntilIdleAndReady(client);
        Assert.Equal("cancelled", after.GetProperty("training").GetProperty("state").GetString());
        Assert.True(after.GetProperty("training").GetProperty("epoch").GetInt32() < 50);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/api/train/cancel", null)).StatusCode);
        await PredictTests.AssertStillServing(client);
    }

    [Fact]
    public async Task The_event_stream_sends_the_state_then_only_changes()
    {
        await using var factory = new WebFactory(trainOnStart: false);
        HttpClient client = factory.CreateClient();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using HttpResponseMessage events = await client.GetAsync("/api/train/events", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(cancel.Token));

        JsonElement first = await NextEvent(reader, cancel.Token);
        Assert.False(first.GetProperty("ready").GetBoolean());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("training").ValueKind);

        // Nothing changes until training starts, so the next event is about the run.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/train", JsonContent.Create(new { epochs = 1 }))).StatusCode);
        JsonElement second = await NextEvent(reader, cancel.Token);
        Assert.Equal(JsonValueKind.Object, second.GetProperty("training").ValueKind);
        Assert.Equal("live", second.GetProperty("training").GetProperty("kind").GetString());
        await client.PostAsync("/api/train/cancel", null);
    }

    private static async Task<JsonElement> NextEvent(StreamReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            string? line = await reader.ReadLineAsync(cancellationToken);
            Assert.NotNull(line);
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line["data:".Length..]).RootElement.Clone();
            }
        }
    }

    [Theory]
    [InlineData("{\"epochs\":0}", "\"epochs\" is 0, but it must be from 1 to 100.")]
    [InlineData("{\"epochs\":101}", "\"epochs\" is 101, but it must be from 1 to 100.")]
    [InlineData("{\"epochs\":", "The body is not valid JSON")]
    public async Task A_bad_training_request_gets_400(string body, string expected)
    {
        await using var factory = new WebFactory(trainOnStart: false);
        HttpClient client = factory.CreateClient();
        HttpResponseMessage response = await client.PostAsync("/api/train", TestData.Body(body));
        await PredictTests.AssertProblem(response, expected);
    }

    [Fact]
    public void Published_weights_are_a_copy_that_later_training_does_not_touch()
    {
        var holder = new NetworkHolder();
        var training = new LeNet5(seed: 3);
        NetworkSnapshot first = holder.Publish(training.Parameters, "first");
        float[] published = first.Network.Parameters.ToArray();
        Assert.Equal(training.Parameters.ToArray(), published);

        training.Train(TestData.Digits.Image(0), TestData.Digits.Label(0), 0.1f);
        Assert.NotEqual(training.Parameters.ToArray(), first.Network.Parameters.ToArray());
        Assert.Equal(published, first.Network.Parameters.ToArray());
        Assert.Same(first, holder.Current);

        NetworkSnapshot second = holder.Publish(training.Parameters, "second");
        Assert.Same(second, holder.Current);
        Assert.Equal(first.Version + 1, second.Version);
        Assert.Equal(training.Parameters.ToArray(), second.Network.Parameters.ToArray());
    }
}

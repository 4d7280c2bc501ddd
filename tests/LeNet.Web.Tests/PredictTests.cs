using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;

namespace LeNet.Web.Tests;

/// <summary>POST /api/predict and /api/activations on a server whose first network is trained.</summary>
public sealed class PredictTests : IClassFixture<ReadyServer>
{
    private readonly ReadyServer _server;

    public PredictTests(ReadyServer server) => _server = server;

    [Fact]
    public async Task Real_test_digits_are_classified_as_the_network_classifies_them_directly()
    {
        HttpClient client = _server.Factory.CreateClient();
        LeNet5 network = await TestData.DownloadNetwork(client);
        int correct = 0;
        const int count = 100;
        for (int i = 0; i < count; i++)
        {
            HttpResponseMessage response = await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(i)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonElement answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            float[] probabilities = answer.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();

            // The same digit, 32×32 as the data set holds it, through the downloaded weights in this process.
            var expected = new float[10];
            network.Predict(TestData.Digits.Image(i), expected);
            Assert.Equal(network.Predict(TestData.Digits.Image(i)), answer.GetProperty("class").GetInt32());
            Assert.Equal(expected, probabilities);
            correct += answer.GetProperty("class").GetInt32() == TestData.Digits.Label(i) ? 1 : 0;
        }

        // Two epochs of training get well over 90% of these digits right; an untrained network gets about 10%.
        Assert.True(correct >= 90, $"{correct} of {count} test digits classified correctly");
    }

    [Fact]
    public async Task A_32_by_32_input_gives_the_same_answer_as_its_28_by_28_centre()
    {
        HttpClient client = _server.Factory.CreateClient();
        float[] padded = TestData.Digits.Image(7).ToArray();
        JsonElement from32 = await (await client.PostAsync("/api/predict", TestData.Body(padded))).Content.ReadFromJsonAsync<JsonElement>();
        JsonElement from28 = await (await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(7)))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(from28.GetRawText(), from32.GetRawText());
        Assert.Equal(10, from32.GetProperty("probabilities").GetArrayLength());
    }

    [Fact]
    public async Task Activations_are_the_layers_outputs_and_agree_with_a_direct_convolution()
    {
        HttpClient client = _server.Factory.CreateClient();
        LeNet5 network = await TestData.DownloadNetwork(client);
        HttpResponseMessage response = await client.PostAsync("/api/activations", TestData.Body(TestData.Pixels28(3)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement answer = await response.Content.ReadFromJsonAsync<JsonElement>();

        string[] names = answer.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3"], names);
        foreach (JsonElement layer in answer.GetProperty("layers").EnumerateArray())
        {
            int length = layer.GetProperty("shape").EnumerateArray().Aggregate(1, (product, d) => product * d.GetInt32());
            Assert.Equal(length, layer.GetProperty("values").GetArrayLength());
        }

        // conv1 computed here in double precision from the downloaded weights: relu(bias + Σ weight · input).
        float[] input = TestData.Digits.Image(3).ToArray();
        float[] conv1 = answer.GetProperty("layers")[0].GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        ReadOnlySpan<float> parameters = network.Parameters;
        for (int f = 0; f < 6; f++)
        {
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 28; x++)
                {
                    double sum = parameters[150 + f];
                    for (int i = 0; i < 5; i++)
                    {
                        for (int j = 0; j < 5; j++)
                        {
                            sum += parameters[(f * 25) + (i * 5) + j] * (double)input[((y + i) * 32) + x + j];
                        }
                    }

                    Assert.Equal(Math.Max(sum, 0), conv1[(f * 784) + (y * 28) + x], tolerance: 1e-4);
                }
            }
        }

        // The filters are conv1's weights; the last layer is the probabilities, equal to Predict's.
        float[] filters = answer.GetProperty("filters").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(parameters[..150].ToArray(), filters);
        var expected = new float[10];
        network.Predict(input, expected);
        Assert.Equal(expected, answer.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(network.Predict(input), answer.GetProperty("class").GetInt32());
    }

    public static TheoryData<string, string> BadBodies()
    {
        string zeros(int n) => string.Join(",", Enumerable.Repeat("0", n));
        return new TheoryData<string, string>
        {
            { "{\"pixels\":[" + zeros(783) + "]}", "\"pixels\" has 783 values, but it needs 784 (28×28) or 1024 (32×32)." },
            { "{\"pixels\":[" + zeros(1025) + "]}", "\"pixels\" has 1025 values" },
            { "{\"pixels\":[]}", "\"pixels\" has 0 values" },
            { "{\"pixels\":[" + zeros(5) + ",1.5," + zeros(778) + "]}", "pixels[5] is 1.5, outside [0, 1]." },
            { "{\"pixels\":[" + zeros(783) + ",-0.25]}", "pixels[783] is -0.25, outside [0, 1]." },
            { "{\"pixels\":[" + zeros(10) + ",\"NaN\"," + zeros(773) + "]}", "pixels[10] is NaN" },
            { "{\"pixels\":[\"Infinity\"," + zeros(783) + "]}", "pixels[0] is Infinity" },
            { "{\"pixels\":[1e400," + zeros(783) + "]}", "pixels[0] is 1e400, which is not a finite number" },
            { "{\"pixels\":[null," + zeros(783) + "]}", "pixels[0] is null" },
            { "{\"pixels\":[" + zeros(783) + ",\"0.5\"]}", "pixels[783] is the string \"0.5\"" },
            { "{\"pixels\":[NaN," + zeros(783) + "]}", "The body is not valid JSON: 'N' is an invalid start of a value." },
            { "pixels=0,0,0", "The body is not valid JSON" },
            { "{\"pixels\":[0,0", "The body is not valid JSON" },
            { "{\"pixels\":[0]} trailing", "The body is not valid JSON: there is text after the JSON value" },
            { "", "The body is empty" },
            { "[0,0,0]", "The body must be a JSON object {\"pixels\": [...]}, but it is an array of 3 values." },
            { "{\"image\":[0]}", "The body has no \"pixels\" property" },
            { "{\"pixels\":\"0,0,0\"}", "\"pixels\" must be an array of numbers, but it is the string \"0,0,0\"." },
        };
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_gets_400_problem_details_naming_the_problem_and_the_server_keeps_serving(string body, string expectedDetail)
    {
        HttpClient client = _server.Factory.CreateClient();
        foreach (string path in new[] { "/api/predict", "/api/activations" })
        {
            HttpResponseMessage response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            await AssertProblem(response, expectedDetail);
        }

        await AssertStillServing(client);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_400_with_its_size()
    {
        HttpClient client = _server.Factory.CreateClient();
        string big = "{\"pixels\":[" + string.Join(",", Enumerable.Repeat("0.000000000000000000001", 3000)) + "]}";
        Assert.True(Encoding.UTF8.GetByteCount(big) > PixelInput.MaxBodyBytes);
        HttpResponseMessage response = await client.PostAsync("/api/predict", new StringContent(big, Encoding.UTF8, "application/json"));
        await AssertProblem(response, $"The body is {Encoding.UTF8.GetByteCount(big):N0} bytes, over the limit of 65,536 bytes.");
        await AssertStillServing(client);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_without_a_length_gets_400()
    {
        // Chunked: no Content-Length, so the limit is found while reading.
        HttpClient client = _server.Factory.CreateClient();
        byte[] big = Encoding.UTF8.GetBytes("{\"pixels\":[" + string.Join(",", Enumerable.Repeat("0.5", 40_000)) + "]}");
        var content = new StreamContent(new System.IO.MemoryStream(big));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/predict") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        HttpResponseMessage response = await client.SendAsync(request);
        await AssertProblem(response, "The body is over the limit of 65,536 bytes.");
        await AssertStillServing(client);
    }

    [Fact]
    public async Task Weights_download_as_safetensors_with_PyTorch_names()
    {
        HttpClient client = _server.Factory.CreateClient();
        HttpResponseMessage response = await client.GetAsync("/api/weights.safetensors");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        long headerLength = BitConverter.ToInt64(bytes, 0);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"conv1.weight\"", header, StringComparison.Ordinal);
        Assert.Contains("\"fc3.bias\"", header, StringComparison.Ordinal);
        Assert.Equal(8 + headerLength + (LeNet5.ParameterCount * 4), bytes.Length);
    }

    [Fact]
    public async Task Weights_download_as_ONNX_holding_the_same_weights_as_the_safetensors_download()
    {
        HttpClient client = _server.Factory.CreateClient();
        HttpResponseMessage response = await client.GetAsync("/api/weights.onnx");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var fromOnnx = new LeNet5(seed: 1);
        fromOnnx.LoadOnnx(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        var fromSafeTensors = new LeNet5(seed: 2);
        fromSafeTensors.Load(new MemoryStream(await client.GetByteArrayAsync("/api/weights.safetensors")));

        // No training runs in this fixture, so both downloads hold the same weights.
        Assert.Equal(fromSafeTensors.Parameters.ToArray(), fromOnnx.Parameters.ToArray());
    }

    internal static async Task AssertProblem(HttpResponseMessage response, string expectedDetail)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(expectedDetail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(" at LeNet", text, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }

    internal static async Task AssertStillServing(HttpClient client)
    {
        HttpResponseMessage response = await client.PostAsync("/api/predict", TestData.Body(TestData.Pixels28(0)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

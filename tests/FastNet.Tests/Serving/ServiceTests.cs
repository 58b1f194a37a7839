using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FastNet.Inference;
using FastNet.Service;

namespace FastNet.Tests.Serving;

/// <summary>The service over HTTP: answers, problem bodies for every bad request, model information, reloads under load.</summary>
public sealed class ServiceTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fastnet-service-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string SaveModel(int seed, string name = "model.fnet")
    {
        Network net = new NetworkBuilder(784).Dense(32, Activation.Relu).Dense(10).Build(seed);
        net.Metadata = new ModelMetadata { ClassLabels = [.. Enumerable.Range(0, 10).Select(d => $"digit {d}")] };
        string path = Path.Combine(_dir.FullName, name);
        net.Save(path);
        return path;
    }

    private static float[] Pixels(int seed) => TestData.Uniform(new Random(seed), 784, 0, 1);

    private static async Task<JsonElement> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PredictAnswersTheModelsClassFromJsonOrFloat32(bool batching)
    {
        string path = SaveModel(1);
        await using ServiceHarness service = await ServiceHarness.StartAsync(path, "--batching", batching.ToString());
        using Predictor reference = Network.Load(path).CreatePredictor();
        for (int seed = 0; seed < 5; seed++)
        {
            float[] x = Pixels(seed);
            var probabilities = new float[10];
            reference.PredictProbabilities(x, probabilities);

            HttpResponseMessage json = await service.Client.PostAsJsonAsync("/predict", x);
            byte[] raw = new byte[784 * 4];
            Buffer.BlockCopy(x, 0, raw, 0, raw.Length);
            var octet = new ByteArrayContent(raw);
            octet.Headers.ContentType = new("application/octet-stream");
            HttpResponseMessage binary = await service.Client.PostAsync("/predict", octet);

            foreach (HttpResponseMessage response in new[] { json, binary })
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                JsonElement body = await Json(response);
                int predicted = reference.PredictClass(x);
                Assert.Equal(predicted, body.GetProperty("class").GetInt32());
                Assert.Equal($"digit {predicted}", body.GetProperty("label").GetString());
                Assert.Equal(1, body.GetProperty("modelVersion").GetInt64());
                float[] answered = body.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
                for (int c = 0; c < 10; c++) Assert.Equal(probabilities[c], answered[c], 1e-5f);
            }
        }
    }

    [Fact]
    public async Task BadRequestsGetProblemBodiesThatSayWhatIsWrong()
    {
        await using ServiceHarness service = await ServiceHarness.StartAsync(SaveModel(2));
        async Task Expect(HttpContent content, HttpStatusCode status, string detail)
        {
            HttpResponseMessage response = await service.Client.PostAsync("/predict", content);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            string text = await response.Content.ReadAsStringAsync();
            Assert.Contains(detail, text);
            Assert.DoesNotContain("   at ", text);   // no stack trace
        }

        await Expect(JsonContent.Create(new float[783]), HttpStatusCode.BadRequest, "784 numbers; it has 783");
        await Expect(new StringContent("[1, 2, oops]", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "Malformed JSON");
        await Expect(new StringContent("{\"pixels\": []}", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "Malformed JSON");
        float[] nan = new float[784];
        nan[300] = float.NaN;
        byte[] raw = new byte[784 * 4];
        Buffer.BlockCopy(nan, 0, raw, 0, raw.Length);
        var octet = new ByteArrayContent(raw);
        octet.Headers.ContentType = new("application/octet-stream");
        await Expect(octet, HttpStatusCode.BadRequest, "Feature 300 is NaN");
        var shortOctet = new ByteArrayContent(new byte[100]);
        shortOctet.Headers.ContentType = new("application/octet-stream");
        await Expect(shortOctet, HttpStatusCode.BadRequest, "3136 bytes");
        await Expect(new StringContent("1,2,3", Encoding.UTF8, "text/csv"), HttpStatusCode.UnsupportedMediaType, "not 'text/csv'");
        string huge = "[" + string.Join(",", Enumerable.Repeat("0.000000000001", 10_000)) + "]";
        await Expect(new StringContent(huge, Encoding.UTF8, "application/json"), HttpStatusCode.RequestEntityTooLarge, "Body too large");
    }

    /// <summary>A model whose outputs overflow on an input answers 422 with a problem body, not a class.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OutputsThatOverflowAreAProblemNotAClass(bool batching)
    {
        Network net = new NetworkBuilder(784).Dense(10).Build(seed: 1);
        net.Parameters.Fill(1e36f);   // 784 inputs of 1 sum past float's range
        string path = Path.Combine(_dir.FullName, "overflow.fnet");
        net.Save(path);
        await using ServiceHarness service = await ServiceHarness.StartAsync(path, "--batching", batching.ToString(), "--warmup", "false");
        HttpResponseMessage response = await service.Client.PostAsJsonAsync("/predict", Enumerable.Repeat(1f, 784).ToArray());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("not finite", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ModelAndHealthSayWhatIsServing()
    {
        string path = SaveModel(3);
        await using ServiceHarness service = await ServiceHarness.StartAsync(path);
        JsonElement model = await Json(await service.Client.GetAsync("/model"));
        Assert.Equal(1, model.GetProperty("version").GetInt64());
        Assert.Equal("model.fnet", model.GetProperty("file").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), model.GetProperty("sha256").GetString());
        Assert.Equal(784, model.GetProperty("inputSize").GetInt32());
        Assert.Equal("digit 9", model.GetProperty("classLabels")[9].GetString());
        JsonElement health = await Json(await service.Client.GetAsync("/healthz"));
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await service.Client.GetAsync("/nothing-here")).StatusCode);
    }

    [Fact]
    public void AMissingModelStopsTheStartWithWhatToDo()
    {
        var e = Assert.Throws<ServiceStartException>(() => ServiceApp.Build(["--model", Path.Combine(_dir.FullName, "none.fnet")]));
        Assert.Contains("Train one with the demo first", e.Message);
    }

    /// <summary>Clients keep sending while the model file is replaced twice (and once with garbage): every request succeeds.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReloadUnderLoadLosesNoRequest(bool batching)
    {
        string path = SaveModel(4);
        await using ServiceHarness service = await ServiceHarness.StartAsync(path, "--batching", batching.ToString());
        using var stop = new CancellationTokenSource();
        var versions = new System.Collections.Concurrent.ConcurrentBag<long>();
        int failures = 0, requests = 0;
        Task[] clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            float[] x = Pixels(c);
            while (!stop.IsCancellationRequested)
            {
                HttpResponseMessage response = await service.Client.PostAsJsonAsync("/predict", x);
                Interlocked.Increment(ref requests);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
                else versions.Add((await Json(response)).GetProperty("modelVersion").GetInt64());
            }
        })).ToArray();

        await Task.Delay(300);
        SaveModel(5, "next.fnet");
        File.Move(Path.Combine(_dir.FullName, "next.fnet"), path, overwrite: true);   // an atomic replace
        await WaitForVersion(service, 2);
        await File.WriteAllBytesAsync(path, "garbage"u8.ToArray());                    // rejected: version 2 keeps serving
        await Task.Delay(600);
        SaveModel(6, "third.fnet");
        File.Move(Path.Combine(_dir.FullName, "third.fnet"), path, overwrite: true);
        await WaitForVersion(service, 3);
        await Task.Delay(200);
        stop.Cancel();
        await Task.WhenAll(clients);

        Assert.Equal(0, failures);
        Assert.True(requests > 50, $"only {requests} requests");
        Assert.Contains(1L, versions);
        Assert.Contains(3L, versions);
    }

    private static async Task WaitForVersion(ServiceHarness service, long version)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            JsonElement health = await Json(await service.Client.GetAsync("/healthz"));
            if (health.GetProperty("modelVersion").GetInt64() >= version) return;
            await Task.Delay(20);
        }

        Assert.Fail($"the service did not reach model version {version}");
    }
}

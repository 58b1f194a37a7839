using FastNet.Inference;
using FastNet.Serving;

namespace FastNet.Tests.Serving;

/// <summary>Concurrent requests batched together get their own answers; a bad input fails alone.</summary>
public sealed class MicroBatcherTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fastnet-batcher-");
    private readonly Network _net = new NetworkBuilder(20).Dense(16, Activation.Tanh).Dense(4).Build(seed: 5);
    private readonly ModelHost _host;

    public MicroBatcherTests()
    {
        string path = Path.Combine(_dir.FullName, "model.fnet");
        _net.Save(path);
        _host = new ModelHost(new FastNetServingOptions { ModelPath = path, WatchForChanges = false, WarmupCalls = 10 });
    }

    public void Dispose()
    {
        _host.Dispose();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task ConcurrentRequestsAreBatchedAndEachGetsItsOwnAnswer()
    {
        using var batcher = new MicroBatcher(_host, new MicroBatchingOptions { MaxBatchSize = 16, MaxWait = TimeSpan.FromMilliseconds(2) });
        using Predictor reference = _net.CreatePredictor();
        const int callers = 24, each = 100;
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var rng = new Random(c);
            var y = new float[4];
            var expected = new float[4];
            for (int i = 0; i < each; i++)
            {
                float[] x = TestData.Uniform(rng, 20, -1, 1);
                long version = await batcher.PredictAsync(x, y);
                reference.Predict(x, expected);
                for (int j = 0; j < 4; j++)
                    if (version != 1 || Math.Abs(y[j] - expected[j]) > 1e-5f + 1e-5f * Math.Abs(expected[j]))
                        lock (failures) failures.Add($"caller {c}, request {i}: {y[j]} vs {expected[j]} (model {version})");
            }
        })));
        Assert.Empty(failures);
        Assert.Equal(callers * each, batcher.Requests);
        Assert.True(batcher.Batches < batcher.Requests, $"{batcher.Batches} batches for {batcher.Requests} requests: nothing was batched");
    }

    [Fact]
    public async Task ABadInputFailsItsOwnRequestOnly()
    {
        using var batcher = new MicroBatcher(_host, new MicroBatchingOptions());
        var good = new float[20];
        var bad = new float[20];
        bad[7] = float.NaN;
        var y = new float[4];
        Assert.Contains("feature 7", (await Assert.ThrowsAsync<ArgumentException>(async () => await batcher.PredictAsync(bad, y))).Message);
        await Assert.ThrowsAsync<ArgumentException>(async () => await batcher.PredictAsync(new float[19], y));
        Assert.Equal(1, await batcher.PredictAsync(good, y));
    }

    [Fact]
    public async Task ALoneRequestDoesNotWaitForABatch()
    {
        // MaxWait of a whole second: a lone request must not sit it out.
        using var batcher = new MicroBatcher(_host, new MicroBatchingOptions { MaxWait = TimeSpan.FromSeconds(1) });
        var y = new float[4];
        await batcher.PredictAsync(new float[20], y);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) await batcher.PredictAsync(new float[20], y);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"20 lone requests took {clock.Elapsed}");
    }
}

/// <summary>
/// Bytes allocated per micro-batched request, on every thread (the batching thread and the thread pool's
/// continuations too): measured apart from other tests, which would allocate at the same time.
/// </summary>
[Collection(nameof(FastNet.Tests.Kernels.PoolAllocationMeasurements))]
public sealed class MicroBatcherAllocationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fastnet-batcher-alloc-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task BatchedRequestsAllocateNothingOnceWarm()
    {
        string path = Path.Combine(_dir.FullName, "model.fnet");
        new NetworkBuilder(20).Dense(16, Activation.Tanh).Dense(4).Build(seed: 5).Save(path);
        using var host = new ModelHost(new FastNetServingOptions { ModelPath = path, WatchForChanges = false, WarmupCalls = 10 });
        using var batcher = new MicroBatcher(host, new MicroBatchingOptions());
        float[] x = new float[20], y = new float[4];
        for (int i = 0; i < 1000; i++) await batcher.PredictAsync(x, y);
        const int requests = 5000;
        double fewest = double.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < requests; i++) await batcher.PredictAsync(x, y);
            fewest = Math.Min(fewest, (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)requests);
        }

        Assert.True(fewest < 1, $"{fewest:F2} B per request");
    }
}

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
    public async Task ConcurrentRequestsEachGetTheirOwnAnswer()
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
    }

    /// <summary>Requests that queue while a batch runs go into the next batch together (the runner held here to make it certain).</summary>
    [Fact]
    public async Task RequestsQueuedDuringABatchRunAsOneBatch()
    {
        using var batcher = new MicroBatcher(_host, new MicroBatchingOptions { MaxBatchSize = 8 });
        using Predictor reference = _net.CreatePredictor();
        float[][] inputs = [.. Enumerable.Range(0, 12).Select(i => TestData.Uniform(new Random(100 + i), 20, -1, 1))];
        float[][] outputs = [.. inputs.Select(_ => new float[4])];
        Task<long>[] requests;
        using (batcher.HoldBatches())
        {
            requests = [.. inputs.Select((x, i) => Task.Run(async () => await batcher.PredictAsync(x, outputs[i])))];
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (batcher.Queued < 12 && DateTime.UtcNow < deadline) await Task.Delay(10);   // all twelve queued behind the held runner
            Assert.Equal(12, batcher.Queued);
            Assert.Equal(0, batcher.Requests);
        }

        await Task.WhenAll(requests);
        Assert.Equal((2L, 12L), (batcher.Batches, batcher.Requests));   // 8 + 4
        var expected = new float[4];
        for (int i = 0; i < inputs.Length; i++)
        {
            reference.Predict(inputs[i], expected);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], outputs[i][j], 1e-5f);
        }
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

    /// <summary>A lone request is run by its own caller, inline: the call returns answered, with no hand-over to another thread.</summary>
    [Fact]
    public async Task ALoneRequestRunsInlineAndDoesNotWait()
    {
        using var batcher = new MicroBatcher(_host, new MicroBatchingOptions { MaxWait = TimeSpan.FromSeconds(1) });
        var y = new float[4];
        for (int i = 0; i < 20; i++)
        {
            ValueTask<long> answer = batcher.PredictAsync(new float[20], y);
            Assert.True(answer.IsCompletedSuccessfully);
            Assert.Equal(1, await answer);
        }

        Assert.Equal((20L, 20L), (batcher.Batches, batcher.Requests));
    }
}

/// <summary>
/// Bytes allocated per micro-batched request, on every thread (runners and the thread pool's continuations): measured apart from other tests, which would allocate at the same time.
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

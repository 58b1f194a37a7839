using FastNet.Data;
using FastNet.Threading;
using FastNet.Training;

namespace FastNet.Tests.Training;

public class TrainerTests
{
    /// <summary>Random inputs with labels from a fixed random linear rule, so there is something to learn.</summary>
    internal static Dataset Synthetic(int count, int features, int classes, int seed)
    {
        var rng = new Random(seed);
        float[] x = TestData.Uniform(rng, count * features, 0f, 1f);
        float[] rule = TestData.Uniform(rng, features * classes);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int best = 0;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double score = 0;
                for (int f = 0; f < features; f++) score += x[i * features + f] * rule[f * classes + c];
                if (score > bestScore) (best, bestScore) = (c, score);
            }

            labels[i] = best;
        }

        return Dataset.WithLabels(x, features, labels, classes);
    }

    [Fact]
    public void StepAllocatesNothingOnOneThread()
    {
        Dataset data = Synthetic(64, 784, 10, 1);
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f, momentum: 0.9f), batchSize: 64, maxThreads: 1);
        float[] x = data.Features.ToArray();
        int[] y = data.Labels.ToArray();
        for (int i = 0; i < 3; i++) trainer.Step(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 10; i++) trainer.Step(x, y);
        }));
    }

    /// <summary>
    /// Fit feeds a dense first layer the batch rows where they lie in the dataset (no gathered copy before the first
    /// GEMM); other first layers get a gathered copy. Either way an epoch must equal plain Steps on batches gathered
    /// by hand in the documented order (a permutation drawn by Random(seed).Shuffle each epoch), bit for bit.
    /// </summary>
    [Theory]
    [InlineData("dense", 1)]
    [InlineData("dense", 2)]
    [InlineData("gru", 1)]
    [InlineData("targets", 2)]
    public void FitEqualsStepsOnBatchesGatheredByHand(string kind, int threads)
    {
        Dataset labelled = Synthetic(150, 48, 5, 4);   // 150 = 2 x 64 + 22: a partial last batch
        Dataset data = kind == "targets" ? labelled.ToOneHot() : labelled;
        Network Build() => kind == "gru"
            ? new NetworkBuilder(48).Gru(16, steps: 4).Dense(5).Build(seed: 4)
            : new NetworkBuilder(48).Dense(70, Activation.Relu).Dense(5).Build(seed: 4);
        Loss loss = kind == "targets" ? Loss.MeanSquaredError : Loss.SoftmaxCrossEntropy;

        Network fitted = Build();
        new Trainer(fitted, loss, new Sgd(0.05f, momentum: 0.5f), batchSize: 64, maxThreads: threads, seed: 9).Fit(data, epochs: 2);

        Network stepped = Build();
        var trainer = new Trainer(stepped, loss, new Sgd(0.05f, momentum: 0.5f), batchSize: 64, maxThreads: threads);
        var rng = new Random(9);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        for (int epoch = 0; epoch < 2; epoch++)
        {
            rng.Shuffle(order);
            for (int first = 0; first < order.Length; first += 64)
            {
                int[] batch = order[first..Math.Min(order.Length, first + 64)];
                float[] x = batch.SelectMany(i => data.Features.Slice(i * 48, 48).ToArray()).ToArray();
                if (kind == "targets") trainer.Step(x, batch.SelectMany(i => data.Targets.Slice(i * 5, 5).ToArray()).ToArray());
                else trainer.Step(x, batch.Select(i => data.Labels[i]).ToArray());
            }
        }

        Assert.True(fitted.Parameters.SequenceEqual(stepped.Parameters));
    }

    [Fact]
    public void SameSeedGivesBitwiseIdenticalWeightsOn1And2And8Threads()
    {
        // Wide enough that the GEMMs really split (64 x 784 x 256 is 26 MFLOP).
        Dataset data = Synthetic(640, 784, 10, 3);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 8 })
        {
            Network net = new NetworkBuilder(784).Dense(256, Activation.Relu).Dense(64, Activation.Tanh).Dense(10).Build(seed: 3);
            var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.05f, momentum: 0.9f), batchSize: 64, maxThreads: threads, seed: 3);
            trainer.Fit(data, epochs: 2);
            float[] weights = net.Parameters.ToArray();
            if (first is null) first = weights;
            else Assert.True(first.AsSpan().SequenceEqual(weights), $"{threads} threads differ from 1 thread");
        }
    }

    public static TheoryData<string> DivergingOptimizers() => new() { "plain SGD (fused update)", "SGD with momentum", "Adam" };

    [Theory]
    [MemberData(nameof(DivergingOptimizers))]
    public void DivergenceThrowsAndKeepsTheLastGoodWeights(string optimizer)
    {
        var rng = new Random(4);
        float[] x = TestData.Uniform(rng, 16 * 4, -10f, 10f), y = TestData.Uniform(rng, 16, -100f, 100f);
        Network net = new NetworkBuilder(4).Dense(8, Activation.Relu).Dense(1).Build(seed: 4);
        Optimizer opt = optimizer switch
        {
            "Adam" => new Adam(1e3f),
            "SGD with momentum" => new Sgd(1e3f, momentum: 0.9f),
            _ => new Sgd(1e3f),
        };
        if (optimizer == "Adam") x[5] = float.NaN;   // Adam's steps are bounded: divergence from a NaN input instead
        var trainer = new Trainer(net, Loss.MeanSquaredError, opt, batchSize: 16, maxThreads: 1);
        float[] lastGood = net.Parameters.ToArray();
        var e = Assert.Throws<TrainingDivergedException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                trainer.Step(x, y);
                lastGood = net.Parameters.ToArray();
            }
        });
        Assert.Contains("last good step", e.Message);
        Assert.Equal(lastGood, net.Parameters.ToArray());
        Assert.All(lastGood, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void FusedPlainSgdStepEqualsGradientDescentOnComputedGradients()
    {
        Dataset data = Synthetic(32, 30, 4, 7);
        float[] x = data.Features.ToArray();
        int[] y = data.Labels.ToArray();
        Network fused = new NetworkBuilder(30).Dense(16, Activation.Sigmoid).Dense(4).Build(seed: 7);
        Network manual = new NetworkBuilder(30).Dense(16, Activation.Sigmoid).Dense(4).Build(seed: 7);
        var fusedTrainer = new Trainer(fused, Loss.SoftmaxCrossEntropy, new Sgd(0.5f), batchSize: 32, maxThreads: 1);
        var manualTrainer = new Trainer(manual, Loss.SoftmaxCrossEntropy, new Sgd(0.5f), batchSize: 32, maxThreads: 1);
        for (int step = 0; step < 5; step++)
        {
            fusedTrainer.Step(x, y);
            manualTrainer.ComputeGradients(x, y);
            Span<float> p = manual.Parameters;
            ReadOnlySpan<float> g = manualTrainer.Gradients;
            for (int i = 0; i < p.Length; i++) p[i] -= 0.5f * g[i];
        }

        for (int i = 0; i < manual.ParameterCount; i++) Assert.Equal(manual.Parameters[i], fused.Parameters[i], 1e-5f);
        Assert.Equal(5, fusedTrainer.Optimizer.Steps);
    }

    [Fact]
    public void PartialBatchGivesTheSameGradientsAsADedicatedTrainer()
    {
        var rng = new Random(5);
        float[] x = TestData.Uniform(rng, 3 * 6), y = TestData.Uniform(rng, 3 * 2);
        Network net = new NetworkBuilder(6).Dense(5, Activation.Tanh).Dense(2).Build(seed: 5);
        var large = new Trainer(net, Loss.HalfSquaredError, new Sgd(0.1f), batchSize: 8, maxThreads: 1);
        var exact = new Trainer(net, Loss.HalfSquaredError, new Sgd(0.1f), batchSize: 3, maxThreads: 1);
        Assert.Equal(exact.ComputeGradients(x, y), large.ComputeGradients(x, y));
        Assert.Equal(exact.Gradients.ToArray(), large.Gradients.ToArray());
    }

    [Fact]
    public void FitReportsEachEpochLearnsAndHonoursCancellation()
    {
        Dataset train = Synthetic(500, 20, 3, 6);
        Network net = new NetworkBuilder(20).Dense(32, Activation.Relu).Dense(3).Build(seed: 6);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(0.01f), batchSize: 32, maxThreads: 1);
        var reports = new List<EpochReport>();
        TrainingHistory history = trainer.Fit(train, epochs: 15, validation: train, progress: new SynchronousProgress<EpochReport>(reports.Add));
        Assert.False(history.Cancelled);
        Assert.Equal(Enumerable.Range(1, 15), reports.Select(r => r.Epoch));
        Assert.True(history.Epochs[^1].TrainLoss < 0.5 * history.Epochs[0].TrainLoss);
        Assert.True(history.Epochs[^1].ValidationAccuracy > 0.8, $"accuracy {history.Epochs[^1].ValidationAccuracy}");
        Assert.InRange(history.Epochs[^1].TrainAccuracy, 0.75, 1.0);
        Assert.True(history.Epochs[^1].TrainAccuracy > history.Epochs[0].TrainAccuracy);
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0));

        using var cts = new CancellationTokenSource();
        var cancelled = trainer.Fit(train, epochs: 10, progress: new SynchronousProgress<EpochReport>(r => { if (r.Epoch == 2) cts.Cancel(); }),
            cancellationToken: cts.Token);
        Assert.True(cancelled.Cancelled);
        Assert.Equal(2, cancelled.Epochs.Count);
    }

    [Theory]
    [InlineData(false, 100)]   // 3 batches of 32 and one of 4
    [InlineData(true, 96)]     // the partial batch dropped
    public void FitReportsEveryBatch(bool dropLast, int samplesInEpoch)
    {
        Dataset train = Synthetic(100, 6, 3, 2);
        Network net = new NetworkBuilder(6).Dense(3).Build(seed: 2);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 32, maxThreads: 1) { DropLastPartialBatch = dropLast };
        var batches = new List<BatchProgress>();
        var epochs = new List<EpochReport>();
        trainer.Fit(train, epochs: 2, progress: new SynchronousProgress<EpochReport>(epochs.Add),
            batchProgress: new SynchronousProgress<BatchProgress>(batches.Add));
        int[] done = dropLast ? [32, 64, 96] : [32, 64, 96, 100];
        Assert.Equal(done.Concat(done), batches.Select(b => b.SamplesDone));
        Assert.Equal(Enumerable.Repeat(1, done.Length).Concat(Enumerable.Repeat(2, done.Length)), batches.Select(b => b.Epoch));
        Assert.All(batches, b => Assert.Equal(samplesInEpoch, b.SamplesInEpoch));
        Assert.All(batches, b => Assert.True(float.IsFinite(b.BatchLoss) && b.BatchLoss > 0));
        // The epoch's mean loss is the batch losses weighted by batch size.
        double weighted = batches.Take(done.Length).Select((b, i) => (double)b.BatchLoss * (b.SamplesDone - (i == 0 ? 0 : done[i - 1]))).Sum();
        Assert.Equal(weighted / samplesInEpoch, epochs[0].TrainLoss, 1e-6);
    }

    [Fact]
    public void BadInputThrowsClearly()
    {
        Network net = new NetworkBuilder(4).Dense(3).Build();
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 2, maxThreads: 1);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => trainer.Step(new float[7], new int[2])).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => trainer.Step(new float[12], new int[3])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => trainer.Step(new float[8], new int[1])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(new float[8], [0, 3]));
        var mse = new Trainer(net, Loss.MeanSquaredError, new Sgd(0.1f), batchSize: 2, maxThreads: 1);
        Assert.Throws<InvalidOperationException>(() => mse.Step(new float[8], new int[2]));
        Assert.Equal("train", Assert.Throws<ArgumentException>(() => trainer.Fit(Synthetic(10, 5, 3, 1), 1)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), 0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(-1f));
        Assert.Throws<InvalidOperationException>(() => new NetworkBuilder(3).Build());
    }

    /// <summary>Progress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>Counts the worker pool's allocations, so it runs apart from other tests (see PoolAllocationMeasurements).</summary>
[Collection(nameof(FastNet.Tests.Kernels.PoolAllocationMeasurements))]
public class ParallelTrainingAllocationTests
{
    [Fact]
    public void StepAllocatesNothingOnAnyThreadWhenParallel()
    {
        Dataset data = TrainerTests.Synthetic(64, 784, 10, 2);
        Network net = new NetworkBuilder(784).Dense(256, Activation.Relu).Dense(10).Build(seed: 2);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(), batchSize: 64, maxThreads: 2);
        float[] x = data.Features.ToArray();
        int[] y = data.Labels.ToArray();
        for (int i = 0; i < 3; i++) trainer.Step(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 10; i++) trainer.Step(x, y);
        }, WorkerPool.Shared.WorkerAllocatedBytes));
    }
}

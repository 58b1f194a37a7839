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
    public void StepDivergenceThrowsAndLeavesTheLastParametersThatGaveAFiniteLoss(string optimizer)
    {
        var rng = new Random(4);
        float[] x = TestData.Uniform(rng, 16 * 4, -10f, 10f), y = TestData.Uniform(rng, 16, -100f, 100f);
        Network net = new NetworkBuilder(4).Dense(8, Activation.Relu).Dense(1).Build(seed: 4);
        Optimizer opt = optimizer switch
        {
            "Adam" => new Adam(1e30f),   // Adam moves each parameter by about lr per step: 1e30 overflows the outputs
            "SGD with momentum" => new Sgd(1e3f, momentum: 0.9f),
            _ => new Sgd(1e3f),
        };
        var trainer = new Trainer(net, Loss.MeanSquaredError, opt, batchSize: 16, maxThreads: 1);
        float[] lastGood = net.Parameters.ToArray();   // the parameters the last successful step started from
        int steps = 0;
        var e = Assert.Throws<TrainingDivergedException>(() =>
        {
            for (; steps < 1000; steps++)
            {
                float[] before = net.Parameters.ToArray();
                trainer.Step(x, y);
                lastGood = before;
            }
        });
        Assert.True(steps >= 1, "the first step diverged: the test needs a later one");
        Assert.Contains("previous step", e.Message);
        Assert.Contains("smaller learning rate", e.Message);
        Assert.Equal(lastGood, net.Parameters.ToArray());
        Assert.All(lastGood, v => Assert.True(float.IsFinite(v)));
        // Those parameters give a finite loss.
        var check = new Trainer(net.Clone(), Loss.MeanSquaredError, new Sgd(1e-9f), batchSize: 16, maxThreads: 1);
        Assert.True(float.IsFinite(check.ComputeGradients(x, y)));
    }

    /// <summary>
    /// Fit diverges when the learning rate is raised to 1e30 after batch <paramref name="raiseAfterBatch"/> of epoch 2
    /// (3 batches per epoch): the raised step itself has a finite loss, the next one does not. The network must then
    /// hold exactly the parameters the raised step started from, whether the failing batch is in the same epoch (Fit
    /// repeats this epoch's batches from its checkpoint) or the first of the next (from the previous epoch's).
    /// </summary>
    [Theory]
    [InlineData(0, "Sgd")]
    [InlineData(1, "Sgd")]
    [InlineData(2, "Sgd")]    // the failing batch is epoch 3's first
    [InlineData(0, "Adam")]
    [InlineData(2, "Adam")]
    public void FitDivergenceLeavesTheLastParametersThatGaveAFiniteLoss(int raiseAfterBatch, string optimizer)
    {
        Dataset data = Synthetic(48, 6, 3, seed: 8);
        Network net = new NetworkBuilder(6).Dense(8, Activation.Relu).Dense(3).Build(seed: 8);
        Optimizer opt = optimizer == "Adam" ? new Adam(0.01f) : new Sgd(0.1f, momentum: 0.5f);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, opt, batchSize: 16, maxThreads: 1);
        var afterBatch = new List<float[]>();   // the parameters after each successful step, in order
        var raise = new Callback<BatchProgress>(p =>
        {
            afterBatch.Add(net.Parameters.ToArray());
            if (p.Epoch == 2 && p.SamplesDone == 16 * (raiseAfterBatch + 1)) opt.LearningRate = optimizer == "Adam" ? 1e36f : 1e30f;
        });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(data, epochs: 5, batchProgress: raise));

        // Steps: 3 in epoch 1, then epoch 2's up to the raised one (index 3 + raiseAfterBatch + 1), which succeeded.
        int raisedStep = 3 + raiseAfterBatch + 1;
        Assert.Equal(raisedStep + 1, afterBatch.Count);
        float[] expected = afterBatch[raisedStep - 1];   // what the raised step started from
        Assert.Equal(expected, net.Parameters.ToArray());
        Assert.Equal(raisedStep, opt.Steps);
        Assert.Contains("last parameters that were finite and gave a finite loss", e.Message);
    }

    [Fact]
    public void NonFiniteDataIsReportedAsDataNamingTheSample()
    {
        Dataset clean = Synthetic(40, 5, 3, seed: 2);
        float[] features = clean.Features.ToArray();
        features[17 * 5 + 3] = float.NaN;
        Dataset bad = Dataset.WithLabels(features, 5, clean.Labels.ToArray(), 3);
        Network net = new NetworkBuilder(5).Dense(3).Build(seed: 1);
        float[] before = net.Parameters.ToArray();
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 8, maxThreads: 1);

        var fit = Assert.Throws<ArgumentException>(() => trainer.Fit(bad, epochs: 1));
        Assert.Equal("train", fit.ParamName);
        Assert.Contains("sample 17, feature 3 is NaN", fit.Message);
        Assert.Contains("not the learning rate", fit.Message);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => trainer.Fit(clean, 1, validation: bad)).ParamName);
        Assert.Contains("sample 17", Assert.Throws<ArgumentException>(() => trainer.Evaluate(bad)).Message);

        features[17 * 5 + 3] = float.PositiveInfinity;
        var step = Assert.Throws<ArgumentException>(() => trainer.Step(features.AsSpan(16 * 5, 8 * 5), clean.Labels.Slice(16, 8)));
        Assert.Contains("sample 1, feature 3 is ∞", step.Message.Replace("Infinity", "∞"));
        float[] targets = new float[8 * 3];
        targets[4] = float.NaN;
        var regression = new Trainer(net, Loss.MeanSquaredError, new Sgd(0.1f), batchSize: 8, maxThreads: 1);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => regression.Step(clean.Features[..(8 * 5)], targets)).ParamName);
        Assert.Equal(before, net.Parameters.ToArray());   // nothing trained on bad data
    }

    [Fact]
    public void ADatasetIsScannedUntilItIsFoundClean()
    {
        // The scan is remembered only when it finds nothing: a bad set is reported on every call, and once its value is
        // fixed the next call trains on it. Values changed after a clean scan are not read again (the Dataset remarks),
        // yet are no silent answer: the NaN gives a non-finite loss. A new Dataset over the same arrays is scanned.
        Dataset clean = Synthetic(40, 5, 3, seed: 2);
        float[] features = clean.Features.ToArray();
        int[] labels = clean.Labels.ToArray();
        features[9 * 5 + 1] = float.NaN;
        Dataset data = Dataset.WithLabels(features, 5, labels, 3);
        Network net = new NetworkBuilder(5).Dense(3).Build(seed: 1);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 8, maxThreads: 1);

        Assert.Contains("sample 9, feature 1 is NaN", Assert.Throws<ArgumentException>(() => trainer.Fit(data, epochs: 1)).Message);
        Assert.Contains("sample 9", Assert.Throws<ArgumentException>(() => trainer.Evaluate(data)).Message);

        features[9 * 5 + 1] = 0.5f;
        Assert.Single(trainer.Fit(data, epochs: 1).Epochs);
        float[] trained = net.Parameters.ToArray();

        features[9 * 5 + 1] = float.NaN;   // after the clean scan: found by training, as a divergence
        Assert.Throws<TrainingDivergedException>(() => trainer.Fit(data, epochs: 1));
        Assert.True(net.Parameters.ToArray().All(float.IsFinite));
        Assert.Contains("sample 9, feature 1 is NaN",
            Assert.Throws<ArgumentException>(() => trainer.Fit(Dataset.WithLabels(features, 5, labels, 3), epochs: 1)).Message);
        Assert.NotEqual(trained, net.Parameters.ToArray());   // the diverged call kept the finite steps before the NaN batch
    }

    [Fact]
    public void AHugeBatchSizeFailsUpFrontNamingTheBytes()
    {
        Network net = new NetworkBuilder(784).Dense(512, Activation.Relu).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        long perSample = Trainer.WorkspaceBytes(net, 1);
        Assert.Equal((2L * (512 + 128 + 10) + 10) * 4 + 4, perSample);   // outputs and their gradients, targets, a label
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 1_000_000));
        Assert.Equal("batchSize", e.ParamName);
        Assert.Contains($"{1_000_000 * perSample:N0} bytes", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 10_000_000));
        _ = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 65_536);   // 0.35 GB: fine
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceAndRestoresTheBestEpoch()
    {
        // Validation labels are the opposite class of the training rule: the better the fit, the worse the validation
        // loss, so epoch 1 is the best and training stops after `patience` epochs without improvement.
        Dataset train = Synthetic(64, 6, 2, seed: 3);
        int[] flipped = train.Labels.ToArray().Select(l => 1 - l).ToArray();
        Dataset validation = Dataset.WithLabels(train.Features.ToArray(), 6, flipped, 2);
        Network net = new NetworkBuilder(6).Dense(8, Activation.Tanh).Dense(2).Build(seed: 3);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.5f), batchSize: 16, maxThreads: 1)
        {
            EarlyStopping = new EarlyStopping(patience: 2),
        };
        var afterEpoch = new List<float[]>();
        TrainingHistory history = trainer.Fit(train, epochs: 20, validation,
            progress: new Callback<EpochReport>(_ => afterEpoch.Add(net.Parameters.ToArray())));

        Assert.True(history.StoppedEarly);
        Assert.Equal(1, history.BestEpoch);
        Assert.Equal(3, history.Epochs.Count);
        Assert.True(history.Epochs[2].ValidationLoss > history.Epochs[0].ValidationLoss);
        Assert.Equal(afterEpoch[0], net.Parameters.ToArray());
        Assert.Contains("stopped early, best epoch 1", history.ToString());

        Assert.Throws<ArgumentException>(() => trainer.Fit(train, epochs: 2));   // no validation set to watch
        trainer.EarlyStopping = new EarlyStopping(patience: 2, restoreBestWeights: false);
        afterEpoch.Clear();
        trainer.Fit(train, epochs: 20, validation, progress: new Callback<EpochReport>(_ => afterEpoch.Add(net.Parameters.ToArray())));
        Assert.Equal(afterEpoch[^1], net.Parameters.ToArray());
    }

    [Fact]
    public void TrainingHistoryPrintsItsEpochs()
    {
        var history = new TrainingHistory(
        [
            new EpochReport(1, 0.51234, 0.8, 0.4, 0.85, 12345, TimeSpan.FromSeconds(1.5)),
            new EpochReport(2, 0.25, double.NaN, double.NaN, double.NaN, 2000, TimeSpan.FromSeconds(0.25)),
        ], Cancelled: true);
        string text = history.ToString();
        Assert.Contains("epoch 1: train loss 0.5123, train accuracy 80.00 %, validation loss 0.4000, validation accuracy 85.00 %, 12,345 samples/s, 1.50 s", text);
        Assert.Contains("epoch 2: train loss 0.2500, 2,000 samples/s, 0.25 s", text);
        Assert.EndsWith("2 epoch(s), cancelled.", text);
        Assert.DoesNotContain("List`1", text);
    }

    /// <summary>An IProgress that runs its action on the reporting thread, at once.</summary>
    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
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
    public void StepAllocatesNothingOnAnyThreadWhenParallel() =>
        AssertStepsAllocateNothing(TrainerTests.Synthetic(64, 784, 10, 2), new NetworkBuilder(784).Dense(256, Activation.Relu).Dense(10).Build(seed: 2), 64);

    /// <summary>A GRU's time loops run as blocks of sequences on the pool's threads (GruTimeLoopJob): nothing allocated there either.</summary>
    [Fact]
    public void GruStepAllocatesNothingOnAnyThreadWhenParallel()
    {
        Assert.Equal(2, GruLayer.TimeLoopTasks(32, 2));
        AssertStepsAllocateNothing(TrainerTests.Synthetic(32, 8 * 6, 10, 3), new NetworkBuilder(8 * 6).Gru(24, steps: 8).Dense(10).Build(seed: 3), 32);
    }

    /// <summary>Ten Adam steps on 2 threads, after three that warm up, allocate nothing on the caller or the pool's workers.</summary>
    private static void AssertStepsAllocateNothing(Dataset data, Network net, int batch)
    {
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(), batchSize: batch, maxThreads: 2);
        float[] x = data.Features.ToArray();
        int[] y = data.Labels.ToArray();
        for (int i = 0; i < 3; i++) trainer.Step(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 10; i++) trainer.Step(x, y);
        }, WorkerPool.Shared.WorkerAllocatedBytes));
    }
}

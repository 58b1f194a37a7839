using FastNet.Inference;
using FastNet.Tests.Training;
using FastNet.Threading;

namespace FastNet.Tests.Inference;

public class PredictorTests
{
    private static Network T1(int seed)
    {
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed);
        var rng = new Random(seed);
        foreach (DenseLayer layer in net.Layers) TestData.Uniform(rng, layer.Outputs, -0.1f, 0.1f).CopyTo(layer.Biases);
        return net;
    }

    [Fact]
    public void PredictMatchesADoublePrecisionForwardPass()
    {
        Network net = new NetworkBuilder(13).Dense(11, Activation.Tanh).Dense(7, Activation.Sigmoid).Dense(5, Activation.Relu).Dense(3).Build(seed: 1);
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(1);
        double[] p = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        for (int trial = 0; trial < 20; trial++)
        {
            float[] x = TestData.Uniform(rng, 13);
            var y = new float[3];
            predictor.Predict(x, y);
            double[] expected = ReferenceNetwork.Forward(net, p, x, 1);
            for (int j = 0; j < 3; j++) Assert.Equal(expected[j], y[j], 1e-5);
        }
    }

    [Fact]
    public void BatchRowsAgreeWithSinglePredictionsAndAcrossThreadCounts()
    {
        Network net = T1(2);
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(2);
        const int count = 300;   // more than one block of 256
        float[] x = TestData.Uniform(rng, count * 784, 0f, 1f);
        float[] one = new float[count * 10], two = new float[count * 10];
        predictor.PredictBatch(x, one, maxThreads: 1);
        predictor.PredictBatch(x, two, maxThreads: 2);
        Assert.Equal(one, two);   // the GEMM is bitwise identical for any thread count
        var single = new float[10];
        for (int i = 0; i < count; i += 37)
        {
            predictor.Predict(x.AsSpan(i * 784, 784), single);
            // GEMV and blocked GEMM sum in different orders: equal to float rounding, not bitwise.
            for (int j = 0; j < 10; j++) Assert.Equal(one[i * 10 + j], single[j], 1e-5f);
        }
    }

    /// <summary>
    /// With at least as many 256-row blocks as threads, PredictBatch runs whole blocks one per thread, each through every
    /// layer on that thread's own workspace (Predictor.BlockJob): the float32 outputs are still the bits of the network's
    /// own forward pass over all rows at once, and in every precision, with the model's normalization and softmax applied
    /// on whichever thread ran the block, those of one thread. Six blocks, the last partial: whole rounds on 2 and 3
    /// threads; on every core (-1) too, up to six cores.
    /// </summary>
    [Fact]
    public void BlocksSpreadOverThreadsGiveTheSequentialBits()
    {
        Network net = T1(10);
        const int count = 5 * Predictor.BatchBlock + 37;
        float[] x = TestData.Uniform(new Random(10), count * 784, 0f, 1f);
        float[] logits = net.Forward(new Workspace(net, count, forTraining: false), x, count, maxThreads: 1).ToArray();
        using (Predictor plain = net.CreatePredictor())
        {
            var spread = new float[count * 10];
            plain.PredictBatch(x, spread, maxThreads: 2);
            Assert.Equal(logits, spread);
        }

        net.Metadata = new ModelMetadata { InputNormalization = new InputNormalization([0.25f], [0.5f]), OutputTransform = OutputTransform.Softmax };
        foreach (Precision precision in new[] { Precision.Float32, Precision.BFloat16, Precision.Int8 })
        {
            using Predictor predictor = net.CreatePredictor(new PredictorOptions { Precision = precision });
            var sequential = new float[count * 10];
            predictor.PredictBatch(x, sequential, maxThreads: 1);
            foreach (int threads in new[] { 2, 3, -1 })
            {
                var spread = new float[count * 10];
                predictor.PredictBatch(x, spread, threads);
                Assert.Equal(sequential, spread);
            }
        }
    }

    [Fact]
    public void PredictorIsASnapshotOfTheWeights()
    {
        Network net = T1(3);
        float[] x = TestData.Uniform(new Random(3), 784, 0f, 1f);
        using Predictor predictor = net.CreatePredictor();
        float[] before = new float[10], after = new float[10];
        predictor.Predict(x, before);
        net.Parameters.Fill(0.5f);   // "training" the source network afterwards
        predictor.Predict(x, after);
        Assert.Equal(before, after);
    }

    [Fact]
    public void SixteenThreadsSharingOnePredictorGetTheSingleThreadedBits()
    {
        Network net = T1(4);
        using Predictor predictor = net.CreatePredictor();
        const int inputs = 64;
        float[] x = TestData.Uniform(new Random(4), inputs * 784, 0f, 1f);
        float[] expected = new float[inputs * 10];
        for (int i = 0; i < inputs; i++) predictor.Predict(x.AsSpan(i * 784, 784), expected.AsSpan(i * 10, 10));

        int mismatches = 0;
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            var y = new float[10];
            for (int n = 0; n < 10_000; n++)
            {
                int i = (n * 7 + t) % inputs;
                predictor.Predict(x.AsSpan(i * 784, 784), y);
                if (!y.AsSpan().SequenceEqual(expected.AsSpan(i * 10, 10))) Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void PredictAllocatesNothingAfterTheThreadsFirstCall()
    {
        using Predictor predictor = T1(5).CreatePredictor();
        float[] x = TestData.Uniform(new Random(5), 784, 0f, 1f), y = new float[10];
        predictor.Predict(x, y);
        predictor.PredictProbabilities(x, y);
        predictor.PredictClass(x);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                predictor.Predict(x, y);
                predictor.PredictProbabilities(x, y);
                predictor.PredictClass(x);
            }
        }));
    }

    [Fact]
    public void PredictBatchOnOneThreadAllocatesNothingAfterTheFirstCall()
    {
        using Predictor predictor = T1(8).CreatePredictor();
        float[] x = TestData.Uniform(new Random(8), 1024 * 784, 0f, 1f), y = new float[1024 * 10];
        for (int i = 0; i < 3; i++) predictor.PredictBatch(x, y, maxThreads: 1);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 20; i++) predictor.PredictBatch(x, y, maxThreads: 1);
        }));
    }

    [Fact]
    public void PredictBatchOnEveryCoreAllocatesNothingAfterTheFirstCalls()
    {
        using Predictor predictor = T1(11).CreatePredictor();
        float[] x = TestData.Uniform(new Random(11), 1024 * 784, 0f, 1f), y = new float[1024 * 10];
        for (int i = 0; i < 3; i++) predictor.PredictBatch(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 20; i++) predictor.PredictBatch(x, y);
        }, WorkerPool.Shared.WorkerAllocatedBytes));
    }

    /// <summary>
    /// A layer wider than one GEMM column block has its weights packed once, by the first batch call (FastNet.Kernels.PrepackedB),
    /// not per call: batches of the predictor then give exactly the bits of the network's own forward pass (weights packed
    /// per call), on 1 and 2 threads, in rows past one 256-row block, with four threads making their first calls at once,
    /// and later calls allocate nothing. The hidden layer crosses the depth blocks and ends in a partial panel.
    /// </summary>
    [Fact]
    public void BatchesOfAWideLayerGiveTheNetworksBits()
    {
        int hidden = FastNet.Kernels.GemmBlocking.NB + 37, inputs = 2 * FastNet.Kernels.GemmBlocking.KC + 5;
        Network net = new NetworkBuilder(inputs).Dense(hidden, Activation.Relu).Dense(hidden + 1, Activation.Tanh).Dense(10).Build(seed: 9);
        const int count = 300;
        float[] x = TestData.Uniform(new Random(9), count * inputs, 0f, 1f);
        float[] expected = net.Forward(new Workspace(net, count, forTraining: false), x, count, maxThreads: 1).ToArray();

        using Predictor predictor = net.CreatePredictor();
        var firstCalls = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            firstCalls[t] = new float[count * 10];
            predictor.PredictBatch(x, firstCalls[t], maxThreads: 1 + t % 2);
        });
        foreach (float[] y in firstCalls) Assert.Equal(expected, y);

        float[] outputs = new float[count * 10];
        predictor.PredictBatch(x, outputs, maxThreads: 1);
        Assert.Equal(0, TestData.AllocatedBytes(() => predictor.PredictBatch(x, outputs, maxThreads: 1)));
        Assert.Equal(expected, outputs);
    }

    [Fact]
    public void HelpersGiveArgmaxAndSoftmax()
    {
        using Predictor predictor = T1(6).CreatePredictor();
        float[] x = TestData.Uniform(new Random(6), 784, 0f, 1f), logits = new float[10], probabilities = new float[10];
        predictor.Predict(x, logits);
        predictor.PredictProbabilities(x, probabilities);
        Assert.Equal(Array.IndexOf(logits, logits.Max()), predictor.PredictClass(x));
        double sum = logits.Sum(v => Math.Exp(v));
        for (int j = 0; j < 10; j++) Assert.Equal(Math.Exp(logits[j]) / sum, probabilities[j], 1e-6);
    }

    [Fact]
    public void LoadsFromAModelFile()
    {
        Network net = T1(7);
        string path = Path.Combine(Directory.CreateTempSubdirectory("fastnet-predictor-").FullName, "t1.fnet");
        net.Save(path);
        using Predictor fromFile = Predictor.Load(path), fromNetwork = net.CreatePredictor();
        float[] x = TestData.Uniform(new Random(7), 784, 0f, 1f), a = new float[10], b = new float[10];
        fromFile.Predict(x, a);
        fromNetwork.Predict(x, b);
        Assert.Equal(b, a);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void WrongLengthsThrowNamingTheSpan()
    {
        using Predictor predictor = new NetworkBuilder(4).Dense(3).Build().CreatePredictor();
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => predictor.Predict(new float[5], new float[3])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => predictor.Predict(new float[4], new float[2])).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => predictor.PredictBatch(new float[7], new float[6])).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => predictor.PredictBatch(new float[8], new float[5])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => predictor.PredictClass(new float[3])).ParamName);
    }
}

/// <summary>Non-finite inputs and outputs never come back as an answer; a disposed predictor says it is one.</summary>
public class PredictorNonFiniteTests
{
    private static Network Net() => new NetworkBuilder(6).Dense(5, Activation.Relu).Dense(3).Build(seed: 2);

    [Fact]
    public void NonFiniteInputsAreRejectedNamingTheIndex()
    {
        using Predictor predictor = Net().CreatePredictor();
        float[] x = [0.1f, 0.2f, 0.3f, float.NaN, 0.5f, 0.6f];
        var e = Assert.Throws<ArgumentException>(() => predictor.PredictClass(x));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("feature 3 is NaN", e.Message);
        Assert.Throws<ArgumentException>(() => predictor.Predict(x, new float[3]));
        Assert.Throws<ArgumentException>(() => predictor.PredictProbabilities(x, new float[3]));

        float[] batch = new float[4 * 6];
        batch[2 * 6 + 1] = float.NegativeInfinity;
        float[] outputs = new float[4 * 3];
        var b = Assert.Throws<ArgumentException>(() => predictor.PredictBatch(batch, outputs));
        Assert.Contains("sample 2, feature 1", b.Message);
        Assert.All(outputs, v => Assert.Equal(0f, v));   // nothing written: the bad row is in the first block
    }

    [Fact]
    public void AnInfinityThatTheReluWouldHideIsStillReported()
    {
        // First-layer weights all negative: +infinity in any feature makes every pre-activation -infinity, which the
        // ReLU turns into 0, so the outputs are the finite biases of the last layer. The input check must look before
        // the activation (the float32 path reads the first GEMM's product, see Predictor.Forward), or it misses this.
        Network net = Net();
        net.Dense(0).Weights.Fill(-0.5f);
        float[] x = [0.1f, 0.2f, float.PositiveInfinity, 0.4f, 0.5f, 0.6f];
        float[] y = new float[3];
        using (Predictor unchecked_ = net.CreatePredictor(new PredictorOptions { CheckInputs = false }))
            unchecked_.Predict(x, y);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));   // the case is real: nothing after the first layer sees it

        foreach (Precision precision in new[] { Precision.Float32, Precision.BFloat16 })
        {
            using Predictor predictor = net.CreatePredictor(new PredictorOptions { Precision = precision });
            Assert.Contains("feature 2 is ∞", Assert.Throws<ArgumentException>(() => predictor.Predict(x, y)).Message.Replace("Infinity", "∞"));

            // A batch of three blocks: the bad row in the second; the first block's outputs are written, no later ones.
            int rows = 2 * Predictor.BatchBlock + 5, bad = Predictor.BatchBlock + 17;
            float[] batch = Enumerable.Range(0, rows * 6).Select(i => (i % 7) / 7f).ToArray();
            batch[bad * 6 + 4] = float.PositiveInfinity;
            foreach (int threads in new[] { 1, 2 })
            {
                float[] outputs = Enumerable.Repeat(42f, rows * 3).ToArray();
                var e = Assert.Throws<ArgumentException>(() => predictor.PredictBatch(batch, outputs, threads));
                Assert.Equal("inputs", e.ParamName);
                Assert.Contains($"sample {bad}, feature 4", e.Message);
                Assert.All(outputs.Take(Predictor.BatchBlock * 3), v => Assert.NotEqual(42f, v));
                Assert.All(outputs.Skip(Predictor.BatchBlock * 3), v => Assert.Equal(42f, v));
            }
        }
    }

    /// <summary>
    /// Blocks spread over threads fail as the sequential loop does: the exception is the lowest bad block's, whichever
    /// thread met its own bad block first, and every block before it is written. Six blocks on two threads: one bad
    /// row in block 4 (the caller's task) and one in block 3 (the worker's).
    /// </summary>
    [Fact]
    public void ASpreadBatchThrowsForItsLowestBadBlockWithEveryBlockBeforeItWritten()
    {
        using Predictor predictor = Net().CreatePredictor();
        int rows = 6 * Predictor.BatchBlock, firstBad = 3 * Predictor.BatchBlock + 200;
        float[] batch = Enumerable.Range(0, rows * 6).Select(i => (i % 5) / 5f).ToArray();
        batch[firstBad * 6 + 2] = float.NaN;
        batch[(4 * Predictor.BatchBlock + 3) * 6] = float.PositiveInfinity;
        foreach (int threads in new[] { 1, 2, -1 })
        {
            float[] outputs = Enumerable.Repeat(42f, rows * 3).ToArray();
            var e = Assert.Throws<ArgumentException>(() => predictor.PredictBatch(batch, outputs, threads));
            Assert.Contains($"sample {firstBad}, feature 2", e.Message);
            Assert.All(outputs.Take(3 * Predictor.BatchBlock * 3), v => Assert.NotEqual(42f, v));
        }
    }

    [Fact]
    public void AFirstLayerThatOverflowsOnCleanInputsIsAnOverflowNotBadInput()
    {
        // The first layer's product is infinite from finite inputs: the input check finds the inputs clean and the
        // outputs decide (an ArithmeticException), in both paths.
        Network net = Net();
        net.Dense(0).Weights.Fill(1e38f);
        net.Dense(1).Weights.Fill(1f);
        using Predictor predictor = net.CreatePredictor();
        float[] x = [1, 1, 1, 1, 1, 1];
        Assert.Contains("not finite", Assert.Throws<ArithmeticException>(() => predictor.PredictClass(x)).Message);
        Assert.Throws<ArithmeticException>(() => predictor.PredictBatch(x.Concat(x).ToArray(), new float[2 * 3]));
    }

    [Fact]
    public void WithoutInputChecksANonFiniteOutputStillThrows()
    {
        using Predictor unchecked_ = Net().CreatePredictor(new PredictorOptions { CheckInputs = false });
        Assert.False(unchecked_.Options.CheckInputs);
        float[] x = [float.NaN, 0, 0, 0, 0, 0];
        // Relu may turn a NaN pre-activation into 0, but the output layer's own products carry the NaN in here as well
        // unless the NaN meets only zero weights; either way no class is returned from NaN outputs.
        Network net = Net();
        net.Dense(0).Weights.Fill(1f);
        using Predictor p = net.CreatePredictor(new PredictorOptions { CheckInputs = false });
        var e = Assert.Throws<ArithmeticException>(() => p.PredictClass(x));
        Assert.Contains("input checks are off", e.Message);
    }

    [Fact]
    public void OverflowingParametersThrowInsteadOfReturningClassZero()
    {
        Network net = Net();
        net.Parameters.Fill(1e30f);   // finite weights whose products overflow float
        using Predictor predictor = net.CreatePredictor();
        float[] x = [1, 1, 1, 1, 1, 1];
        var e = Assert.Throws<ArithmeticException>(() => predictor.PredictClass(x));
        Assert.Contains("not finite", e.Message);
        Assert.Throws<ArithmeticException>(() => predictor.PredictBatch(new float[2 * 6].Select(_ => 1f).ToArray(), new float[2 * 3]));
    }

    [Fact]
    public void ADisposedPredictorNamesItself()
    {
        Predictor predictor = Net().CreatePredictor();
        predictor.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => predictor.PredictClass(new float[6]));
        Assert.Equal(typeof(Predictor).FullName, e.ObjectName);
        Assert.Throws<ObjectDisposedException>(() => predictor.PredictBatch(new float[6], new float[3]));
    }
}

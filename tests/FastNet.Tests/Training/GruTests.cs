using FastNet.Inference;
using FastNet.Threading;
using FastNet.Training;

namespace FastNet.Tests.Training;

/// <summary>The GRU layer against published framework outputs, a double-precision reference and finite differences.</summary>
public class GruTests
{
    /// <summary>
    /// Seed 003: Keras GRU(1 unit), kernel and recurrent kernel all ones, zero biases, input [1, 1] as two steps,
    /// return_sequences: Keras prints [[0.20482421], [0.34675306]] (h_t = z h_{t-1} + (1 - z) n, not z n).
    /// </summary>
    [Fact]
    public void ReproducesTheKerasExampleOfSeed003()
    {
        Network net = new NetworkBuilder(2).Gru(1, steps: 2, returnSequences: true).Build();
        var gru = (GruLayer)net.Layers[0];
        gru.InputWeights.Fill(1f);
        gru.RecurrentWeights.Fill(1f);
        gru.InputBiases.Clear();
        gru.RecurrentBiases.Clear();
        var output = new float[2];
        using Predictor predictor = net.CreatePredictor();
        predictor.Predict([1f, 1f], output);
        Assert.Equal(0.20482421, output[0], 1e-7);
        Assert.Equal(0.34675306, output[1], 1e-7);
        // The seed's hand computation, z * n = 0.55, is what the convention rules out.
        Assert.NotEqual(0.5568, output[0], 1e-2);
    }

    /// <summary>
    /// Sequences per batch and threads: one thread, and 20 sequences on 3 threads, whose time loops run as three blocks
    /// of sequences (6, 7 and 7) at once (<see cref="GruLayer.TimeLoopTasks"/>).
    /// </summary>
    public static TheoryData<bool, int, int> Shapes() => new()
    {
        { false, 1, 1 }, { false, 3, 1 }, { true, 1, 1 }, { true, 3, 1 }, { false, 20, 3 }, { true, 20, 3 },
    };

    /// <summary>Forward against the double-precision reference, with and without an initial state, batch 1 and more.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesTheReference(bool returnSequences, int batch, int threads)
    {
        var rng = new Random(5 + batch);
        // 19 hidden units: two whole SIMD vectors of 8 and a scalar tail (16 lanes: one and a tail).
        var gru = (GruLayer)new NetworkBuilder(5 * 3).Gru(19, steps: 5, returnSequences).Build(seed: batch).Layers[0];
        float[] x = TestData.Uniform(rng, batch * 15, -1f, 1f);
        float[] h0 = TestData.Uniform(rng, batch * 19, -1f, 1f);
        double[] p = Array.ConvertAll(gru.Parameters.ToArray(), v => (double)v);
        GruWorkspace workspace = gru.CreateWorkspace(maxBatch: Math.Max(batch, 4));
        foreach (float[]? initial in new[] { null, h0 })
        {
            var y = new float[batch * gru.OutputSize];
            gru.Forward(workspace, x, batch, y, initial, maxThreads: threads);
            double[] expected = ReferenceGru.Forward(gru, p, 0, Array.ConvertAll(x, v => (double)v), batch,
                initial is null ? null : Array.ConvertAll(initial, v => (double)v));
            for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 2e-6);
        }
    }

    /// <summary>
    /// Backpropagation through time against central differences of the double reference for L = sum(c * output)
    /// with random c: every weight and bias, the input sequence and the initial state.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardMatchesFiniteDifferences(bool returnSequences, int batch, int threads)
    {
        var rng = new Random(11 + batch);
        // 11 hidden units: a SIMD vector and a scalar tail.
        var gru = (GruLayer)new NetworkBuilder(4 * 3).Gru(11, steps: 4, returnSequences).Build(seed: 3).Layers[0];
        // Larger weights than the default draw, so that gates saturate differently across units.
        TestData.Uniform(rng, gru.ParameterCount, -0.8f, 0.8f).CopyTo(gru.Parameters);
        float[] x = TestData.Uniform(rng, batch * 12, -1f, 1f);
        float[] h0 = TestData.Uniform(rng, batch * 11, -1f, 1f);
        float[] c = TestData.Uniform(rng, batch * gru.OutputSize, -1f, 1f);

        GruWorkspace workspace = gru.CreateWorkspace(maxBatch: batch);
        gru.Forward(workspace, x, batch, new float[c.Length], h0, maxThreads: threads);
        var dParameters = new float[gru.ParameterCount];
        var dx = new float[x.Length];
        var dh0 = new float[h0.Length];
        Assert.True(gru.Backward(workspace, x, batch, c, dParameters, dx, dh0, maxThreads: threads));

        double[] p = Array.ConvertAll(gru.Parameters.ToArray(), v => (double)v);
        double[] xs = Array.ConvertAll(x, v => (double)v), hs = Array.ConvertAll(h0, v => (double)v);
        double Loss() => ReferenceGru.Forward(gru, p, 0, xs, batch, hs).Select((v, i) => v * c[i]).Sum();
        GradientCheckTests.AssertGradientsMatch(dParameters, Numeric(p, Loss));
        GradientCheckTests.AssertGradientsMatch(dx, Numeric(xs, Loss));
        GradientCheckTests.AssertGradientsMatch(dh0, Numeric(hs, Loss));
    }

    /// <summary>
    /// Inside networks, through the trainer: stacked GRUs (the first returning sequences, so the second
    /// backpropagates into it), a dense head and softmax cross-entropy, against the double reference network.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void NetworkGradientsMatchFiniteDifferences(int batch)
    {
        var rng = new Random(23 + batch);
        Network net = new NetworkBuilder(3 * 2).Gru(9, steps: 3, returnSequences: true).Gru(3, steps: 3).Dense(3).Build(seed: 7);
        float[] inputs = TestData.Uniform(rng, batch * 6, -1f, 1f);
        int[] labels = Enumerable.Range(0, batch).Select(_ => rng.Next(3)).ToArray();
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 4, maxThreads: 1);
        float value = trainer.ComputeGradients(inputs, labels);

        var targets = new double[batch * 3];
        for (int r = 0; r < batch; r++) targets[r * 3 + labels[r]] = 1;
        double[] p = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        Assert.Equal(ReferenceNetwork.Loss(Loss.SoftmaxCrossEntropy, ReferenceNetwork.Forward(net, p, inputs, batch), targets, batch, 3), value, 1e-5);
        GradientCheckTests.AssertGradientsMatch(trainer.Gradients, ReferenceNetwork.NumericGradient(net, Loss.SoftmaxCrossEntropy, inputs, targets, batch));
        Assert.Equal(trainer.Gradients[net.Layers[1].ParameterOffset..][..net.Layers[1].ParameterCount].ToArray(), trainer.LayerGradients(1).ToArray());
    }

    /// <summary>
    /// The time loops in blocks of sequences (one to seven blocks of 45; an odd T, so dLoss/dh_0 ends in the other state
    /// buffer) give one thread's bits: the output, the initial state's and the input's gradients and every parameter's.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BlocksOfSequencesGiveOneThreadsBits(bool returnSequences)
    {
        const int batch = 45, steps = 7, features = 5, hidden = 24;
        var gru = (GruLayer)new NetworkBuilder(steps * features).Gru(hidden, steps, returnSequences).Build(seed: 4).Layers[0];
        var rng = new Random(8);
        float[] x = TestData.Uniform(rng, batch * steps * features, -1f, 1f);
        float[] h0 = TestData.Uniform(rng, batch * hidden, -1f, 1f);
        float[] c = TestData.Uniform(rng, batch * gru.OutputSize, -1f, 1f);
        float[][] Run(int threads)
        {
            GruWorkspace workspace = gru.CreateWorkspace(batch);
            var y = new float[c.Length];
            gru.Forward(workspace, x, batch, y, h0, threads);
            var dParameters = new float[gru.ParameterCount];
            var dx = new float[x.Length];
            var dh0 = new float[h0.Length];
            Assert.True(gru.Backward(workspace, x, batch, c, dParameters, dx, dh0, threads));
            return [y, dParameters, dx, dh0];
        }

        float[][] one = Run(1);
        foreach (int threads in new[] { 2, 3, 8 })
        {
            Assert.True(GruLayer.TimeLoopTasks(batch, threads) > 1);
            float[][] many = Run(threads);
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], many[i]);
        }
    }

    [Fact]
    public void TrainingIsBitwiseTheSameOnAnyThreadCountAndAStepAllocatesNothing()
    {
        float[] Train(int threads)
        {
            var rng = new Random(2);
            Network net = new NetworkBuilder(28 * 8).Gru(32, steps: 8).Dense(10).Build(seed: 2);
            var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(0.01f), batchSize: 16, maxThreads: threads);
            for (int s = 0; s < 4; s++)
                trainer.Step(TestData.Uniform(rng, 16 * 224, 0f, 1f), Enumerable.Range(0, 16).Select(_ => rng.Next(10)).ToArray());
            return net.Parameters.ToArray();
        }

        float[] one = Train(1);
        Assert.Equal(one, Train(2));
        Assert.Equal(one, Train(8));

        Network single = new NetworkBuilder(28 * 8).Gru(32, steps: 8).Dense(10).Build(seed: 2);
        var stepper = new Trainer(single, Loss.SoftmaxCrossEntropy, new Sgd(0.05f, momentum: 0.9f), batchSize: 16, maxThreads: 1);
        float[] x = TestData.Uniform(new Random(1), 16 * 224, 0f, 1f);
        int[] y = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        stepper.Step(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int s = 0; s < 3; s++) stepper.Step(x, y);
        }));
    }

    [Fact]
    public void PredictorBatchOneAndBatchAgreeAndTheModelFileRoundTrips()
    {
        var rng = new Random(9);
        Network net = new NetworkBuilder(28 * 28).Gru(16, steps: 28).Dense(10).Build(seed: 9);
        float[] inputs = TestData.Uniform(rng, 5 * 784, 0f, 1f);
        double[] reference = ReferenceNetwork.Forward(net, Array.ConvertAll(net.Parameters.ToArray(), v => (double)v), inputs, 5);
        using Predictor predictor = net.CreatePredictor();
        var batched = new float[50];
        predictor.PredictBatch(inputs, batched);
        var one = new float[10];
        for (int i = 0; i < 5; i++)
        {
            predictor.Predict(inputs.AsSpan(i * 784, 784), one);
            for (int j = 0; j < 10; j++)
            {
                Assert.Equal(reference[i * 10 + j], one[j], 1e-5);
                Assert.Equal(reference[i * 10 + j], batched[i * 10 + j], 1e-5);
            }
        }

        Assert.Equal(0, TestData.AllocatedBytes(() => predictor.Predict(inputs.AsSpan(0, 784), one)));

        string path = Path.Combine(Path.GetTempPath(), $"fastnet-gru-{Guid.NewGuid():N}.fnet");
        try
        {
            net.Save(path);
            using Predictor loaded = Predictor.Load(path);
            var again = new float[50];
            loaded.PredictBatch(inputs, again);
            Assert.Equal(batched, again);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadShapesAndCallsAreRejectedClearly()
    {
        Assert.Contains("whole number of steps", Assert.Throws<ArgumentException>(() => new NetworkBuilder(10).Gru(4, steps: 3)).Message);
        var gru = (GruLayer)new NetworkBuilder(6).Gru(2, steps: 3).Build().Layers[0];
        GruWorkspace workspace = gru.CreateWorkspace(maxBatch: 2, forTraining: false);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => gru.Forward(workspace, new float[18], 3, new float[6])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => gru.Forward(workspace, new float[7], 1, new float[2])).ParamName);
        gru.Forward(workspace, new float[6], 1, new float[2]);
        Assert.Equal("workspace", Assert.Throws<ArgumentException>(() => gru.Backward(workspace, new float[6], 1, new float[2], new float[gru.ParameterCount])).ParamName);
        var other = (GruLayer)new NetworkBuilder(6).Gru(2, steps: 3).Build().Layers[0];
        Assert.Equal("workspace", Assert.Throws<ArgumentException>(() => other.Forward(workspace, new float[6], 1, new float[2])).ParamName);
        var trainer = new Trainer(new NetworkBuilder(6).Gru(2, steps: 3).Build(), Loss.MeanSquaredError, new Sgd(0.1f), 2);
        Assert.Equal("layer", Assert.Throws<ArgumentException>(() => trainer.WeightGradients(0)).ParamName);
    }

    /// <summary>A NaN or infinite output gradient, at the last step or an early one, is reported, not passed on.</summary>
    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 0)]
    [InlineData(float.NaN, 2)]
    [InlineData(float.NegativeInfinity, 2)]
    public void NonFiniteGradientsAreDetected(float bad, int step)
    {
        var gru = (GruLayer)new NetworkBuilder(3 * 2).Gru(17, steps: 3, returnSequences: true).Build(seed: 1).Layers[0];
        GruWorkspace workspace = gru.CreateWorkspace(maxBatch: 2);
        float[] x = TestData.Uniform(new Random(1), 2 * 6, -1f, 1f);
        gru.Forward(workspace, x, 2, new float[2 * gru.OutputSize]);
        var dy = new float[2 * gru.OutputSize];
        dy[(1 * 3 + step) * 17 + 5] = bad;   // sample 1, one unit of one step
        Assert.False(gru.Backward(workspace, x, 2, dy, new float[gru.ParameterCount]));
        dy[(1 * 3 + step) * 17 + 5] = 0.5f;
        Assert.True(gru.Backward(workspace, x, 2, dy, new float[gru.ParameterCount]));
    }

    /// <summary>Central differences of <paramref name="loss"/> with respect to every entry of <paramref name="values"/>.</summary>
    private static double[] Numeric(double[] values, Func<double> loss, double h = 1e-6)
    {
        var grad = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double keep = values[i];
            values[i] = keep + h;
            double plus = loss();
            values[i] = keep - h;
            double minus = loss();
            values[i] = keep;
            grad[i] = (plus - minus) / (2 * h);
        }

        return grad;
    }
}

using FastNet.Training;

namespace FastNet.Tests.Training;

/// <summary>Backpropagation against finite differences of an independent double-precision network.</summary>
public class GradientCheckTests
{
    public static TheoryData<Activation, Loss, int> Combinations()
    {
        var data = new TheoryData<Activation, Loss, int>();
        foreach (Activation act in Enum.GetValues<Activation>())
            foreach (Loss loss in Enum.GetValues<Loss>())
                foreach (int batch in new[] { 1, 5 })
                    data.Add(act, loss, batch);
        return data;
    }

    /// <summary>A 3-layer network of odd widths (5-7-3-4) with <paramref name="hidden"/> on both hidden layers.</summary>
    [Theory]
    [MemberData(nameof(Combinations))]
    public void ThreeLayerNetworkGradientsMatchFiniteDifferences(Activation hidden, Loss loss, int batch)
    {
        var rng = new Random(17 * (int)hidden + 3 * (int)loss + batch);
        Network net = new NetworkBuilder(5).Dense(7, hidden).Dense(3, hidden).Dense(4).Build(seed: batch);
        // Non-zero biases, so that their gradients matter and ReLU units are not all on one side.
        foreach (DenseLayer layer in net.Layers) TestData.Uniform(rng, layer.Outputs, -0.5f, 0.5f).CopyTo(layer.Biases);
        float[] inputs = TestData.Uniform(rng, batch * 5, -1f, 1f);
        float[] targets = loss switch
        {
            Loss.SoftmaxCrossEntropy => OneHot(rng, batch, 4),
            Loss.BinaryCrossEntropy => TestData.Uniform(rng, batch * 4, 0f, 1f),
            _ => TestData.Uniform(rng, batch * 4, -1f, 1f),
        };

        var trainer = new Trainer(net, loss, new Sgd(0.1f), batchSize: 8, maxThreads: 1);
        float value = trainer.ComputeGradients(inputs, targets);
        double[] t = Array.ConvertAll(targets, v => (double)v);
        double[] p = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        Assert.Equal(ReferenceNetwork.Loss(loss, ReferenceNetwork.Forward(net, p, inputs, batch), t, batch, 4), value, 1e-5);
        AssertGradientsMatch(trainer.Gradients, ReferenceNetwork.NumericGradient(net, loss, inputs, t, batch));

        if (loss == Loss.SoftmaxCrossEntropy)
        {
            // Integer labels give the same gradients as one-hot rows.
            var labels = new int[batch];
            for (int r = 0; r < batch; r++) labels[r] = Array.IndexOf(targets, 1f, r * 4, 4) - r * 4;
            float[] fromRows = trainer.Gradients.ToArray();
            Assert.Equal(value, trainer.ComputeGradients(inputs, labels), 1e-6f);
            Assert.Equal(fromRows, trainer.Gradients.ToArray());
        }
    }

    internal static void AssertGradientsMatch(ReadOnlySpan<float> analytic, double[] numeric)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        for (int i = 0; i < numeric.Length; i++)
        {
            double tolerance = 1e-4 + 1e-3 * Math.Abs(numeric[i]);
            if (!(Math.Abs(analytic[i] - numeric[i]) <= tolerance))
                Assert.Fail($"parameter {i}: backprop {analytic[i]}, finite differences {numeric[i]}");
        }
    }

    private static float[] OneHot(Random rng, int batch, int classes)
    {
        var t = new float[batch * classes];
        for (int r = 0; r < batch; r++) t[r * classes + rng.Next(classes)] = 1f;
        return t;
    }
}

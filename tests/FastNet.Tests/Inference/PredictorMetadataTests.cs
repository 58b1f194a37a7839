using FastNet.Inference;

namespace FastNet.Tests.Inference;

/// <summary>What a predictor does with a model's metadata: normalizes raw inputs, transforms outputs, names classes.</summary>
public sealed class PredictorMetadataTests
{
    private static Network Net(int seed) => new NetworkBuilder(5).Dense(7, Activation.Relu).Dense(3).Build(seed);

    /// <summary>The reference: normalize in double by hand, run the plain network, transform in double.</summary>
    private static double[] Reference(Network net, float[] raw, float[] mean, float[] scale, OutputTransform transform)
    {
        float[] normalized = raw.Select((x, i) => (float)((x - (double)mean[i % mean.Length]) / scale[i % scale.Length])).ToArray();
        float[] logits = new float[3];
        Network plainNetwork = net.Clone();
        plainNetwork.Metadata = ModelMetadata.Empty;
        using (Predictor plain = plainNetwork.CreatePredictor()) plain.Predict(normalized, logits);
        double max = logits.Max(), logSum = Math.Log(logits.Sum(z => Math.Exp(z - max)));
        return transform switch
        {
            OutputTransform.Softmax => logits.Select(z => Math.Exp(z - max - logSum)).ToArray(),
            OutputTransform.LogSoftmax => logits.Select(z => z - max - logSum).ToArray(),
            _ => logits.Select(z => (double)z).ToArray(),
        };
    }

    [Theory]
    [InlineData(OutputTransform.None, false)]
    [InlineData(OutputTransform.Softmax, true)]
    [InlineData(OutputTransform.LogSoftmax, false)]
    [InlineData(OutputTransform.LogSoftmax, true)]
    public void NormalizationAndTransformApplyInEveryPath(OutputTransform transform, bool perFeature)
    {
        Network net = Net(1);
        float[] mean = perFeature ? [10, 20, 30, 40, 50] : [100];
        float[] scale = perFeature ? [2, 4, 0.5f, 8, 3] : [25];
        net.Metadata = new ModelMetadata { InputNormalization = new InputNormalization(mean, scale), OutputTransform = transform };
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(4);
        const int rows = 300;   // more than one batch block
        float[] raw = TestData.Uniform(rng, rows * 5, 0f, 120f), batch = new float[rows * 3], one = new float[3];
        predictor.PredictBatch(raw, batch);
        for (int r = 0; r < rows; r++)
        {
            double[] expected = Reference(net, raw[(r * 5)..(r * 5 + 5)], mean, scale, transform);
            predictor.Predict(raw.AsSpan(r * 5, 5), one);
            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(expected[j], one[j], 1e-5 + 1e-5 * Math.Abs(expected[j]));
                Assert.Equal(expected[j], batch[r * 3 + j], 1e-5 + 1e-5 * Math.Abs(expected[j]));
            }
        }

        Assert.Equal(raw, TestData.Uniform(new Random(4), rows * 5, 0f, 120f));   // the caller's inputs untouched
    }

    [Fact]
    public void ProbabilitiesAreNotASoftmaxOfASoftmax()
    {
        Network net = Net(2);
        net.Metadata = new ModelMetadata { OutputTransform = OutputTransform.Softmax };
        using Predictor predictor = net.CreatePredictor();
        float[] x = [0.5f, -1, 2, 0, 1], predicted = new float[3], probabilities = new float[3];
        predictor.Predict(x, predicted);
        predictor.PredictProbabilities(x, probabilities);
        Assert.Equal(predicted, probabilities);
        Assert.Equal(1.0, predicted.Sum(), 1e-6);
    }

    [Fact]
    public void PredictLabelNamesTheClassOrSaysThereAreNoLabels()
    {
        Network net = Net(3);
        using (Predictor unlabeled = net.CreatePredictor())
            Assert.Contains("no class labels", Assert.Throws<InvalidOperationException>(() => unlabeled.PredictLabel(new float[5])).Message);
        net.Metadata = new ModelMetadata { ClassLabels = ["cat", "dog", "bird"] };
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(5);
        for (int i = 0; i < 20; i++)
        {
            float[] x = TestData.Uniform(rng, 5, -3f, 3f);
            Assert.Equal(new[] { "cat", "dog", "bird" }[predictor.PredictClass(x)], predictor.PredictLabel(x));
        }
    }

    [Fact]
    public void NormalizedAndTransformedCallsAllocateNothing()
    {
        Network net = Net(4);
        net.Metadata = new ModelMetadata { InputNormalization = new InputNormalization([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]), OutputTransform = OutputTransform.LogSoftmax, ClassLabels = ["a", "b", "c"] };
        using Predictor predictor = net.CreatePredictor();
        float[] x = [1, 2, 3, 4, 5], y = new float[3], xs = TestData.Uniform(new Random(1), 600 * 5, 0, 9), ys = new float[600 * 3];
        predictor.Predict(x, y);
        predictor.PredictLabel(x);
        predictor.PredictBatch(xs, ys, maxThreads: 1);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                predictor.Predict(x, y);
                predictor.PredictProbabilities(x, y);
                predictor.PredictLabel(x);
            }

            predictor.PredictBatch(xs, ys, maxThreads: 1);
        }));
    }
}

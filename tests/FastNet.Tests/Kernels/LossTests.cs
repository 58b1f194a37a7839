using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

public class LossTests
{
    private delegate double DoubleLoss(double[] predictions);

    /// <summary>Checks an analytic gradient against central differences of an independent double-precision loss.</summary>
    private static void AssertGradientMatches(float[] predictions, float[] gradient, DoubleLoss loss, double tolerance = 1e-6)
    {
        double[] z = Array.ConvertAll(predictions, v => (double)v);
        const double h = 1e-6;
        for (int i = 0; i < z.Length; i++)
        {
            double keep = z[i];
            z[i] = keep + h; double plus = loss(z);
            z[i] = keep - h; double minus = loss(z);
            z[i] = keep;
            Assert.Equal((plus - minus) / (2 * h), gradient[i], tolerance);
        }
    }

    private static double ReferenceCrossEntropy(double[] z, double[] targets, int rows, int cols)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++) max = Math.Max(max, z[r * cols + j]);
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += Math.Exp(z[r * cols + j] - max);
            for (int j = 0; j < cols; j++) total -= targets[r * cols + j] * (z[r * cols + j] - max - Math.Log(sum));
        }

        return total / rows;
    }

    [Fact]
    public void SoftmaxCrossEntropyWithLabelsMatchesReferenceAndFiniteDifferences()
    {
        var rng = new Random(1);
        const int rows = 4, cols = 6;
        float[] logits = TestData.Uniform(rng, rows * cols, -3f, 3f), gradient = new float[rows * cols];
        int[] labels = [0, 5, 2, 2];
        var oneHot = new double[rows * cols];
        for (int r = 0; r < rows; r++) oneHot[r * cols + labels[r]] = 1;
        float loss = Losses.SoftmaxCrossEntropy(logits, labels, gradient, rows, cols);
        Assert.Equal(ReferenceCrossEntropy(Array.ConvertAll(logits, v => (double)v), oneHot, rows, cols), loss, 1e-6);
        AssertGradientMatches(logits, gradient, z => ReferenceCrossEntropy(z, oneHot, rows, cols));
        Assert.Equal(loss, Losses.SoftmaxCrossEntropy(logits, labels, Span<float>.Empty, rows, cols), 1e-6);
    }

    [Fact]
    public void SoftmaxCrossEntropyWithDistributionsMatchesFiniteDifferences()
    {
        var rng = new Random(2);
        const int rows = 3, cols = 5;
        float[] logits = TestData.Uniform(rng, rows * cols, -3f, 3f), gradient = new float[rows * cols];
        float[] targets = TestData.Uniform(rng, rows * cols, 0f, 1f);   // not normalised: the general gradient applies
        double[] t = Array.ConvertAll(targets, v => (double)v);
        float loss = Losses.SoftmaxCrossEntropy(logits, targets, gradient, rows, cols);
        Assert.Equal(ReferenceCrossEntropy(Array.ConvertAll(logits, v => (double)v), t, rows, cols), loss, 1e-6);
        AssertGradientMatches(logits, gradient, z => ReferenceCrossEntropy(z, t, rows, cols));
    }

    [Fact]
    public void SoftmaxCrossEntropyIsFiniteAndExactAtLogitsOfHundred()
    {
        float[] logits = [100f, -100f, 0f, -100f, 100f, 100f];
        var gradient = new float[6];
        // Row 0: label 1 sits 200 below the max: loss = 200 + log(1 + e^-100 + e^-200) = 200.
        // Row 1: label 1 ties the max with one other: loss = log 2.
        float loss = Losses.SoftmaxCrossEntropy(logits, [1, 1], gradient, 2, 3);
        Assert.Equal((200 + Math.Log(2)) / 2, loss, 1e-4);
        Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(0.5f, gradient[0], 1e-6f);      // (softmax 1 - onehot 0) / 2 rows
        Assert.Equal(-0.5f, gradient[1], 1e-6f);
        Assert.Equal(-0.25f, gradient[4], 1e-6f);    // (1/2 - 1) / 2
    }

    [Fact]
    public void HalfSquaredErrorGivesSeed000Cost()
    {
        // Seed 000: a3 = [1.326, 0] against y = [0, 1]: J = 0.5 * (1.326^2 + 1^2) = 1.379138.
        var gradient = new float[2];
        float loss = Losses.HalfSquaredError([1.326f, 0f], [0f, 1f], gradient, 1, 2);
        Assert.Equal(1.379138, loss, 1e-6);
        Assert.Equal([1.326f, -1f], gradient);
    }

    [Fact]
    public void SquaredErrorsMatchFiniteDifferences()
    {
        var rng = new Random(3);
        const int rows = 4, cols = 3;
        float[] p = TestData.Uniform(rng, rows * cols), t = TestData.Uniform(rng, rows * cols), g = new float[rows * cols];
        double Half(double[] z) { double s = 0; for (int i = 0; i < z.Length; i++) s += 0.5 * (z[i] - t[i]) * (z[i] - t[i]); return s / rows; }
        double Mean(double[] z) { double s = 0; for (int i = 0; i < z.Length; i++) s += (z[i] - t[i]) * (z[i] - t[i]); return s / z.Length; }

        Assert.Equal(Half(Array.ConvertAll(p, v => (double)v)), Losses.HalfSquaredError(p, t, g, rows, cols), 1e-6);
        AssertGradientMatches(p, g, Half);
        Assert.Equal(Mean(Array.ConvertAll(p, v => (double)v)), Losses.MeanSquaredError(p, t, g, rows, cols), 1e-6);
        AssertGradientMatches(p, g, Mean);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsMatchesFiniteDifferencesAndStaysFinite()
    {
        var rng = new Random(4);
        const int rows = 3, cols = 4;
        float[] z = TestData.Uniform(rng, rows * cols, -5f, 5f), t = TestData.Uniform(rng, rows * cols, 0f, 1f), g = new float[rows * cols];
        double Bce(double[] x)
        {
            double s = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double p = 1 / (1 + Math.Exp(-x[i]));
                s -= t[i] * Math.Log(p) + (1 - t[i]) * Math.Log(1 - p);
            }

            return s / x.Length;
        }

        Assert.Equal(Bce(Array.ConvertAll(z, v => (double)v)), Losses.BinaryCrossEntropyWithLogits(z, t, g, rows, cols), 1e-6);
        AssertGradientMatches(z, g, Bce);

        var extremeGradient = new float[2];
        float extreme = Losses.BinaryCrossEntropyWithLogits([100f, -100f], [0f, 1f], extremeGradient, 1, 2);
        Assert.Equal(100.0, extreme, 1e-4);   // each term is 100 + log(1 + e^-100)
        Assert.Equal([0.5f, -0.5f], extremeGradient);
    }

    [Fact]
    public void BadInputThrowsNamingTheArgument()
    {
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(
            () => Losses.SoftmaxCrossEntropy(new float[6], [0, 3], new float[6], 2, 3)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(
            () => Losses.SoftmaxCrossEntropy(new float[6], [0], new float[6], 2, 3)).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(
            () => Losses.SoftmaxCrossEntropy(new float[5], [0, 1], new float[6], 2, 3)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.HalfSquaredError(new float[6], new float[6], new float[5], 2, 3)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(
            () => Losses.MeanSquaredError(new float[6], new float[4], new float[6], 2, 3)).ParamName);
        float[] shared = new float[6];
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(
            () => Losses.SoftmaxCrossEntropy(shared, [0, 1], shared, 2, 3)).ParamName);
    }
}

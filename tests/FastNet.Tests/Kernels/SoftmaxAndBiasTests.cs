using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

public class SoftmaxAndBiasTests
{
    private static double[] ReferenceSoftmax(ReadOnlySpan<double> z)
    {
        double max = double.NegativeInfinity;
        foreach (double v in z) max = Math.Max(max, v);
        var e = new double[z.Length];
        double sum = 0;
        for (int i = 0; i < z.Length; i++) sum += e[i] = Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) e[i] /= sum;
        return e;
    }

    [Fact]
    public void ForwardMatchesReferenceAndStaysFiniteAtLargeLogits()
    {
        const int cols = 5;
        float[] x = [1f, 2f, 3f, 4f, 5f,   100f, -100f, 0f, 99f, 50f,   -100f, -100f, -100f, -100f, -100f,   1000f, 999f, -1000f, 0f, 1f];
        int rows = x.Length / cols;
        var y = new float[x.Length];
        Softmax.Forward(x, y, rows, cols);
        for (int r = 0; r < rows; r++)
        {
            double[] expected = ReferenceSoftmax(Array.ConvertAll(x[(r * cols)..((r + 1) * cols)], v => (double)v));
            for (int j = 0; j < cols; j++)
            {
                Assert.True(float.IsFinite(y[r * cols + j]));
                Assert.Equal(expected[j], y[r * cols + j], 1e-6);
            }
        }
    }

    /// <summary>Backward against finite differences of L(x) = sum_j dy_j * softmax(x)_j in double.</summary>
    [Fact]
    public void BackwardMatchesFiniteDifferences()
    {
        var rng = new Random(4);
        const int rows = 3, cols = 7;
        float[] x = TestData.Uniform(rng, rows * cols, -3f, 3f), dy = TestData.Uniform(rng, rows * cols);
        float[] y = new float[x.Length], dx = new float[x.Length];
        Softmax.Forward(x, y, rows, cols);
        Softmax.Backward(y, dy, dx, rows, cols);
        const double h = 1e-6;
        for (int r = 0; r < rows; r++)
        {
            double[] z = Array.ConvertAll(x[(r * cols)..((r + 1) * cols)], v => (double)v);
            double L(double[] v) { double[] s = ReferenceSoftmax(v); double sum = 0; for (int j = 0; j < cols; j++) sum += dy[r * cols + j] * s[j]; return sum; }
            for (int j = 0; j < cols; j++)
            {
                double keep = z[j];
                z[j] = keep + h; double plus = L(z);
                z[j] = keep - h; double minus = L(z);
                z[j] = keep;
                Assert.Equal((plus - minus) / (2 * h), dx[r * cols + j], 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(9, 21)]
    [InlineData(13, 300)]   // two 128-column register blocks, single vectors, a scalar tail
    [InlineData(200, 300)]  // rows in several cache-sized chunks
    public void BiasAddAndGradientMatchLoops(int rows, int cols)
    {
        var rng = new Random(5);
        float[] y = TestData.Uniform(rng, rows * cols), bias = TestData.Uniform(rng, cols), expected = (float[])y.Clone();
        for (int r = 0; r < rows; r++) for (int j = 0; j < cols; j++) expected[r * cols + j] += bias[j];
        Bias.Add(y, bias, rows, cols);
        Assert.Equal(expected, y);

        float[] dbias = TestData.Uniform(rng, cols);   // overwritten, not accumulated into
        Bias.Gradient(y, dbias, rows, cols);
        for (int j = 0; j < cols; j++)
        {
            double sum = 0, magnitude = 0;
            float inOrder = 0;   // rows added in order, in float: the documented summation order, so equal bits
            for (int r = 0; r < rows; r++)
            {
                sum += y[r * cols + j];
                magnitude += Math.Abs(y[r * cols + j]);
                inOrder += y[r * cols + j];
            }

            // Recursive summation in float is within rows x 2^-24 x sum |y| of the exact sum.
            Assert.Equal(sum, dbias[j], 1e-7 + rows * Math.Pow(2, -24) * magnitude);
            Assert.Equal(inOrder, dbias[j]);
        }
    }

    [Fact]
    public void ShortSpansAndNegativeSizesThrow()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Softmax.Forward(new float[6], new float[5], 2, 3)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.Forward(new float[6], new float[6], -2, 3)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Bias.Add(new float[6], new float[2], 2, 3)).ParamName);
        Assert.Equal("dbias", Assert.Throws<ArgumentException>(() => Bias.Gradient(new float[6], new float[2], 2, 3)).ParamName);
    }
}

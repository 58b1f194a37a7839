using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>
/// The epilogue's non-finite flag (the predictor's input check): set exactly when op(A) op(B) holds NaN or infinity,
/// on every kernel path, thread count and product size (the GEMV's one and two rows, edge tiles, several depth and
/// column blocks), and without changing a bit of C.
/// </summary>
public unsafe class GemmNonFiniteFlagTests
{
    public static TheoryData<int> Paths() => GemmTests.Paths();

    [Theory]
    [MemberData(nameof(Paths))]
    public void TheFlagIsSetExactlyWhenAnInputRowHoldsNaNOrInfinity(int pathValue)
    {
        var path = (GemmPath)pathValue;
        var rng = new Random(5);
        foreach ((int m, int n, int k) in new[] { (1, 37, 20), (2, 130, 784), (7, 19, 3), (64, 128, 784), (300, 70, 900) })
        {
            float[] a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            float[] b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            float[] bias = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
            // Weights that all turn +infinity into -infinity before the ReLU, which maps it to 0: only a look at the
            // product before the activation can see it.
            float[] negativeB = b.Select(v => -Math.Abs(v) - 0.01f).ToArray();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    int at = rng.Next(m * k);
                    float[] dirty = (float[])a.Clone();
                    dirty[at] = bad;
                    float[] weights = bad == float.PositiveInfinity ? negativeB : b;
                    Assert.Equal(1, Flag(dirty, weights, bias, m, n, k, threads, path, out _));
                }

                Assert.Equal(0, Flag(a, b, bias, m, n, k, threads, path, out float[] flagged));
                float[] plain = new float[m * n];
                Gemm.MultiplyCore(a, k, b, n, plain, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f,
                    new GemmEpilogue(bias, Activation.Relu), threads, path);
                Assert.Equal(plain, flagged);   // the flag reads C; it never changes it
            }
        }
    }

    [Fact]
    public void AFiniteProductThatOverflowsSetsItToo()
    {
        // Not only bad inputs: what the flag reports is the product, and the predictor then scans the inputs to tell.
        float[] a = [1e20f, 1e20f], b = [1e20f, 1f];
        Assert.Equal(1, Flag(a, b, [], 1, 1, 2, 1, Gemm.DefaultPath, out float[] c));
        Assert.True(float.IsPositiveInfinity(c[0]));
    }

    [Fact]
    public void TheTileCheckFindsEveryPlaceOfABadValue()
    {
        // NonFinite.AllFinite over a strided block: each position of a 6 x 21 block inside rows of 40, vector body and
        // tail, with the values around it finite and of either sign.
        var rng = new Random(9);
        float[] block = Enumerable.Range(0, 6 * 40).Select(_ => (float)rng.NextDouble() * 2e38f - 1e38f).ToArray();
        fixed (float* p = block)
        {
            Assert.True(NonFinite.AllFinite(p, 40, 6, 21));
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 40; c++)
                    foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                    {
                        float keep = block[r * 40 + c];
                        block[r * 40 + c] = bad;
                        Assert.Equal(c >= 21, NonFinite.AllFinite(p, 40, 6, 21));   // columns past 21 are outside the block
                        block[r * 40 + c] = keep;
                    }
        }
    }

    private static int Flag(float[] a, float[] b, float[] bias, int m, int n, int k, int threads, GemmPath path, out float[] c)
    {
        int flag = 0;
        c = new float[m * n];
        Gemm.MultiplyCore(a, k, b, n, c, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f,
            new GemmEpilogue(bias, Activation.Relu, &flag), threads, path);
        return flag;
    }
}

using System.Numerics.Tensors;
using FastNet.Kernels;
using FastNet.Training;

namespace FastNet.Tests.Kernels;

/// <summary>
/// The small per-step helpers that replaced TensorPrimitives calls on the training path (see Axpy): each against an
/// element-by-element reference and against the TensorPrimitives call it replaced, at every length around the
/// vector widths (body, overlapping last vector, scalar tail).
/// </summary>
public class StepHelperTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(0, 70), 127, 128, 129, 784, 1000, 8192];

    [Fact]
    public void AllFiniteFindsEveryNaNAndInfinityAtEveryPlace()
    {
        var rng = new Random(3);
        foreach (int n in Lengths)
        {
            float[] x = TestData.Uniform(rng, n, -1e3f, 1e3f);
            Assert.True(NonFinite.AllFinite(x), $"n={n}");
            // Every place for short spans; a sample of places for long ones.
            IEnumerable<int> places = n <= 200 ? Enumerable.Range(0, n) : [0, 1, 15, 16, 63, 64, n / 2, n - 17, n - 16, n - 2, n - 1];
            foreach (int i in places)
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    float keep = x[i];
                    x[i] = bad;
                    Assert.False(NonFinite.AllFinite(x), $"n={n}, {bad} at {i}");
                    Assert.Equal(i, NonFinite.IndexOf(x));
                    x[i] = keep;
                }
            }
        }
    }

    [Fact]
    public void AllFiniteAcceptsLargeFiniteValuesWhoseSumOverflows()
    {
        // A sum of the values (the check this replaced) reads these as infinite; each value is finite.
        foreach (int n in new[] { 2, 17, 100, 1000 })
        {
            float[] x = Enumerable.Repeat(float.MaxValue, n).ToArray();
            x[0] = -0f;
            Assert.True(NonFinite.AllFinite(x));
            Assert.Equal(-1, NonFinite.IndexOf(x));
        }
    }

    [Fact]
    public void AxpyMatchesTheElementLoopAndTensorPrimitivesBitForBit()
    {
        var rng = new Random(5);
        foreach (int n in Lengths)
        {
            float[] x = TestData.Uniform(rng, n, -2f, 2f), y = TestData.Uniform(rng, n, -2f, 2f);
            const float a = -0.0137f;
            var expected = new float[n];
            for (int i = 0; i < n; i++) expected[i] = (float)(a * x[i]) + y[i];   // product rounded, then the sum
            var viaTensorPrimitives = (float[])y.Clone();
            TensorPrimitives.MultiplyAdd(x, a, viaTensorPrimitives, viaTensorPrimitives);

            Axpy.Run(a, x, y);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(y[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(viaTensorPrimitives[i]), BitConverter.SingleToInt32Bits(y[i]));
            }
        }

        Assert.Throws<ArgumentException>(() => Axpy.Run(1f, new float[3], new float[4]));
    }

    [Fact]
    public void IndexOfMaxFollowsTheTensorPrimitivesRules()
    {
        float[][] cases =
        [
            [], [1f], [1f, 3f, 3f, 2f], [-0f, 0f], [0f, -0f], [-0f, -0f, 0f, 0f], [-5f, -1f, -3f],
            [1f, float.NaN, 7f, float.NaN], [float.NaN], [float.NegativeInfinity, float.NegativeInfinity],
            [2f, float.PositiveInfinity, float.PositiveInfinity],
        ];
        var rng = new Random(7);
        IEnumerable<float[]> random = Enumerable.Range(0, 500).Select(_ =>
        {
            // Few distinct values, so that ties are common.
            float[] row = new float[rng.Next(1, 40)];
            for (int i = 0; i < row.Length; i++) row[i] = rng.Next(-3, 4) * 0.5f;
            return row;
        });
        foreach (float[] row in cases.Concat(random))
        {
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(row), Trainer.IndexOfMax(row));
            Assert.Equal(ReferenceIndexOfMax(row), Trainer.IndexOfMax(row));
        }
    }

    /// <summary>The rules written out: the first NaN; else the first of the largest, +0 counted above -0.</summary>
    private static int ReferenceIndexOfMax(float[] row)
    {
        if (row.Length == 0) return -1;
        int nan = Array.FindIndex(row, float.IsNaN);
        if (nan >= 0) return nan;
        double Key(float v) => v == 0f ? (float.IsNegative(v) ? -double.Epsilon : double.Epsilon) : v;
        double best = row.Max(Key);
        return Array.FindIndex(row, v => Key(v) == best);
    }
}

using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>bfloat16 rounding against a reference that picks the nearer neighbour in double; the row product against double sums.</summary>
public sealed class BFloat16Tests
{
    /// <summary>The two bfloat16 neighbours of x, the nearer one; on a tie the one with an even last bit.</summary>
    private static ushort Reference(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        ushort down = (ushort)(bits >> 16), up = (ushort)(down + 1);
        if ((bits & 0xFFFF) == 0) return down;
        double Value(ushort b) => (b & 0x7FFF) == 0x7F80 ? Math.CopySign(Math.Pow(2, 128), x) : BFloat16.ToSingle(b);   // past the largest finite: 2^128
        double dDown = Math.Abs(x - Value(down)), dUp = Math.Abs(Value(up) - x);
        if (dDown != dUp) return dDown < dUp ? down : up;
        return (down & 1) == 0 ? down : up;
    }

    [Fact]
    public void RoundsToNearestEvenEverywhere()
    {
        var rng = new Random(1);
        var values = new List<float> { 0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, -float.MaxValue, 1e-40f, 3.0e38f };
        // Exact ties (low 16 bits 0x8000) with even and odd kept parts, and their neighbours.
        foreach (uint kept in new uint[] { 0x3F80, 0x3F81, 0x4049, 0x7F7F, 0x0001 })
            foreach (uint low in new uint[] { 0x7FFF, 0x8000, 0x8001 })
                values.Add(BitConverter.UInt32BitsToSingle((kept << 16) | low));
        for (int i = 0; i < 100_000; i++) values.Add(BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 0xFF800000L)));   // any finite bit pattern
        foreach (float x in values)
        {
            if (!float.IsFinite(x)) continue;
            Assert.Equal(Reference(x), BFloat16.FromSingle(x));
        }

        Assert.Equal(float.PositiveInfinity, BFloat16.ToSingle(BFloat16.FromSingle(float.PositiveInfinity)));
        Assert.Equal(float.NegativeInfinity, BFloat16.ToSingle(BFloat16.FromSingle(float.NegativeInfinity)));
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(float.NaN))));
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(0x7F800001)))));   // a NaN whose payload would round to infinity
    }

    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int k in new[] { 1, 3, 7, 9, 300 })   // 1-7: rows left over after steps of eight (the wide path); 9 and 300 both
            foreach (int n in new[] { 1, 5, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 127, 128, 129, 200, 511, 512, 545, 568, 1024 })
                data.Add(k, n);
        return data;
    }

    /// <summary>Each output within the dot-product error bound of a double sum of the same (bfloat16) weights. CI reruns it with AVX-512 and AVX2 off.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowProductMatchesADoubleSum(int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        float[] x = TestData.Uniform(rng, k, -2f, 2f), w = TestData.Uniform(rng, k * n, -1f, 1f);
        var b = new ushort[k * n];
        BFloat16.FromSingle(w, b);   // natural order, for the reference
        ushort[] packed = BFloat16.PackRows(w, k, n);
        Assert.Equal(b.Order(), packed.Order());   // a permutation of the same values
        float[] y = Enumerable.Repeat(float.NaN, n + 3).ToArray();   // written exactly over n
        BFloat16.MultiplyRow(x, packed, k, n, y);
        for (int j = 0; j < n; j++)
        {
            double sum = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double term = x[p] * (double)BFloat16.ToSingle(b[p * n + j]);
                sum += term;
                magnitude += Math.Abs(term);
            }

            Assert.True(Math.Abs(y[j] - sum) <= (k + 2) * 6e-8 * magnitude + 1e-30, $"k {k}, n {n}, column {j}: {y[j]} vs {sum}");
        }

        Assert.True(float.IsNaN(y[n]));
    }

    /// <summary>
    /// Each output is exactly the scalar chain sum = fma(x[p], w[p, j], sum) for p = 0 .. k-1 from 0: every vector path
    /// (the wide streams, the column blocks, the groups and the tail; CI reruns it with AVX-512 and AVX2 off) keeps that
    /// order, so the bits do not depend on the instruction set or on which path a width takes.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowProductIsTheFusedChainInRowOrder(int k, int n)
    {
        var rng = new Random(k * 1000 + n + 1);
        float[] x = TestData.Uniform(rng, k, -2f, 2f), w = TestData.Uniform(rng, k * n, -1f, 1f);
        var b = new ushort[k * n];
        BFloat16.FromSingle(w, b);
        float[] y = new float[n];
        BFloat16.MultiplyRow(x, BFloat16.PackRows(w, k, n), k, n, y);
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], BFloat16.ToSingle(b[p * n + j]), sum);
            Assert.True(BitConverter.SingleToInt32Bits(sum) == BitConverter.SingleToInt32Bits(y[j]), $"k {k}, n {n}, column {j}: {y[j]}, the chain gives {sum}");
        }
    }
}

using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>
/// Int8 quantization and the int8 row product: each path this CPU supports against exact integer sums in long, scaled in
/// double, and against each other bit for bit. CI runs them again with AVX-512 and with AVX2 off.
/// </summary>
public sealed class Int8Tests
{
    /// <summary>Every path the CPU (and the runtime's settings) can run here; the portable one always.</summary>
    public static TheoryData<string> SupportedPaths()
    {
        var data = new TheoryData<string>();
        foreach (Int8Path path in Enum.GetValues<Int8Path>())
            if (Int8Gemv.IsSupported(path)) data.Add(path.ToString());
        return data;
    }

    /// <summary>
    /// y_j = (sum_i q_x[i] q_w[i, j] - z sum_i q_w[i, j]) s_x s_j + b_j, with the integer parts in long and the rest in
    /// double, from the plain int8 values (not the packed layout).
    /// </summary>
    private static double[] Reference(byte[] qx, float scale, int zeroPoint, sbyte[] qw, float[] scales, float[] bias, int k, int n)
    {
        var y = new double[n];
        for (int j = 0; j < n; j++)
        {
            long dot = 0, columnSum = 0;
            for (int i = 0; i < k; i++)
            {
                dot += (long)qx[i] * qw[i * n + j];
                columnSum += qw[i * n + j];
            }

            y[j] = (dot - (long)zeroPoint * columnSum) * (double)scale * scales[j] + bias[j];
        }

        return y;
    }

    private static sbyte[] RandomWeights(Random rng, int length) => Enumerable.Range(0, length).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();

    /// <summary>x's levels padded with zeros to whole quads.</summary>
    private static byte[] Padded(byte[] levels) => [.. levels, .. new byte[(4 - levels.Length % 4) % 4]];

    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int k in new[] { 1, 3, 4, 5, 37, 784 })
            foreach (int n in new[] { 1, 7, 63, 64, 65, 128, 200 })
                data.Add(k, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowProductMatchesExactIntegerSumsOnEveryPath(int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        sbyte[] qw = RandomWeights(rng, k * n);
        float[] scales = TestData.Uniform(rng, n, 0.001f, 0.1f), bias = TestData.Uniform(rng, n, -1f, 1f);
        byte[] qx = Enumerable.Range(0, k).Select(_ => (byte)rng.Next(0, 128)).ToArray();
        const float scale = 0.0173f;
        int zeroPoint = rng.Next(0, 128);
        Int8Matrix w = Int8Matrix.FromValues(qw, scales, k, n);
        double[] expected = Reference(qx, scale, zeroPoint, qw, scales, bias, k, n);

        float[]? first = null;
        foreach (Int8Path path in Enum.GetValues<Int8Path>().Where(Int8Gemv.IsSupported))
        {
            var y = new float[n];
            Int8Gemv.MultiplyRow(Padded(qx), scale, zeroPoint, w, bias, y, path);
            // One float32 rounding of the integer, one of scale * s_j, one of the fused multiply-add: a few ulps of the terms.
            for (int j = 0; j < n; j++)
            {
                double magnitude = Math.Abs(expected[j] - bias[j]) + Math.Abs(bias[j]);
                Assert.True(Math.Abs(y[j] - expected[j]) <= 4e-7 * magnitude + 1e-30, $"{path}: y[{j}] = {y[j]}, expected {expected[j]}");
            }

            first ??= y;
            Assert.Equal(first, y);   // every path: the same bits
        }
    }

    /// <summary>Four rows at once (AVX-VNNI's weight-sharing kernel where available): each row the bits of its own row product.</summary>
    [Theory]
    [InlineData(37, 10)]
    [InlineData(784, 128)]
    [InlineData(5, 200)]
    [InlineData(70, 104)]   // a last panel of 40 columns: a partial slice of 32 and of 16
    public void BlocksOfRowsGiveTheBitsOfSingleRows(int k, int n)
    {
        var rng = new Random(k + n);
        Int8Matrix w = Int8Matrix.FromValues(RandomWeights(rng, k * n), TestData.Uniform(rng, n, 0.001f, 0.1f), k, n);
        float[] bias = TestData.Uniform(rng, n, -1f, 1f);
        int stride = w.QuadRows * 4 + 8;   // rows need not be packed tightly
        byte[] q = Enumerable.Range(0, Int8Gemv.RowBlock * stride).Select(i => i % stride < k ? (byte)rng.Next(0, 128) : (byte)0).ToArray();
        float[] scales = [0.01f, 0.2f, 1.5f, 0.003f];
        int[] zeroPoints = [0, 17, 127, 64];
        foreach (Int8Path path in Enum.GetValues<Int8Path>().Where(Int8Gemv.IsSupported))
        {
            var rows = new float[Int8Gemv.RowBlock * n];
            Int8Gemv.MultiplyRows(q, stride, scales, zeroPoints, w, bias, rows, path);
            for (int r = 0; r < Int8Gemv.RowBlock; r++)
            {
                var one = new float[n];
                Int8Gemv.MultiplyRow(q.AsSpan(r * stride, stride), scales[r], zeroPoints[r], w, bias, one, Int8Path.Portable);
                Assert.Equal(one, rows[(r * n)..((r + 1) * n)]);
            }
        }
    }

    /// <summary>
    /// The extremes: every input at the top level 127 against weights all +127 and all -127 in the widest layer allowed
    /// (no int16 pair saturates, no int32 sum overflows: 127 * 127 * 131,072 = 2,114,060,288), and the largest zero point.
    /// </summary>
    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void ExtremeLevelsAndTheWidestLayerStayExact(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        int k = Int8Matrix.MaxInputs, n = 3;
        var qw = new sbyte[k * n];
        for (int i = 0; i < k; i++)
        {
            qw[i * n] = 127;
            qw[i * n + 1] = -127;
            qw[i * n + 2] = (sbyte)(i % 2 == 0 ? 127 : -127);
        }

        Int8Matrix w = Int8Matrix.FromValues(qw, [1f, 1f, 1f], k, n);
        var top = new byte[k];
        Array.Fill(top, (byte)127);
        var y = new float[n];
        Int8Gemv.MultiplyRow(top, 1f, 0, w, new float[n], y, path);
        Assert.Equal([127f * 127 * k, -127f * 127 * k, 0f], y);   // both sums are exact in float32: 127 * 127 * 2^17 has 14 significant bits
        var block = new byte[Int8Gemv.RowBlock * k];
        Array.Fill(block, (byte)127);
        var rows = new float[Int8Gemv.RowBlock * n];
        Int8Gemv.MultiplyRows(block, k, [1f, 1f, 1f, 1f], [0, 0, 0, 0], w, new float[n], rows, path);
        for (int r = 0; r < Int8Gemv.RowBlock; r++) Assert.Equal([127f * 127 * k, -127f * 127 * k, 0f], rows[(r * n)..((r + 1) * n)]);

        // All inputs at level 0 with zero point 127: the correction term alone, -127 * sum of the column.
        Int8Gemv.MultiplyRow(new byte[k], 1f, 127, w, new float[n], y, path);
        Assert.Equal([-127f * 127 * k, 127f * 127 * k, 0f], y);
    }

    [Fact]
    public void WeightsQuantizeSymmetricallyPerColumn()
    {
        var rng = new Random(2);
        int k = 50, n = 70;
        float[] weights = TestData.Uniform(rng, k * n, -3f, 3f);
        for (int i = 0; i < k; i++) weights[i * n + 5] = 0f;   // an all-zero column
        weights[7 * n + 9] = 40f;                              // an outlier sets its column's step alone
        Int8Matrix w = Int8Matrix.Quantize(weights, k, n);
        for (int j = 0; j < n; j++)
        {
            double largest = Enumerable.Range(0, k).Max(i => Math.Abs((double)weights[i * n + j]));
            Assert.Equal(largest == 0 ? 1.0 : largest / 127, w.Scales[j], largest / 127 * 1e-6 + 1e-12);
            long sum = 0;
            for (int i = 0; i < k; i++)
            {
                sbyte q = w.Value(i, j);
                sum += q;
                Assert.InRange(q, -127, 127);
                Assert.True(Math.Abs(weights[i * n + j] - w.Scales[j] * (double)q) <= w.Scales[j] * (0.5 + 1e-5), $"({i}, {j})");
            }

            Assert.Equal(sum, w.ColumnSums[j]);
        }

        Assert.Equal(127, w.Value(7, 9));
        Assert.Equal(0, Enumerable.Range(0, k).Count(i => w.Value(i, 5) != 0));
        Assert.Throws<ArgumentException>(() => Int8Matrix.Quantize([1f, float.NaN], 2, 1));
        Assert.Throws<ArgumentException>(() => Int8Matrix.FromValues([-128], [1f], 1, 1));
        Assert.Throws<ArgumentException>(() => Int8Matrix.FromValues([1], [0f], 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Matrix.FromValues(new sbyte[Int8Matrix.MaxInputs + 1], [1f], Int8Matrix.MaxInputs + 1, 1));
    }

    public static TheoryData<string> Rows() => ["mixed", "positive", "negative", "zero", "constant", "tiny"];

    /// <summary>Activations: 7-bit levels over [min(0, min x), max(0, max x)], 0 exact, every value within half a step.</summary>
    [Theory]
    [MemberData(nameof(Rows))]
    public void ActivationsQuantizeToSevenBitsOverTheRowsRange(string kind)
    {
        // Vector blocks are 64 values on AVX-512, else (and below 64) 32: 31 is scalar only; 32 and 64 one block; 33, 63,
        // 65, 101 and 130 end with a block that overlaps the one before.
        foreach (int k in new[] { 101, 31, 32, 33, 63, 64, 65, 130 }) QuantizesToSevenBitsOverTheRowsRange(kind, k);
    }

    private static void QuantizesToSevenBitsOverTheRowsRange(string kind, int k)
    {
        var rng = new Random(kind.Length);
        float[] x = kind switch
        {
            "mixed" => TestData.Uniform(rng, k, -3f, 1f),
            "positive" => TestData.Uniform(rng, k, 0f, 5f),
            "negative" => TestData.Uniform(rng, k, -2f, -0.5f),
            "zero" => new float[k],
            "constant" => Enumerable.Repeat(0.75f, k).ToArray(),
            _ => TestData.Uniform(rng, k, -1e-30f, 1e-30f),
        };
        x[10] = 0f;
        var q = new byte[(k + 3) / 4 * 4];
        Array.Fill(q, (byte)0xAB);
        (float scale, int zeroPoint) = Int8Activations.Quantize(x, q);

        double low = Math.Min(0, x.Min()), high = Math.Max(0, x.Max());
        Assert.Equal(high == low ? 1.0 : (high - low) / 127, scale, 1e-6 * scale);
        Assert.InRange(zeroPoint, 0, 127);
        Assert.Equal(zeroPoint, q[10]);   // zero is exact
        if (low == 0) Assert.Equal(0, zeroPoint);
        for (int i = 0; i < k; i++)
        {
            Assert.InRange(q[i], 0, 127);
            Assert.True(Math.Abs(x[i] - scale * (double)(q[i] - zeroPoint)) <= scale * 0.5001, $"x[{i}] = {x[i]} -> {q[i]}");
            // The vector blocks and the scalar loop round the same way: round(x * (1 / scale)) + z, ties to even.
            Assert.Equal(Math.Clamp((int)MathF.Round(x[i] * (1f / scale)) + zeroPoint, 0, 127), q[i]);
        }

        Assert.All(q[k..], level => Assert.Equal(0, level));   // the quad's padding
        if (kind == "constant") Assert.All(q[..k], level => Assert.True(level is 0 or 127));
    }

    [Fact]
    public void RowsHoldingNaNOrInfinityGetANaNScale()
    {
        var q = new byte[8];
        Assert.True(float.IsNaN(Int8Activations.Quantize([1f, float.NaN, 2f], q).Scale));
        Assert.True(float.IsNaN(Int8Activations.Quantize([1f, float.PositiveInfinity], q).Scale));
        // In the vector blocks too, at each place within a block (the raw min/max instructions could drop a NaN).
        foreach (int width in new[] { 50, 100 })   // blocks of 32 and of 64 (on AVX-512)
        foreach (int at in Enumerable.Range(0, 40).Concat(Enumerable.Range(width - 10, 10)))   // and in the last block, which overlaps
        {
            var wide = new byte[width];
            float[] x = TestData.Uniform(new Random(at), width);
            x[at] = float.NaN;
            Assert.True(float.IsNaN(Int8Activations.Quantize(x, wide).Scale), $"NaN at {at}");
            x[at] = float.NegativeInfinity;
            Assert.True(float.IsNaN(Int8Activations.Quantize(x, wide).Scale), $"-infinity at {at}");
        }
    }
}

using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

public class GemmTests
{
    /// <summary>Every micro-kernel path this machine can run (CI also runs these tests with AVX-512 and AVX2 disabled).</summary>
    public static TheoryData<int> Paths()
    {
        var data = new TheoryData<int>();
        foreach (GemmPath path in Enum.GetValues<GemmPath>())
        {
            bool supported = path switch
            {
                GemmPath.Avx512 => Avx512Kernel6x64.IsSupported,
                GemmPath.Avx2 => Avx2Kernel6x16.IsSupported,
                _ => true,
            };
            if (supported) data.Add((int)path);
        }

        return data;
    }

    private static readonly (Transpose A, Transpose B)[] AllTransposes =
    [
        (Transpose.None, Transpose.None), (Transpose.None, Transpose.Transposed),
        (Transpose.Transposed, Transpose.None), (Transpose.Transposed, Transpose.Transposed),
    ];

    /// <summary>Runs one GEMM on random data (optionally with padded leading dimensions) and checks it against the reference.</summary>
    private static void Check(GemmPath path, int m, int n, int k, Transpose transA, Transpose transB,
        float alpha = 1f, float beta = 0f, int pad = 0, int seed = 1, bool withBias = false,
        Activation activation = Activation.None, int maxThreads = 1)
    {
        var rng = new Random(seed + 7919 * m + 104729 * n + 31 * k);
        bool tA = transA == Transpose.Transposed, tB = transB == Transpose.Transposed;
        int lda = (tA ? m : k) + pad, ldb = (tB ? k : n) + pad, ldc = n + pad;
        float[] a = TestData.Uniform(rng, Math.Max(1, (tA ? k : m) * lda));
        float[] b = TestData.Uniform(rng, Math.Max(1, (tB ? n : k) * ldb));
        float[] c = TestData.Uniform(rng, m * ldc);
        float[]? bias = withBias ? TestData.Uniform(rng, n) : null;
        if (beta == 0f)
        {
            // beta == 0 must not read C: poison the part of C it covers.
            for (int i = 0; i < m; i++) Array.Fill(c, float.NaN, i * ldc, n);
        }

        var (expected, bound) = GemmReference.Compute(a, lda, tA, b, ldb, tB, c, ldc, m, n, k, alpha, beta, bias, activation);
        float[] otherOrder = (float[])c.Clone(), original = (float[])c.Clone();
        Gemm.MultiplyCore(a, lda, b, ldb, c, ldc, m, n, k, transA, transB, alpha, beta,
            new GemmEpilogue(bias, activation), maxThreads, path);
        string context = $"{path} m={m} n={n} k={k} {transA}/{transB} alpha={alpha} beta={beta} pad={pad} bias={withBias} {activation} threads={maxThreads}";
        GemmReference.AssertClose(c, expected, bound, context);

        // The other loop order (B micro-panel in L1 instead of A, or back) and the other way of reading a row-major A or
        // a narrow row-major B (packed instead of in place, or back) compute every tile the same way.
        float[] otherPacking = (float[])otherOrder.Clone(), otherBPacking = (float[])otherOrder.Clone();
        Gemm.MultiplyCore(a, lda, b, ldb, otherOrder, ldc, m, n, k, transA, transB, alpha, beta,
            new GemmEpilogue(bias, activation), maxThreads, path, keepBPanelInL1: !GemmBlocking.KeepsBPanelInL1);
        Assert.True(c.AsSpan().SequenceEqual(otherOrder), "loop orders differ: " + context);
        Gemm.MultiplyCore(a, lda, b, ldb, otherPacking, ldc, m, n, k, transA, transB, alpha, beta,
            new GemmEpilogue(bias, activation), maxThreads, path, packRowMajorA: !GemmBlocking.PacksRowMajorA);
        Assert.True(c.AsSpan().SequenceEqual(otherPacking), "A packed and in place differ: " + context);
        Gemm.MultiplyCore(a, lda, b, ldb, otherBPacking, ldc, m, n, k, transA, transB, alpha, beta,
            new GemmEpilogue(bias, activation), maxThreads, path, packRowMajorB: !GemmBlocking.PacksRowMajorB);
        Assert.True(c.AsSpan().SequenceEqual(otherBPacking), "B packed and in place differ: " + context);

        // B packed once (a frozen layer's weights) instead of per call: the same panels, so the same bits, in both loop orders.
        if (m == 0 || n == 0 || k == 0) return;
        PrepackedB packed = PrepackedB.Pack(b, ldb, tB, k, n, path);
        foreach (bool bInL1 in new[] { false, true })
        {
            float[] prepacked = (float[])original.Clone();
            Gemm.MultiplyCore(a, lda, b, ldb, prepacked, ldc, m, n, k, transA, transB, alpha, beta,
                new GemmEpilogue(bias, activation), maxThreads, path, keepBPanelInL1: bInL1, packedB: packed);
            Assert.True(c.AsSpan().SequenceEqual(prepacked), $"B packed once differs (B panel in L1: {bInL1}): " + context);
        }
    }

    /// <summary>
    /// Both loop orders (A or B micro-panel kept in L1), each with a row-major A read in place and packed, give the same
    /// bits on products that cross every block boundary of this host's blocks (several depth blocks, column blocks and
    /// MB / MC row blocks; CI reruns with small caches): every transpose, packed transposed A (C wider than NB), rows
    /// gathered from a larger A, an epilogue, alpha and beta, 1 and 2 threads; and with B packed once for all calls
    /// (<see cref="PrepackedB"/>). Beta == 0 runs on a C full of NaN, so a tile one variant skipped would show.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void LoopOrdersAndPackingsGiveTheSameBits(int pathId)
    {
        var path = (GemmPath)pathId;
        var rng = new Random(11);
        int m = Math.Max(2 * GemmBlocking.MC, GemmBlocking.MB) + 7, n = 2 * GemmBlocking.NB + 21, k = 2 * GemmBlocking.KC + 13;
        foreach (var (ta, tb) in AllTransposes)
            foreach (int threads in new[] { 1, 2 })
                foreach (bool gathered in new[] { false, true })
                {
                    bool tA = ta == Transpose.Transposed, tB = tb == Transpose.Transposed;
                    int storedRows = (tA ? k : m) + (gathered ? 50 : 0), lda = (tA ? m : k) + 3;
                    float[] a = TestData.Uniform(rng, storedRows * lda), b = TestData.Uniform(rng, (tB ? n : k) * (tB ? k : n));
                    float[] bias = TestData.Uniform(rng, n);
                    int[] rows = gathered ? Enumerable.Range(0, tA ? k : m).Select(_ => rng.Next(storedRows)).ToArray() : [];
                    float beta = threads == 1 ? 0f : 0.5f;
                    float[] first = beta == 0f ? Enumerable.Repeat(float.NaN, m * n).ToArray() : TestData.Uniform(rng, m * n);
                    var epilogue = new GemmEpilogue(bias, Activation.Relu);
                    ReadOnlySpan<float> stored = a.AsSpan(0, (storedRows - 1) * lda + (tA ? m : k));
                    float[] reference = (float[])first.Clone();
                    Gemm.MultiplyCore(stored, lda, b, tB ? k : n, reference, n, m, n, k, ta, tb, 0.75f, beta, epilogue, threads, path, rows,
                        keepBPanelInL1: false, packRowMajorA: false);
                    string context = $"{path} {ta}/{tb} threads={threads} gathered={gathered} (m={m} n={n} k={k})";
                    Assert.False(reference.Any(float.IsNaN), "tiles left unwritten: " + context);
                    PrepackedB packedB = PrepackedB.Pack(b, tB ? k : n, tB, k, n, path);
                    foreach ((bool bInL1, bool packA, bool packedOnce) in new[]
                        { (true, false, false), (false, true, false), (true, true, false), (false, false, true), (true, false, true), (false, true, true) })
                    {
                        float[] variant = (float[])first.Clone();
                        Gemm.MultiplyCore(stored, lda, b, tB ? k : n, variant, n, m, n, k, ta, tb, 0.75f, beta, epilogue, threads, path, rows,
                            keepBPanelInL1: bInL1, packRowMajorA: packA, packedB: packedOnce ? packedB : null);
                        Assert.True(reference.AsSpan().SequenceEqual(variant), $"B panel in L1 {bInL1}, A packed {packA}, B packed once {packedOnce} differs: " + context);
                    }
                }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EverySize1To70InEachDimension(int pathId)
    {
        var path = (GemmPath)pathId;
        var rng = new Random(70);
        for (int s = 1; s <= 70; s++)
        {
            foreach (var (ta, tb) in AllTransposes)
            {
                Check(path, s, rng.Next(1, 71), rng.Next(1, 71), ta, tb);
                Check(path, rng.Next(1, 71), s, rng.Next(1, 71), ta, tb);
                Check(path, rng.Next(1, 71), rng.Next(1, 71), s, ta, tb);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PrimeShapes(int pathId)
    {
        int[][] shapes = [[2, 3, 5], [7, 11, 13], [17, 19, 23], [31, 37, 41], [97, 101, 103], [127, 131, 137], [13, 257, 7]];
        foreach (int[] s in shapes)
            foreach (var (ta, tb) in AllTransposes)
                Check((GemmPath)pathId, s[0], s[1], s[2], ta, tb);
    }

    /// <summary>One below, at and one above every tile and block size: MR (4, 6), NR (8..64), the narrow edge widths, KC, NB, MB.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void TailsAroundEveryTileAndBlockSize(int pathId)
    {
        var path = (GemmPath)pathId;
        int[] rows = [3, 4, 5, 6, 7, 11, 12, 13, 65];
        int[] cols = [7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129];
        int[] depths = [1, 2, GemmBlocking.KC - 1, GemmBlocking.KC, GemmBlocking.KC + 1];
        var rng = new Random(3);
        foreach (int m in rows)
            foreach (int n in cols)
            {
                var (ta, tb) = AllTransposes[rng.Next(4)];
                Check(path, m, n, depths[rng.Next(depths.Length)], ta, tb);
            }

        // Past every cache block at once: M > MB, N > NB, K > 2 * KC.
        foreach (var (ta, tb) in AllTransposes)
            Check(path, GemmBlocking.MB + 7, GemmBlocking.NB + 9, 2 * GemmBlocking.KC + 3, ta, tb);

        // Deeper than KC but taken whole where B is narrow (GemmBlocking.DepthBlock; up to WholeDepth, from L1d), with the
        // narrow edges and partial panels and an epilogue in that one pass; and just past it, in blocks of KC again.
        foreach (var (ta, tb) in AllTransposes)
            foreach (int n in new[] { 10, 70, 129 })
            {
                Check(path, 13, n, Math.Max(GemmBlocking.KC + 9, GemmBlocking.WholeDepth - 3), ta, tb, withBias: true, activation: Activation.Relu);
                Check(path, 7, n, GemmBlocking.WholeDepth + 1, ta, tb, beta: 0.5f);
            }

        // B blocks of several full panels and a partial one (600 = 384 + 3 x 64 + 24; 1050 = 2 x 384 + 4 x 64 + 26), with
        // one and with several depth blocks (the column blocks then go outermost): under these few rows a row-major B is
        // read in place (GemmBlocking.ReadsWideBInPlace), a transposed one packed, and Check packs the row-major one too.
        foreach (var (ta, tb) in AllTransposes)
        {
            Check(path, 9, 600, 50, ta, tb, beta: 0.5f);
            Check(path, 13, 1050, GemmBlocking.KC + 20, ta, tb, withBias: true, activation: Activation.Relu);
        }
    }

    /// <summary>
    /// A row-major B wider than NB under at most <see cref="GemmBlocking.WideBInPlaceMaxRows"/> rows of C is read in place
    /// (<see cref="GemmBlocking.ReadsWideBInPlace(int, int, nint)"/>): right against the reference, and the same bits as packed (Check
    /// also runs it with FASTNET_GEMM_PACK_B flipped, and packed once), across column blocks and depth blocks, with a
    /// partial last panel, an epilogue and beta, on 1 and 2 threads; at the row limit and one past it, and with rows
    /// 4 KiB apart (packed where the L2 sets cannot hold them); and under a transposed A, the GRU's input-weight
    /// gradient X^T dProjections.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void WideRowMajorBUnderFewRows(int pathId)
    {
        var path = (GemmPath)pathId;
        int n = 2 * GemmBlocking.NB + 21, k = GemmBlocking.KC + 13;
        int fourKiBRows = (1024 - n % 1024) % 1024;   // the padding that puts B's rows 4 KiB apart
        foreach (int m in new[] { 3, 28, GemmBlocking.WideBInPlaceMaxRows, GemmBlocking.WideBInPlaceMaxRows + 1 })
            foreach (int threads in new[] { 1, 2 })
                foreach (int pad in new[] { 0, fourKiBRows })
                    Check(path, m, n, k, Transpose.None, Transpose.None, beta: 0.5f, pad: pad, withBias: true, activation: Activation.Relu, maxThreads: threads);
        Check(path, 28, n, k, Transpose.Transposed, Transpose.None, maxThreads: 2);
    }

    /// <summary>
    /// The rule itself: few rows, and rows spread over enough L2 sets: rows 2^b bytes apart (b the power of two in their
    /// distance, at least a 64-byte line) are read in place only while L2 / 2^b is at least 1.5 depth blocks.
    /// </summary>
    [Fact]
    public void WideBIsReadInPlaceOnlyUnderFewRowsWhereL2SetsHoldADepthBlock()
    {
        int most = GemmBlocking.WideBInPlaceMaxRows, kc = 256;
        long l2 = GemmBlocking.L2Bytes;
        Assert.True(GemmBlocking.ReadsWideBInPlace(most, kc, 1000));     // 4000 bytes: 32 = 2^5 in it, under a line
        Assert.False(GemmBlocking.ReadsWideBInPlace(most + 1, kc, 1000));
        // The smallest power of two past L2 / (1.5 kc) bytes: rows that far apart (times an odd number) overfill their
        // sets, rows half as far apart do not.
        long tooFar = 64;
        while (2 * l2 >= 3 * kc * tooFar) tooFar *= 2;
        Assert.False(GemmBlocking.ReadsWideBInPlace(28, kc, (nint)(3 * tooFar / 4)));
        if (tooFar > 64) Assert.True(GemmBlocking.ReadsWideBInPlace(28, kc, (nint)(3 * tooFar / 8)));
        Assert.Equal(2 * (l2 / tooFar) >= 3 * 16, GemmBlocking.ReadsWideBInPlace(28, 16, (nint)(3 * tooFar / 4)));   // a shallow block fits where a deep one does not
        // On a 512 KiB L2 (Zen 3): rows 2 KiB apart (512 floats) are packed under depth blocks of 264 and 256 (the three
        // blocks of K = 784), rows 768 floats apart (1 KiB is the power of two in 3 KiB) and the GRU's 384 are read in
        // place. On a 1 MiB L2 (Zen 4, Zen 5) rows 2 KiB apart fit at depth 264, rows 4 KiB apart do not.
        const long zen3 = 512 << 10, zen5 = 1 << 20;
        Assert.False(GemmBlocking.ReadsWideBInPlace(28, 264, 512, zen3));
        Assert.False(GemmBlocking.ReadsWideBInPlace(28, 256, 512, zen3));
        Assert.True(GemmBlocking.ReadsWideBInPlace(28, 264, 768, zen3));
        Assert.True(GemmBlocking.ReadsWideBInPlace(28, 360, 384, zen3));
        Assert.True(GemmBlocking.ReadsWideBInPlace(28, 264, 512, zen5));
        Assert.False(GemmBlocking.ReadsWideBInPlace(28, 264, 1024, zen5));
    }

    /// <summary>
    /// A K past KC is one depth block where B is narrow and the whole-depth A micro-panel fits (K up to WholeDepth, B no
    /// larger than a KC x NB block with N rounded up to 64), and equal blocks of at most KC otherwise; K up to KC is always
    /// one block. Worked on this host's blocks (CI reruns with small caches, where WholeDepth differs).
    /// </summary>
    [Fact]
    public void NarrowProductsTakeTheirWholeDepthUpToWholeDepth()
    {
        int kc = GemmBlocking.KC, nb = GemmBlocking.NB, whole = GemmBlocking.WholeDepth;
        Assert.Equal(kc - 8, GemmBlocking.DepthBlock(kc - 13, nb + 1));   // up to KC: one block, rounded up to 8, however wide
        int k = whole - 3;
        foreach (int n in new[] { 10, 64, 65, 200, nb, nb + 1 })
        {
            bool fits = (long)k * ((n + 63) / 64 * 64) <= (long)kc * nb;   // B no larger than a KC x NB block, in 64-column panels
            int depth = GemmBlocking.DepthBlock(k, n);
            if (fits) Assert.Equal(whole, depth);
            else Assert.True(depth <= kc && (k + depth - 1) / depth == (k + kc - 1) / kc, $"n={n}: the fewest blocks of at most KC, not {depth}");
        }

        Assert.True(GemmBlocking.DepthBlock(whole + 1, 10) <= kc, "past WholeDepth: blocks of KC");
    }

    /// <summary>
    /// The last row panel (M mod MR rows) runs a kernel compiled for that many rows on A and C in place: it must
    /// write nothing past row M nor into the padding columns, whatever its row count and width.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void ShortRowPanelsWriteOnlyTheirRows(int pathId)
    {
        var path = (GemmPath)pathId;
        const float sentinel = 12345f;
        var rng = new Random(11);
        foreach (int m in new[] { 3, 4, 5, 7, 8, 9, 10, 11, 13, 64 })
            foreach (int n in new[] { 10, 16, 64, 128 })
                foreach (float beta in new[] { 0f, 1f })
                {
                    int k = 37, ldc = n + 3;
                    float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
                    float[] storage = new float[m * ldc + 64];
                    Array.Fill(storage, sentinel);
                    float[] c = new float[m * ldc];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) storage[i * ldc + j] = c[i * ldc + j] = (float)rng.NextDouble();

                    var (expected, bound) = GemmReference.Compute(a, k, false, b, n, false, c, ldc, m, n, k, 1f, beta, null, Activation.None);
                    Gemm.MultiplyCore(a, k, b, n, storage.AsSpan(0, (m - 1) * ldc + n), ldc, m, n, k, Transpose.None, Transpose.None,
                        1f, beta, default, 1, path);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                            Assert.True(Math.Abs(storage[i * ldc + j] - expected[i * ldc + j]) <= bound[i * ldc + j], $"{path} m={m} n={n} ({i}, {j})");
                    for (int i = 0; i < storage.Length; i++)
                        if (i >= m * ldc || i % ldc >= n)
                            Assert.True(storage[i] == sentinel, $"{path} m={m} n={n} beta={beta}: element {i} outside C was written");
                }
    }

    /// <summary>
    /// A left operand given as rows of a larger matrix (a mini-batch where its samples lie) gives the same bits as
    /// the same rows copied out first, through every path: GEMV (1-2 rows), short row panels, threads, epilogue.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void GatheredRowsEqualACopyOfThoseRows(int pathId)
    {
        var path = (GemmPath)pathId;
        var rng = new Random(5);
        const int stored = 300;
        foreach (int m in new[] { 1, 2, 5, 64, 67 })
            foreach (int n in new[] { 10, 128, 130 })
                foreach (int k in new[] { 7, 200 })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        int lda = k + 3;
                        float[] a = TestData.Uniform(rng, stored * lda), b = TestData.Uniform(rng, k * n), bias = TestData.Uniform(rng, n);
                        int[] rows = Enumerable.Range(0, m).Select(_ => rng.Next(stored)).ToArray();
                        rows[^1] = stored - 1;   // the last stored row: nothing past it may be read
                        float[] copy = rows.SelectMany(r => a.AsSpan(r * lda, k).ToArray()).ToArray();
                        float[] expected = new float[m * n], actual = new float[m * n];
                        var epilogue = new GemmEpilogue(bias, Activation.Relu);
                        Gemm.MultiplyCore(copy, k, b, n, expected, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f, epilogue, threads, path);
                        Gemm.MultiplyCore(a.AsSpan(0, (stored - 1) * lda + k), lda, b, n, actual, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f,
                            epilogue, threads, path, rows);
                        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{path} m={m} n={n} k={k} threads={threads}");
                    }
    }

    /// <summary>
    /// With a transposed A the gathered stored rows are the depth steps (X^T dZ over a mini-batch where it lies): the
    /// same bits as on a copy, through the in-place path (C at most 384 wide), the packed one (wider), short row
    /// panels, 1-2 rows, alpha and beta (the fused SGD update), and threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void GatheredDepthOfATransposedAEqualsACopy(int pathId)
    {
        var path = (GemmPath)pathId;
        var rng = new Random(6);
        const int stored = 90;
        foreach (int m in new[] { 1, 2, 7, 130 })
            foreach (int n in new[] { 10, 64, 400 })
                foreach (int k in new[] { 3, 64 })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        int lda = m + 5;
                        float[] a = TestData.Uniform(rng, stored * lda), b = TestData.Uniform(rng, k * n), c0 = TestData.Uniform(rng, m * n);
                        int[] rows = Enumerable.Range(0, k).Select(_ => rng.Next(stored)).ToArray();
                        rows[^1] = stored - 1;
                        float[] copy = rows.SelectMany(r => a.AsSpan(r * lda, m).ToArray()).ToArray();   // K x M
                        float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                        Gemm.MultiplyCore(copy, m, b, n, expected, n, m, n, k, Transpose.Transposed, Transpose.None, -0.1f, 1f, default, threads, path);
                        Gemm.MultiplyCore(a.AsSpan(0, (stored - 1) * lda + m), lda, b, n, actual, n, m, n, k, Transpose.Transposed, Transpose.None,
                            -0.1f, 1f, default, threads, path, rows);
                        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{path} m={m} n={n} k={k} threads={threads}");
                    }
    }

    [Fact]
    public void GatheredRowsOutsideAOrOfTheWrongCountAreRejected()
    {
        float[] a = new float[10 * 4], b = new float[4 * 3], c = new float[2 * 3];
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyRows(a, 4, new[] { 0, 10 }, b, 3, c, 3, 2, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyRows(a, 4, new[] { -1, 0 }, b, 3, c, 3, 2, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyRows(a, 3, new[] { 0, 1 }, b, 3, c, 3, 2, 3, 4));   // lda < k
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyRows(a, 4, new[] { 0, 1, 2 }, b, 3, c, 3, 2, 3, 4));      // M is 2
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyRows(a, 4, new[] { 0, 1 }, b, 3, c, 3, 2, 3, 4, transA: Transpose.Transposed));   // K is 4
        Gemm.MultiplyRows(a, 4, new[] { 9, 0 }, b, 3, c, 3, 2, 3, 4);   // the last whole row is fine
        Gemm.MultiplyRows(a, 4, new[] { 9, 0, 3, 3 }, b, 3, c, 3, 2, 3, 4, transA: Transpose.Transposed);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AlphaBetaAndWideLeadingDimensions(int pathId)
    {
        var path = (GemmPath)pathId;
        float[] alphas = [1f, -0.5f, 2f];
        float[] betas = [0f, 1f, 0.5f, -1.5f];
        foreach (float alpha in alphas)
            foreach (float beta in betas)
                foreach (var (ta, tb) in AllTransposes)
                {
                    Check(path, 1, 37, 29, ta, tb, alpha, beta, pad: 3);      // GEMV path
                    Check(path, 2, 33, 45, ta, tb, alpha, beta, pad: 5);
                    Check(path, 23, 70, 300, ta, tb, alpha, beta, pad: 7);   // packed path, two depth blocks
                }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void FusedBiasAndActivation(int pathId)
    {
        foreach (Activation act in Enum.GetValues<Activation>())
            foreach (var (ta, tb) in AllTransposes)
            {
                Check((GemmPath)pathId, 1, 130, 77, ta, tb, withBias: true, activation: act);
                Check((GemmPath)pathId, 45, 130, 300, ta, tb, beta: 0.5f, withBias: true, activation: act, pad: 2);
                Check((GemmPath)pathId, 45, 70, 33, ta, tb, withBias: false, activation: act);
            }
    }

    /// <summary>One- and two-row products with at least 256 columns stream B row by row (the wide GEMV); 255 does not.</summary>
    [Fact]
    public void WideGemvMatchesReference()
    {
        foreach (int k in new[] { 1, 3, 4, 7, 64, 785 })
            foreach (int n in new[] { 255, 256, 384, 527, 1024 })
                foreach (var (ta, tb) in AllTransposes)
                {
                    Check(Gemm.DefaultPath, 1, n, k, ta, tb, alpha: 0.5f, pad: 3, withBias: true, activation: Activation.Relu);
                    Check(Gemm.DefaultPath, 2, n, k, ta, tb);
                    Check(Gemm.DefaultPath, 1, n, k, ta, tb, beta: 1.5f);   // beta != 0 keeps the column-block path
                }
    }

    /// <summary>
    /// Without AVX-512, a wide one-row product streams B row by row over the columns the 8-vector column blocks would take,
    /// and the rest as before: every column keeps the column-block path's bits (the same chain of multiply-adds from 0).
    /// With AVX-512 the columns of whole 128-column blocks agree (its wide path computes the rest differently).
    /// </summary>
    [Fact]
    public unsafe void WideGemvGivesTheColumnBlocksBits()
    {
        foreach (int k in new[] { 1, 3, 4, 7, 785 })
            foreach (int n in new[] { 256, 300, 1024, 1031 })
                foreach (float alpha in new[] { 1f, 0.5f })
                    foreach (int incX in new[] { 1, 2 })
                    {
                        var rng = new Random(31 * k + n);
                        int ldb = n + 3;
                        float[] x = TestData.Uniform(rng, k * incX), b = TestData.Uniform(rng, k * ldb);
                        float[] streamed = new float[n], blocks = new float[n];
                        fixed (float* px = x, pb = b, ps = streamed, pc = blocks)
                        {
                            Gemv.Run(px, incX, pb, ldb, transB: false, n, k, ps, alpha, 0f, bias: null, Activation.None);
                            Gemv.RowMajorColumns(px, incX, pb, ldb, 0, n, k, pc, alpha, 0f);
                        }

                        int same = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? n / 128 * 128 : n;
                        for (int j = 0; j < same; j++)
                            Assert.True(BitConverter.SingleToInt32Bits(streamed[j]) == BitConverter.SingleToInt32Bits(blocks[j]),
                                $"k {k}, n {n}, alpha {alpha}, incX {incX}, column {j}: {streamed[j]} streamed, {blocks[j]} in blocks");
                    }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void MultiThreadedMatchesReference(int pathId)
    {
        foreach (var (ta, tb) in AllTransposes)
            Check((GemmPath)pathId, 130, 200, 300, ta, tb, beta: 0.5f, withBias: true, activation: Activation.Relu, maxThreads: 3);
    }

    [Fact]
    public void ZeroDepthOrZeroAlphaScalesCAndReadsNeitherOperand()
    {
        float[] c = [1f, 2f, 3f, 4f, 5f, 6f];
        Gemm.Multiply(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, c, 2, 3, 0, beta: 2f);
        Assert.Equal([2f, 4f, 6f, 8f, 10f, 12f], c);

        float[] nan = [float.NaN, float.NaN];
        float[] d = [1f, -1f];
        Gemm.Multiply(nan, 1, nan, 2, d, 2, 1, 2, 1, alpha: 0f, beta: 0f, epilogue: new GemmEpilogue([0.5f, -0.5f], Activation.Relu));
        Assert.Equal([0.5f, 0f], d);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void BitwiseIdenticalForThreadCounts1To8(int pathId)
    {
        var path = (GemmPath)pathId;
        var rng = new Random(8);
        foreach (var (ta, tb) in AllTransposes)
        {
            const int m = 203, n = 301, k = 517;
            float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n), bias = TestData.Uniform(rng, n);
            float[] c0 = TestData.Uniform(rng, m * n);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 8 })
            {
                float[] c = (float[])c0.Clone();
                Gemm.MultiplyCore(a, ta == Transpose.None ? k : m, b, tb == Transpose.None ? n : k, c, n, m, n, k, ta, tb,
                    0.75f, 0.5f, new GemmEpilogue(bias, Activation.Tanh), threads, path);
                if (first is null) first = c;
                else Assert.True(first.AsSpan().SequenceEqual(c), $"{path} {ta}/{tb}: {threads} threads differ from 1 thread");
            }
        }
    }

    [Fact]
    public void SteadyStateCallsAllocateNothingOnOneThread()
    {
        var rng = new Random(5);
        float[] a = TestData.Uniform(rng, 64 * 784), b = TestData.Uniform(rng, 784 * 128), c = new float[784 * 128];
        float[] bias = TestData.Uniform(rng, 128), x = TestData.Uniform(rng, 784), y = new float[128];
        void Calls()
        {
            Gemm.Multiply(a, b, c, 64, 128, 784, maxThreads: 1);
            Gemm.Multiply(a, 784, b, 128, c, 128, 64, 128, 784, epilogue: new GemmEpilogue(bias, Activation.Sigmoid), maxThreads: 1);
            Gemm.Multiply(a, b, c, 64, 784, 128, Transpose.None, Transpose.Transposed, maxThreads: 1);   // dX = dY W^T shape
            Gemm.Multiply(a, b, c, 128, 128, 64, Transpose.Transposed, Transpose.None, maxThreads: 1);    // dW = X^T dY shape
            Gemm.Multiply(x, 784, b, 128, y, 128, 1, 128, 784, epilogue: new GemmEpilogue(bias, Activation.Relu));  // GEMV
        }

        Calls();
        Assert.Equal(0, TestData.AllocatedBytes(Calls));
    }

    [Fact]
    public void BadArgumentsThrowNamingTheArgument()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(a, b, c, -1, 2, 3)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(a, b, c, 2, 2, -3)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, c, 2, 2, 4)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, new float[5], c, 2, 2, 3)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, b, new float[3], 2, 2, 3)).ParamName);
        Assert.Equal("lda", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(a, 2, b, 2, c, 2, 2, 2, 3)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(a, 3, b, 2, c, 1, 2, 2, 3)).ParamName);
        Assert.Equal("maxThreads", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(a, b, c, 2, 2, 3, maxThreads: 0)).ParamName);
        Assert.Equal("epilogue.Bias", Assert.Throws<ArgumentException>(
            () => Gemm.Multiply(a, 3, b, 2, c, 2, 2, 2, 3, epilogue: new GemmEpilogue(new float[1]))).ParamName);
        float[] shared = new float[16];
        Assert.Equal("c", Assert.Throws<ArgumentException>(
            () => Gemm.Multiply(shared.AsSpan(0, 4), shared.AsSpan(4, 4), shared.AsSpan(6, 4), 2, 2, 2)).ParamName);
        // A transposed operand is checked against its stored shape: stored A is k x m = 3 x 2 with lda >= 2.
        Gemm.Multiply(a, 2, b, 2, c, 2, 2, 2, 3, Transpose.Transposed);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.Multiply(a, 3, b, 2, c, 2, 2, 2, 3, Transpose.Transposed)).ParamName);
    }
}

public class GemmDispatchTests
{
    /// <summary>
    /// CI runs the kernel tests with AVX-512 or AVX2 disabled in the runtime, or with 256-bit vectors preferred, and
    /// names the path it expects in FASTNET_EXPECT_GEMM_PATH: this proves that run really used that path by default.
    /// Elsewhere AVX-512 is expected where the CPU has it and .NET uses 512-bit vectors (not, by default, on the Intel
    /// CPUs whose clock drops under them: Skylake-SP, Cascade Lake, Cooper Lake, Cannon Lake).
    /// </summary>
    [Fact]
    public void DefaultPathIsTheOneTheEnvironmentExpects()
    {
        string? expected = Environment.GetEnvironmentVariable("FASTNET_EXPECT_GEMM_PATH");
        GemmPath wanted = expected is null
            ? (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? GemmPath.Avx512
                : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? GemmPath.Avx2 : GemmPath.Portable)
            : Enum.Parse<GemmPath>(expected);
        Assert.Equal(wanted, Gemm.DefaultPath);
    }

    /// <summary>
    /// Where AVX-512F is there but DOTNET_PreferredVectorBitWidth asks for narrower vectors (CI runs the kernel tests so,
    /// as .NET runs by default on a Cascade Lake), every kernel stays at 256 bits: the GEMM (above), the int8 products
    /// and quantizer; and the configuration's one line says why AVX-512 is not used and how to turn it on. Where .NET
    /// prefers 512-bit vectors, or AVX-512 is off or absent, the line says nothing of it.
    /// </summary>
    [Fact]
    public void A256BitPreferenceKeepsEveryKernelAt256BitsAndSaysSo()
    {
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        bool narrower = int.TryParse(Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth"), out int width) && width is > 0 and < 512;
        GemmConfiguration current = GemmConfiguration.Current;
        if (avx512 && narrower)
        {
            Assert.True(current.Avx512NotPreferred);
            Assert.Contains("DOTNET_PreferredVectorBitWidth=512", current.ToString());
            Assert.NotEqual(Int8Path.Avx512BW, Int8Gemv.Path);
        }
        else
        {
            // .NET's own list (dotnet/runtime #86457): Intel family 6, model 0x55 (Skylake-SP, Cascade Lake, Cooper Lake) or
            // 0x66 (Cannon Lake) prefers 256 bits unless DOTNET_PreferredVectorBitWidth says otherwise.
            (int eax, int ebx, int ecx, int edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
            bool intel = ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;   // "GenuineIntel"
            int signature = System.Runtime.Intrinsics.X86.X86Base.CpuId(1, 0).Eax;
            int family = (signature >> 8) & 0xF, model = ((signature >> 12) & 0xF0) | ((signature >> 4) & 0xF);
            bool throttles = intel && family == 6 && (model is 0x55 or 0x66) && width == 0;
            Assert.Equal(avx512 && throttles, current.Avx512NotPreferred);
            Assert.Equal(avx512 && throttles, current.ToString().Contains("PreferredVectorBitWidth", StringComparison.Ordinal));
        }

        // The line of a configuration so described, and of one not.
        var caches = new CacheSizes(32 << 10, 512 << 10, 32 << 20, 16, "test");
        Assert.Contains("(the CPU has AVX-512F, but .NET prefers 256-bit vectors here; DOTNET_PreferredVectorBitWidth=512 turns AVX-512 on)",
            GemmConfiguration.Create(GemmPath.Avx2, caches, avx512NotPreferred: true).ToString());
        Assert.DoesNotContain("AVX-512F", GemmConfiguration.Create(GemmPath.Avx2, caches).ToString());
    }
}

/// <summary>
/// Runs alone: the pool's workers also run other tests' jobs, and a task that throws (WorkerPoolTests)
/// allocates its exception on a worker, which these counters would see.
/// </summary>
[Collection(nameof(PoolAllocationMeasurements))]
public class GemmMultiThreadAllocationTests
{
    /// <summary>
    /// Counts the caller's allocations and those of every pool worker (each reports its own counter after
    /// every job), so the test host's threads cannot blur the figure.
    /// </summary>
    [Fact]
    public void MultiThreadedSteadyStateCallsAllocateNothingOnAnyThread()
    {
        var rng = new Random(6);
        var pool = FastNet.Threading.WorkerPool.Shared;
        foreach ((int m, int n, int k) in new[] { (128, 256, 256), (512, 512, 512) })
        {
            float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n), c = new float[m * n];
            for (int i = 0; i < 3; i++) Gemm.Multiply(a, b, c, m, n, k, maxThreads: 2);
            Assert.Equal(0, TestData.AllocatedBytes(() =>
            {
                for (int i = 0; i < 20; i++) Gemm.Multiply(a, b, c, m, n, k, maxThreads: 2);
            }, pool.WorkerAllocatedBytes));
        }
    }
}

/// <summary>Tests that count the worker pool's allocations run in this collection, after and apart from all others.</summary>
[CollectionDefinition(nameof(PoolAllocationMeasurements), DisableParallelization = true)]
public sealed class PoolAllocationMeasurements;

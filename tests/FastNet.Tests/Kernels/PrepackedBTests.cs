using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>
/// B packed once (<see cref="PrepackedB"/>): its layout against the documented formula, element by element, and what
/// the GEMM does with a packing that does not fit the call. That it gives the bits of per-call packing is checked by
/// every product of GemmTests.
/// </summary>
public sealed class PrepackedBTests
{
    /// <summary>
    /// Element (p, j) of op(B) lies in the depth block that holds p (blocks of DepthBlock(K, N) from 0), at pc x RowLength,
    /// then in the panel of column j: at q x kc for q = j rounded down to the kernel's Nr, row p - pc of it, whose stride
    /// is Nr, or the narrow width for a last panel that fits it; the padding of a partial panel is zero.
    /// </summary>
    [Theory]
    [MemberData(nameof(GemmTests.Paths), MemberType = typeof(GemmTests))]
    public unsafe void PanelsFollowTheDocumentedLayout(int pathId)
    {
        var path = (GemmPath)pathId;
        (int nr, int narrowNr) = path switch
        {
            GemmPath.Avx512 => (Avx512Kernel6x64.Nr, Avx512Kernel6x64.NarrowNr),
            GemmPath.Avx2 => (Avx2Kernel6x16.Nr, Avx2Kernel6x16.NarrowNr),
            _ => (PortableKernel.Nr, PortableKernel.NarrowNr),
        };
        var rng = new Random(3);
        int k = 2 * GemmBlocking.KC + 13;
        foreach (int n in new[] { 3, nr + 5, 2 * nr, 3 * nr + narrowNr - 1, 3 * nr + narrowNr + 1 })
            foreach (bool transposed in new[] { false, true })
            {
                int ldb = (transposed ? k : n) + 2;
                float[] b = TestData.Uniform(rng, (transposed ? n : k) * ldb);
                PrepackedB packed = PrepackedB.Pack(b, ldb, transposed, k, n, path);
                int full = n / nr * nr, last = n - full;
                int lastStride = last == 0 ? 0 : last <= narrowNr ? narrowNr : nr;
                Assert.Equal(full + lastStride, packed.RowLength);

                var expected = new float[k * packed.RowLength];   // zeros where nothing is placed: the padding
                int depth = GemmBlocking.DepthBlock(k, n);
                for (int p = 0; p < k; p++)
                {
                    int pc = p / depth * depth, kc = Math.Min(depth, k - pc);
                    for (int j = 0; j < n; j++)
                    {
                        int q = j / nr * nr, stride = q == full ? lastStride : nr;
                        expected[pc * packed.RowLength + q * kc + (p - pc) * stride + (j - q)] = transposed ? b[j * ldb + p] : b[p * ldb + j];
                    }
                }

                var actual = new ReadOnlySpan<float>(packed.Panels, expected.Length).ToArray();
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{path} n={n} transposed={transposed}");
            }
    }

    [Fact]
    public void APackingOfAnotherShapeIsRefused()
    {
        float[] a = new float[8 * 30], b = new float[30 * 20], c = new float[8 * 20];
        PrepackedB packed = PrepackedB.Pack(b, 20, transposed: false, 30, 20, Gemm.DefaultPath);
        var error = Assert.Throws<ArgumentException>(() => Gemm.MultiplyCore(a, 29, b, 20, c, 20, 8, 20, 29, Transpose.None, Transpose.None,
            1f, 0f, default, 1, Gemm.DefaultPath, packedB: packed));
        Assert.Contains("30 x 20", error.Message);
        Assert.Throws<ArgumentException>(() => PrepackedB.Pack(b.AsSpan(0, 599), 20, transposed: false, 30, 20, Gemm.DefaultPath));
        Assert.Throws<ArgumentException>(() => PrepackedB.Pack(b, 19, transposed: false, 30, 20, Gemm.DefaultPath));
    }

    /// <summary>
    /// Panels cut for one kernel's width are not read by another: that path packs per call and gets its own bits. (Read
    /// with the portable kernel, the AVX2 panels would give wrong columns: their widths differ, 16 and a narrow 8 against
    /// 2 x Vector&lt;float&gt;.Count with no narrow one.)
    /// </summary>
    [Fact]
    public void APackingForAnotherPathIsNotUsed()
    {
        var rng = new Random(5);
        const int m = 40, n = 150, k = 70;
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n);
        float[] expected = new float[m * n], actual = new float[m * n];
        Gemm.MultiplyCore(a, k, b, n, expected, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f, default, 1, GemmPath.Portable);
        PrepackedB other = PrepackedB.Pack(b, n, transposed: false, k, n, GemmPath.Avx2);   // packing needs no AVX2: it is a copy
        Gemm.MultiplyCore(a, k, b, n, actual, n, m, n, k, Transpose.None, Transpose.None, 1f, 0f, default, 1, GemmPath.Portable, packedB: other);
        Assert.Equal(expected, actual);
    }
}

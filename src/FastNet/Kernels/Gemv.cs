using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace FastNet.Kernels;

/// <summary>
/// Matrix-vector product for GEMMs with one or two rows (batch-1 inference): memory-bound on B, so no
/// packing and no threads; rows of B stream through vectorized multiply-adds.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>Columns of y accumulated in registers at once: 8 vectors.</summary>
    private const int Unroll = 8;

    /// <summary>
    /// y[j] = alpha * sum_p x[p * incX] * op(B)(p, j) + beta * y[j] for j &lt; n, then the epilogue.
    /// With a transposed B, x must be contiguous (incX == 1). <paramref name="nonFinite"/>: see GemmProblem.NonFiniteFlag.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Run(float* x, nint incX, float* b, nint ldb, bool transB, int n, int k, float* y,
        float alpha, float beta, float* bias, Activation activation, int* nonFinite = null)
    {
        if (transB) RunTransposed(x, b, ldb, n, k, y, alpha, beta);
        else RunRowMajor(x, incX, b, ldb, n, k, y, alpha, beta);
        if (bias != null || activation != Activation.None || nonFinite != null)
            GemmEpilogue.Apply(y, 0, 1, n, bias, activation, nonFinite);
    }

    /// <summary>B is K x N row-major: y += x[p] * B[p, :], a block of 8 vectors of y at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunRowMajor(float* x, nint incX, float* b, nint ldb, int n, int k, float* y, float alpha, float beta)
    {
        int w = Vector<float>.Count, j = 0;
        if (beta == 0f && n >= WideColumns)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                RowMajorWide(x, incX, b, ldb, n, k, y, alpha);
                return;
            }

            // The columns the blocks below would take, streamed instead, with their bits; the rest as before.
            j = n / (Unroll * w) * (Unroll * w);
            RowMajorWideVector(x, incX, b, ldb, j, k, y, alpha);
        }

        RowMajorColumns(x, incX, b, ldb, j, n, k, y, alpha, beta);
    }

    /// <summary>
    /// The column-block path from column <paramref name="j"/> on: 8 vectors of y in registers while B's rows pass (512-bit
    /// blocks of 128 columns first where available), then one vector at a time, then the last columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal static void RowMajorColumns(float* x, nint incX, float* b, nint ldb, int j, int n, int k, float* y, float alpha, float beta)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + Unroll * 16 <= n; j += Unroll * 16)
                RowMajorBlock512(x, incX, b + j, ldb, k, y + j, alpha, beta);
        }

        int w = Vector<float>.Count;
        for (; j + Unroll * w <= n; j += Unroll * w)
        {
            Vector<float> y0 = default, y1 = default, y2 = default, y3 = default, y4 = default, y5 = default, y6 = default, y7 = default;
            float* row = b + j;
            float* xp = x;
            for (int p = 0; p < k; p++, row += ldb, xp += incX)
            {
                var xv = new Vector<float>(*xp);
                y0 = Vector.MultiplyAddEstimate(xv, Vector.Load(row), y0);
                y1 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + w), y1);
                y2 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 2 * w), y2);
                y3 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 3 * w), y3);
                y4 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 4 * w), y4);
                y5 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 5 * w), y5);
                y6 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 6 * w), y6);
                y7 = Vector.MultiplyAddEstimate(xv, Vector.Load(row + 7 * w), y7);
            }

            float* yj = y + j;
            StoreVector(yj, y0, alpha, beta); StoreVector(yj + w, y1, alpha, beta);
            StoreVector(yj + 2 * w, y2, alpha, beta); StoreVector(yj + 3 * w, y3, alpha, beta);
            StoreVector(yj + 4 * w, y4, alpha, beta); StoreVector(yj + 5 * w, y5, alpha, beta);
            StoreVector(yj + 6 * w, y6, alpha, beta); StoreVector(yj + 7 * w, y7, alpha, beta);
        }

        // The last columns, fewer than a block (a 10-class output layer is all of it): one vector at a time, each summed in
        // four chains over p so that the FMA latency does not bound a narrow layer; the columns left after whole vectors
        // come from one more vector ending at n (computed the same way, only its new lanes stored).
        for (; j + w <= n; j += w) StoreVector(y + j, NarrowColumns(x, incX, b + j, ldb, k), alpha, beta);
        if (j < n && n >= w)
        {
            Vector<float> last = NarrowColumns(x, incX, b + (n - w), ldb, k);
            for (; j < n; j++) StoreScalar(y + j, last[j - (n - w)], alpha, beta);
        }

        for (; j < n; j++)
        {
            float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
            int p = 0;
            for (; p + 4 <= k; p += 4)
            {
                acc0 += x[p * incX] * b[p * ldb + j];
                acc1 += x[(p + 1) * incX] * b[(p + 1) * ldb + j];
                acc2 += x[(p + 2) * incX] * b[(p + 2) * ldb + j];
                acc3 += x[(p + 3) * incX] * b[(p + 3) * ldb + j];
            }

            for (; p < k; p++) acc0 += x[p * incX] * b[p * ldb + j];
            StoreScalar(y + j, (acc0 + acc1) + (acc2 + acc3), alpha, beta);
        }
    }

    /// <summary>
    /// sum_p x[p] B[p, 0 .. w-1] for one vector of columns, in four chains (p mod 4) added pairwise at the end: four
    /// independent FMAs per step instead of one waiting for the last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static Vector<float> NarrowColumns(float* x, nint incX, float* row, nint ldb, int k)
    {
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int p = 0;
        for (; p + 4 <= k; p += 4, row += 4 * ldb, x += 4 * incX)
        {
            a0 = Vector.MultiplyAddEstimate(new Vector<float>(*x), Vector.Load(row), a0);
            a1 = Vector.MultiplyAddEstimate(new Vector<float>(x[incX]), Vector.Load(row + ldb), a1);
            a2 = Vector.MultiplyAddEstimate(new Vector<float>(x[2 * incX]), Vector.Load(row + 2 * ldb), a2);
            a3 = Vector.MultiplyAddEstimate(new Vector<float>(x[3 * incX]), Vector.Load(row + 3 * ldb), a3);
        }

        for (; p < k; p++, row += ldb, x += incX) a0 = Vector.MultiplyAddEstimate(new Vector<float>(*x), Vector.Load(row), a0);
        return (a0 + a1) + (a2 + a3);
    }

    /// <summary>
    /// From this many columns on, B is streamed row by row rather than in column blocks. 256, not 512: a GRU's recurrent
    /// product [1 x 128] x [128 x 384] in column blocks walked B with a 1.5 KB stride per step, and the GRU workload's
    /// batch-1 call took 52 us on Zen 5 against 46 us streaming (gru-latency, two runs each way); below 256 columns the
    /// blocks stay (784 x 128 measured no better streamed).
    /// </summary>
    private const int WideColumns = 256;

    /// <summary>
    /// For wide B (a 1024-wide layer is 4 MB, beyond L2): y += x[p..p+3] * B[p..p+3, :], four whole rows at a
    /// time, so B is read front to back as four sequential streams the hardware prefetcher follows, and y
    /// (a few KB) stays in L1. Column blocks would instead walk B with a stride of one row per step.
    /// </summary>
    private static void RowMajorWide(float* x, nint incX, float* b, nint ldb, int n, int k, float* y, float alpha)
    {
        int vectorEnd = n & ~15;
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            var x0 = Vector512.Create(x[p * incX]);
            var x1 = Vector512.Create(x[(p + 1) * incX]);
            var x2 = Vector512.Create(x[(p + 2) * incX]);
            var x3 = Vector512.Create(x[(p + 3) * incX]);
            float* r0 = b + p * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            for (int j = 0; j < vectorEnd; j += 16)
            {
                Vector512<float> acc = p == 0 ? Vector512<float>.Zero : Vector512.Load(y + j);
                acc = Vector512.FusedMultiplyAdd(x0, Vector512.Load(r0 + j), acc);
                acc = Vector512.FusedMultiplyAdd(x1, Vector512.Load(r1 + j), acc);
                acc = Vector512.FusedMultiplyAdd(x2, Vector512.Load(r2 + j), acc);
                acc = Vector512.FusedMultiplyAdd(x3, Vector512.Load(r3 + j), acc);
                Vector512.Store(acc, y + j);
            }

            for (int j = vectorEnd; j < n; j++)
                y[j] = (p == 0 ? 0f : y[j]) + x[p * incX] * r0[j] + x[(p + 1) * incX] * r1[j] + x[(p + 2) * incX] * r2[j] + x[(p + 3) * incX] * r3[j];
        }

        for (; p < k; p++)
        {
            var xp = Vector512.Create(x[p * incX]);
            float* r = b + p * ldb;
            int j = 0;
            for (; j < vectorEnd; j += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(xp, Vector512.Load(r + j), p == 0 ? Vector512<float>.Zero : Vector512.Load(y + j)), y + j);
            for (; j < n; j++) y[j] = (p == 0 ? 0f : y[j]) + x[p * incX] * r[j];
        }

        if (alpha != 1f)
            for (int j = 0; j < n; j++) y[j] *= alpha;
    }

    /// <summary>
    /// <see cref="RowMajorWide"/> in <see cref="Vector{T}"/> (256-bit on an AVX2 host, where the column blocks walked a
    /// 1024-wide B 4 KB per step) over the first <paramref name="columns"/> columns, a whole number of vectors: each column
    /// is the same chain of multiply-adds from 0, p = 0, 1, 2... as in a column block (<c>Vector.MultiplyAddEstimate</c>
    /// both), so the bits are the blocks'. What it gains: bench/results/zen5-avx512/emulated-avx2/gemv-wide.md.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RowMajorWideVector(float* x, nint incX, float* b, nint ldb, int columns, int k, float* y, float alpha)
    {
        int w = Vector<float>.Count, p = 0;
        for (; p + 4 <= k; p += 4)
        {
            var x0 = new Vector<float>(x[p * incX]);
            var x1 = new Vector<float>(x[(p + 1) * incX]);
            var x2 = new Vector<float>(x[(p + 2) * incX]);
            var x3 = new Vector<float>(x[(p + 3) * incX]);
            float* r0 = b + p * ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb;
            for (int j = 0; j < columns; j += w)
            {
                Vector<float> acc = p == 0 ? Vector<float>.Zero : Vector.Load(y + j);
                acc = Vector.MultiplyAddEstimate(x0, Vector.Load(r0 + j), acc);
                acc = Vector.MultiplyAddEstimate(x1, Vector.Load(r1 + j), acc);
                acc = Vector.MultiplyAddEstimate(x2, Vector.Load(r2 + j), acc);
                acc = Vector.MultiplyAddEstimate(x3, Vector.Load(r3 + j), acc);
                Vector.Store(acc, y + j);
            }
        }

        for (; p < k; p++)
        {
            var xp = new Vector<float>(x[p * incX]);
            float* r = b + p * ldb;
            for (int j = 0; j < columns; j += w)
                Vector.Store(Vector.MultiplyAddEstimate(xp, Vector.Load(r + j), p == 0 ? Vector<float>.Zero : Vector.Load(y + j)), y + j);
        }

        if (alpha != 1f)
            for (int j = 0; j < columns; j++) y[j] *= alpha;
    }

    /// <summary>128 columns of y in 8 zmm accumulators: each B row segment is 512 contiguous bytes.</summary>
    private static void RowMajorBlock512(float* x, nint incX, float* row, nint ldb, int k, float* y, float alpha, float beta)
    {
        Vector512<float> y0 = default, y1 = default, y2 = default, y3 = default, y4 = default, y5 = default, y6 = default, y7 = default;
        for (int p = 0; p < k; p++, row += ldb, x += incX)
        {
            var xv = Vector512.Create(*x);
            y0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row), y0);
            y1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 16), y1);
            y2 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 32), y2);
            y3 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 48), y3);
            y4 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 64), y4);
            y5 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 80), y5);
            y6 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 96), y6);
            y7 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(row + 112), y7);
        }

        Store512(y, y0, alpha, beta); Store512(y + 16, y1, alpha, beta);
        Store512(y + 32, y2, alpha, beta); Store512(y + 48, y3, alpha, beta);
        Store512(y + 64, y4, alpha, beta); Store512(y + 80, y5, alpha, beta);
        Store512(y + 96, y6, alpha, beta); Store512(y + 112, y7, alpha, beta);
    }

    private static void Store512(float* y, Vector512<float> acc, float alpha, float beta)
    {
        var scaled = acc * alpha;
        Vector512.Store(beta == 0f ? scaled : scaled + Vector512.Load(y) * beta, y);
    }

    /// <summary>B is stored N x K: y[j] = dot(x, B[j, :]), four rows of B per sweep over x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunTransposed(float* x, float* b, nint ldb, int n, int k, float* y, float alpha, float beta)
    {
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            float* b0 = b + j * ldb;
            Dot4(x, b0, b0 + ldb, b0 + 2 * ldb, b0 + 3 * ldb, k, out float d0, out float d1, out float d2, out float d3);
            StoreScalar(y + j, d0, alpha, beta);
            StoreScalar(y + j + 1, d1, alpha, beta);
            StoreScalar(y + j + 2, d2, alpha, beta);
            StoreScalar(y + j + 3, d3, alpha, beta);
        }

        for (; j < n; j++)
        {
            float* bj = b + j * ldb;
            Dot4(x, bj, bj, bj, bj, k, out float d, out _, out _, out _);
            StoreScalar(y + j, d, alpha, beta);
        }
    }

    private static void Dot4(float* x, float* r0, float* r1, float* r2, float* r3, int k,
        out float d0, out float d1, out float d2, out float d3)
    {
        int w = Vector<float>.Count;
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            var xv = Vector.Load(x + p);
            s0 = Vector.MultiplyAddEstimate(xv, Vector.Load(r0 + p), s0);
            s1 = Vector.MultiplyAddEstimate(xv, Vector.Load(r1 + p), s1);
            s2 = Vector.MultiplyAddEstimate(xv, Vector.Load(r2 + p), s2);
            s3 = Vector.MultiplyAddEstimate(xv, Vector.Load(r3 + p), s3);
        }

        d0 = Vector.Sum(s0); d1 = Vector.Sum(s1); d2 = Vector.Sum(s2); d3 = Vector.Sum(s3);
        for (; p < k; p++)
        {
            d0 += x[p] * r0[p]; d1 += x[p] * r1[p]; d2 += x[p] * r2[p]; d3 += x[p] * r3[p];
        }
    }

    private static void StoreVector(float* y, Vector<float> acc, float alpha, float beta)
    {
        var scaled = acc * alpha;
        Vector.Store(beta == 0f ? scaled : scaled + Vector.Load(y) * beta, y);
    }

    private static void StoreScalar(float* y, float acc, float alpha, float beta)
        => *y = beta == 0f ? alpha * acc : alpha * acc + beta * *y;
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// A register-blocked GEMM micro-kernel: C[rows x Nr] = alpha * A-panel * B-panel + beta * C, for any row count
/// up to <see cref="Mr"/> (the type argument TRows of each method).
/// </summary>
/// <remarks>
/// A element (r, p) is read at <c>RowR[DepthOffsets[p]]</c> of an <see cref="APanel"/>, so the kernel reads a
/// packed panel, a row-major or transposed A in place, and rows gathered from anywhere alike. B element (p, j) is read at
/// <c>b[p * bStride + j]</c>: a packed micro-panel (bStride = Nr) or a row-major B in place (bStride = ldb). With beta == 0, C is written without being read (BLAS convention).
/// The accumulation order over p is fixed and the same for every row count, so each element of C is
/// computed the same way wherever the tile lies, however many rows its panel has, and whichever thread runs it.
/// Only the first rows of A and C are touched: the last row panel of C (M mod Mr rows; 64, 256, 784 and 1024
/// all leave 4) runs on A in place and writes C directly, with no zero-padded copy and no wasted rows.
/// </remarks>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Most rows of a C tile (A values broadcast per step).</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the C tile (the vectorized dimension).</summary>
    static abstract int Nr { get; }

    /// <summary>Whether this machine can run the kernel.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Runs one tile of <typeparamref name="TRows"/> rows (at most <see cref="Mr"/>).</summary>
    static abstract void Run<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount;

    /// <summary>
    /// Width of the narrow variant for column edges (one vector), or <see cref="Nr"/> when there is none.
    /// An output layer of 10 classes then costs one vector per row, not four.
    /// </summary>
    static abstract int NarrowNr { get; }

    /// <summary>A tile of <typeparamref name="TRows"/> rows x NarrowNr columns, reading the first NarrowNr columns of a B panel.</summary>
    static abstract void RunNarrow<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount;

    /// <summary>Whether <see cref="RunNarrowMasked"/> exists: masked loads and stores (AVX-512).</summary>
    static virtual bool HasMaskedNarrow => false;

    /// <summary>
    /// A tile of <typeparamref name="TRows"/> rows x <paramref name="width"/> (1 to NarrowNr) columns that touches
    /// only those columns of B and C (masked loads and stores, which never fault on the lanes they skip): a
    /// right edge such as an output layer of 10 classes then reads B in place and writes C directly, with no
    /// packed copy of B and no scratch tile. Each element is computed as in <see cref="RunNarrow"/>.
    /// </summary>
    static virtual void RunNarrowMasked<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc,
        float alpha, float beta, int width) where TRows : struct, IRowCount
        => throw new NotSupportedException("This micro-kernel has no masked variant.");
}

/// <summary>
/// A row count known when the JIT compiles a kernel: each kernel is compiled once per count, with the rows
/// beyond it (their accumulators, broadcasts and stores) removed as dead code.
/// </summary>
internal interface IRowCount
{
    static abstract int Rows { get; }
}

internal readonly struct Rows1 : IRowCount { public static int Rows => 1; }

internal readonly struct Rows2 : IRowCount { public static int Rows => 2; }

internal readonly struct Rows3 : IRowCount { public static int Rows => 3; }

internal readonly struct Rows4 : IRowCount { public static int Rows => 4; }

internal readonly struct Rows5 : IRowCount { public static int Rows => 5; }

internal readonly struct Rows6 : IRowCount { public static int Rows => 6; }

/// <summary>AVX-512F: 6 x 64 tile, 24 zmm accumulators, 4 B loads and 6 broadcasts per step.</summary>
internal readonly unsafe struct Avx512Kernel6x64 : IGemmMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 64;
    public static bool IsSupported => Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;

        // C is read (and written) only after the depth loop; start fetching its lines now so that the
        // tile, often in L3 for a large C, is in L1 by then.
        for (int r = 0; r < rows; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row); Sse.Prefetch0(row + 16); Sse.Prefetch0(row + 32); Sse.Prefetch0(row + 48);
        }

        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3, r4 = a.Row4, r5 = a.Row5;
        nint* depth = a.DepthOffsets;   // element (r, p) is at rowR[depth[p]]
        for (int p = 0; p < kc; p++)
        {
            nint offset = depth[p];
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> b2 = Vector512.Load(b + 32);
            Vector512<float> b3 = Vector512.Load(b + 48);

            Vector512<float> ar = Vector512.Create(r0[offset]);
            c00 = Avx512F.FusedMultiplyAdd(ar, b0, c00); c01 = Avx512F.FusedMultiplyAdd(ar, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(ar, b2, c02); c03 = Avx512F.FusedMultiplyAdd(ar, b3, c03);
            if (rows > 1)
            {
                ar = Vector512.Create(r1[offset]);
                c10 = Avx512F.FusedMultiplyAdd(ar, b0, c10); c11 = Avx512F.FusedMultiplyAdd(ar, b1, c11);
                c12 = Avx512F.FusedMultiplyAdd(ar, b2, c12); c13 = Avx512F.FusedMultiplyAdd(ar, b3, c13);
            }

            if (rows > 2)
            {
                ar = Vector512.Create(r2[offset]);
                c20 = Avx512F.FusedMultiplyAdd(ar, b0, c20); c21 = Avx512F.FusedMultiplyAdd(ar, b1, c21);
                c22 = Avx512F.FusedMultiplyAdd(ar, b2, c22); c23 = Avx512F.FusedMultiplyAdd(ar, b3, c23);
            }

            if (rows > 3)
            {
                ar = Vector512.Create(r3[offset]);
                c30 = Avx512F.FusedMultiplyAdd(ar, b0, c30); c31 = Avx512F.FusedMultiplyAdd(ar, b1, c31);
                c32 = Avx512F.FusedMultiplyAdd(ar, b2, c32); c33 = Avx512F.FusedMultiplyAdd(ar, b3, c33);
            }

            if (rows > 4)
            {
                ar = Vector512.Create(r4[offset]);
                c40 = Avx512F.FusedMultiplyAdd(ar, b0, c40); c41 = Avx512F.FusedMultiplyAdd(ar, b1, c41);
                c42 = Avx512F.FusedMultiplyAdd(ar, b2, c42); c43 = Avx512F.FusedMultiplyAdd(ar, b3, c43);
            }

            if (rows > 5)
            {
                ar = Vector512.Create(r5[offset]);
                c50 = Avx512F.FusedMultiplyAdd(ar, b0, c50); c51 = Avx512F.FusedMultiplyAdd(ar, b1, c51);
                c52 = Avx512F.FusedMultiplyAdd(ar, b2, c52); c53 = Avx512F.FusedMultiplyAdd(ar, b3, c53);
            }

            b += bStride;
        }

        Vector512<float> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        bool readC = beta != 0f;
        StoreRow(c, va, vb, readC, c00, c01, c02, c03);
        if (rows > 1) StoreRow(c + ldc, va, vb, readC, c10, c11, c12, c13);
        if (rows > 2) StoreRow(c + 2 * ldc, va, vb, readC, c20, c21, c22, c23);
        if (rows > 3) StoreRow(c + 3 * ldc, va, vb, readC, c30, c31, c32, c33);
        if (rows > 4) StoreRow(c + 4 * ldc, va, vb, readC, c40, c41, c42, c43);
        if (rows > 5) StoreRow(c + 5 * ldc, va, vb, readC, c50, c51, c52, c53);
    }

    public static int NarrowNr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunNarrow<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3, r4 = a.Row4, r5 = a.Row5;
        nint* depth = a.DepthOffsets;
        for (int p = 0; p < kc; p++)
        {
            nint offset = depth[p];
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(r0[offset]), b0, c0);
            if (rows > 1) c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(r1[offset]), b0, c1);
            if (rows > 2) c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(r2[offset]), b0, c2);
            if (rows > 3) c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(r3[offset]), b0, c3);
            if (rows > 4) c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(r4[offset]), b0, c4);
            if (rows > 5) c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(r5[offset]), b0, c5);
            b += bStride;
        }

        Vector512<float> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        bool readC = beta != 0f;
        StoreOne(c, va, vb, readC, c0);
        if (rows > 1) StoreOne(c + ldc, va, vb, readC, c1);
        if (rows > 2) StoreOne(c + 2 * ldc, va, vb, readC, c2);
        if (rows > 3) StoreOne(c + 3 * ldc, va, vb, readC, c3);
        if (rows > 4) StoreOne(c + 4 * ldc, va, vb, readC, c4);
        if (rows > 5) StoreOne(c + 5 * ldc, va, vb, readC, c5);
    }

    public static bool HasMaskedNarrow => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunNarrowMasked<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc,
        float alpha, float beta, int width) where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        // Lanes 0 .. width-1 set (all bits of the element), the rest clear.
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width)).AsSingle();
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3, r4 = a.Row4, r5 = a.Row5;
        nint* depth = a.DepthOffsets;
        for (int p = 0; p < kc; p++)
        {
            nint offset = depth[p];
            Vector512<float> b0 = Avx512F.MaskLoad(b, mask, Vector512<float>.Zero);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(r0[offset]), b0, c0);
            if (rows > 1) c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(r1[offset]), b0, c1);
            if (rows > 2) c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(r2[offset]), b0, c2);
            if (rows > 3) c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(r3[offset]), b0, c3);
            if (rows > 4) c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(r4[offset]), b0, c4);
            if (rows > 5) c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(r5[offset]), b0, c5);
            b += bStride;
        }

        Vector512<float> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        bool readC = beta != 0f;
        StoreMasked(c, mask, va, vb, readC, c0);
        if (rows > 1) StoreMasked(c + ldc, mask, va, vb, readC, c1);
        if (rows > 2) StoreMasked(c + 2 * ldc, mask, va, vb, readC, c2);
        if (rows > 3) StoreMasked(c + 3 * ldc, mask, va, vb, readC, c3);
        if (rows > 4) StoreMasked(c + 4 * ldc, mask, va, vb, readC, c4);
        if (rows > 5) StoreMasked(c + 5 * ldc, mask, va, vb, readC, c5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked(float* c, Vector512<float> mask, Vector512<float> alpha, Vector512<float> beta, bool readC, Vector512<float> x)
        => Avx512F.MaskStore(c, mask, readC ? Avx512F.FusedMultiplyAdd(alpha, x, beta * Avx512F.MaskLoad(c, mask, Vector512<float>.Zero)) : alpha * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(float* c, Vector512<float> alpha, Vector512<float> beta, bool readC, Vector512<float> x)
        => Vector512.Store(readC ? Avx512F.FusedMultiplyAdd(alpha, x, beta * Vector512.Load(c)) : alpha * x, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> alpha, Vector512<float> beta, bool readC,
        Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        if (readC)
        {
            // c = alpha * acc + beta * c, one rounding for the sum
            Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, x0, beta * Vector512.Load(c)), c);
            Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, x1, beta * Vector512.Load(c + 16)), c + 16);
            Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, x2, beta * Vector512.Load(c + 32)), c + 32);
            Vector512.Store(Avx512F.FusedMultiplyAdd(alpha, x3, beta * Vector512.Load(c + 48)), c + 48);
        }
        else
        {
            Vector512.Store(alpha * x0, c);
            Vector512.Store(alpha * x1, c + 16);
            Vector512.Store(alpha * x2, c + 32);
            Vector512.Store(alpha * x3, c + 48);
        }
    }
}

/// <summary>AVX2 + FMA3: 6 x 16 tile, 12 ymm accumulators, 2 B loads and 6 broadcasts per step.</summary>
internal readonly unsafe struct Avx2Kernel6x16 : IGemmMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 16;
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;

        // As in the AVX-512 kernel: fetch the C tile (16 floats a row: one line, or two when C is not 64-byte
        // aligned) while the depth loop runs, so that its read after the loop, often from L3, does not stall.
        for (int r = 0; r < rows; r++)
        {
            float* row = c + r * ldc;
            Sse.Prefetch0(row); Sse.Prefetch0(row + 15);
        }

        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3, r4 = a.Row4, r5 = a.Row5;
        nint* depth = a.DepthOffsets;

        // Two depth steps per turn of the loop. One step issues 25 instructions for its 12 FMAs: 8 loads (2 of B,
        // 6 broadcasts of A), the depth offset and the loop's count (compare and branch fused). A core that renames
        // 4 instructions a cycle (Haswell to Cascade Lake; .NET runs 256-bit code on the AVX-512 ones by default)
        // needs 6.25 cycles for that where its two FMA pipes need 6; two steps share one count and branch, 46 for
        // 12 cycles (bench/results/simulated/kernel-mca.md). Each accumulator still adds step p before step p + 1.
        for (int pairs = kc >> 1; pairs != 0; pairs--)   // counted down, and depth advanced: no register for a bound
        {
            Step<TRows>(b, depth[0], r0, r1, r2, r3, r4, r5,
                ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TRows>(b + bStride, depth[1], r0, r1, r2, r3, r4, r5,
                ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            b += 2 * bStride;
            depth += 2;
        }

        if ((kc & 1) != 0)
        {
            Step<TRows>(b, depth[0], r0, r1, r2, r3, r4, r5,
                ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        }

        Vector256<float> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        bool readC = beta != 0f;
        StoreRow(c, va, vb, readC, c00, c01);
        if (rows > 1) StoreRow(c + ldc, va, vb, readC, c10, c11);
        if (rows > 2) StoreRow(c + 2 * ldc, va, vb, readC, c20, c21);
        if (rows > 3) StoreRow(c + 3 * ldc, va, vb, readC, c30, c31);
        if (rows > 4) StoreRow(c + 4 * ldc, va, vb, readC, c40, c41);
        if (rows > 5) StoreRow(c + 5 * ldc, va, vb, readC, c50, c51);
    }

    /// <summary>One depth step of <see cref="Run"/>: row r of the tile += A(r, p) * B(p, 0..15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TRows>(float* b, nint offset, float* r0, float* r1, float* r2, float* r3, float* r4, float* r5,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        Vector256<float> b0 = Vector256.Load(b);
        Vector256<float> b1 = Vector256.Load(b + 8);

        Vector256<float> ar = Vector256.Create(r0[offset]);
        c00 = Fma.MultiplyAdd(ar, b0, c00); c01 = Fma.MultiplyAdd(ar, b1, c01);
        if (rows > 1)
        {
            ar = Vector256.Create(r1[offset]);
            c10 = Fma.MultiplyAdd(ar, b0, c10); c11 = Fma.MultiplyAdd(ar, b1, c11);
        }

        if (rows > 2)
        {
            ar = Vector256.Create(r2[offset]);
            c20 = Fma.MultiplyAdd(ar, b0, c20); c21 = Fma.MultiplyAdd(ar, b1, c21);
        }

        if (rows > 3)
        {
            ar = Vector256.Create(r3[offset]);
            c30 = Fma.MultiplyAdd(ar, b0, c30); c31 = Fma.MultiplyAdd(ar, b1, c31);
        }

        if (rows > 4)
        {
            ar = Vector256.Create(r4[offset]);
            c40 = Fma.MultiplyAdd(ar, b0, c40); c41 = Fma.MultiplyAdd(ar, b1, c41);
        }

        if (rows > 5)
        {
            ar = Vector256.Create(r5[offset]);
            c50 = Fma.MultiplyAdd(ar, b0, c50); c51 = Fma.MultiplyAdd(ar, b1, c51);
        }
    }

    public static int NarrowNr => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunNarrow<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3, r4 = a.Row4, r5 = a.Row5;
        nint* depth = a.DepthOffsets;
        for (int p = 0; p < kc; p++)
        {
            nint offset = depth[p];
            Vector256<float> b0 = Vector256.Load(b);
            c0 = Fma.MultiplyAdd(Vector256.Create(r0[offset]), b0, c0);
            if (rows > 1) c1 = Fma.MultiplyAdd(Vector256.Create(r1[offset]), b0, c1);
            if (rows > 2) c2 = Fma.MultiplyAdd(Vector256.Create(r2[offset]), b0, c2);
            if (rows > 3) c3 = Fma.MultiplyAdd(Vector256.Create(r3[offset]), b0, c3);
            if (rows > 4) c4 = Fma.MultiplyAdd(Vector256.Create(r4[offset]), b0, c4);
            if (rows > 5) c5 = Fma.MultiplyAdd(Vector256.Create(r5[offset]), b0, c5);
            b += bStride;
        }

        Vector256<float> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        bool readC = beta != 0f;
        StoreOne(c, va, vb, readC, c0);
        if (rows > 1) StoreOne(c + ldc, va, vb, readC, c1);
        if (rows > 2) StoreOne(c + 2 * ldc, va, vb, readC, c2);
        if (rows > 3) StoreOne(c + 3 * ldc, va, vb, readC, c3);
        if (rows > 4) StoreOne(c + 4 * ldc, va, vb, readC, c4);
        if (rows > 5) StoreOne(c + 5 * ldc, va, vb, readC, c5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(float* c, Vector256<float> alpha, Vector256<float> beta, bool readC, Vector256<float> x)
        => Vector256.Store(readC ? Fma.MultiplyAdd(alpha, x, beta * Vector256.Load(c)) : alpha * x, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector256<float> alpha, Vector256<float> beta, bool readC, Vector256<float> x0, Vector256<float> x1)
    {
        if (readC)
        {
            Vector256.Store(Fma.MultiplyAdd(alpha, x0, beta * Vector256.Load(c)), c);
            Vector256.Store(Fma.MultiplyAdd(alpha, x1, beta * Vector256.Load(c + 8)), c + 8);
        }
        else
        {
            Vector256.Store(alpha * x0, c);
            Vector256.Store(alpha * x1, c + 8);
        }
    }
}

/// <summary>
/// Portable fallback on <see cref="Vector{T}"/> (any width, any ISA, or software): 4 x (2 vectors) tile (Mr is 4: row counts above it never reach this kernel).
/// Multiply and add are separate operations here, since a fused multiply-add is emulated (slowly)
/// where the hardware lacks it.
/// </summary>
internal readonly unsafe struct PortableKernel : IGemmMicroKernel
{
    public static int Mr => 4;
    public static int Nr => 2 * Vector<float>.Count;
    public static bool IsSupported => true;

    public static void Run<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        int rows = TRows.Rows;
        int w = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        float* r0 = a.Row0, r1 = a.Row1, r2 = a.Row2, r3 = a.Row3;
        nint* depth = a.DepthOffsets;
        for (int p = 0; p < kc; p++)
        {
            nint offset = depth[p];
            Vector<float> b0 = Vector.Load(b);
            Vector<float> b1 = Vector.Load(b + w);
            Vector<float> ar = new(r0[offset]);
            c00 += ar * b0; c01 += ar * b1;
            if (rows > 1)
            {
                ar = new(r1[offset]);
                c10 += ar * b0; c11 += ar * b1;
            }

            if (rows > 2)
            {
                ar = new(r2[offset]);
                c20 += ar * b0; c21 += ar * b1;
            }

            if (rows > 3)
            {
                ar = new(r3[offset]);
                c30 += ar * b0; c31 += ar * b1;
            }

            b += bStride;
        }

        bool readC = beta != 0f;
        StoreRow(c, w, alpha, beta, readC, c00, c01);
        if (rows > 1) StoreRow(c + ldc, w, alpha, beta, readC, c10, c11);
        if (rows > 2) StoreRow(c + 2 * ldc, w, alpha, beta, readC, c20, c21);
        if (rows > 3) StoreRow(c + 3 * ldc, w, alpha, beta, readC, c30, c31);
    }

    public static int NarrowNr => Nr;

    public static void RunNarrow<TRows>(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
        => Run<TRows>(kc, a, b, bStride, c, ldc, alpha, beta);

    private static void StoreRow(float* c, int w, float alpha, float beta, bool readC, Vector<float> x0, Vector<float> x1)
    {
        if (readC)
        {
            Vector.Store(alpha * x0 + beta * Vector.Load(c), c);
            Vector.Store(alpha * x1 + beta * Vector.Load(c + w), c + w);
        }
        else
        {
            Vector.Store(alpha * x0, c);
            Vector.Store(alpha * x1, c + w);
        }
    }
}

using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FastNet.Kernels;

/// <summary>The pointers and scalars of one GEMM call; the caller keeps every pointer pinned meanwhile.</summary>
internal unsafe struct GemmProblem
{
    public float* A; public nint Lda; public bool TransA;
    public float* B; public nint Ldb; public bool TransB;
    public float* C; public nint Ldc;
    public int M, N, K;
    public float Alpha, Beta;
    public int* ARows;             // null, or where the rows of stored A lie: row r at A + ARows[r] * Lda (op(A)'s rows, or its depth when TransA)
    public float* Bias;            // null: no bias
    public Activation Activation;

    public readonly bool HasEpilogue => Bias != null || Activation != Activation.None;
}

/// <summary>
/// The blocked GEMM loop nest (see <see cref="GemmBlocking"/>) for one rectangle of C, specialised by the
/// JIT for each micro-kernel.
/// </summary>
internal static unsafe class GemmDriver<TKernel> where TKernel : struct, IGemmMicroKernel
{
    /// <summary>Computes rows [m0, m1) x columns [n0, n1) of C. m0 and n0 lie on the MR / NR tile grid.</summary>
    /// <remarks>
    /// When K takes several depth blocks and C is wider than one column block, the column blocks go outermost (the
    /// GotoBLAS order): each block of C, M x NB, then stays in L2 from one depth block to the next instead of making
    /// a round trip to L3 per depth block (a 256 x 1024 C is 1 MiB). Each element still sums its depth blocks in the
    /// same order, so the bits do not change. With one depth block the order does not matter to C, and the column
    /// blocks stay innermost so that a packed transposed A serves all of them.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Run(in GemmProblem p, int m0, int m1, int n0, int n1, GemmPackBuffers buffers)
    {
        int nb = GemmBlocking.NB / TKernel.Nr * TKernel.Nr;
        if (p.K > GemmBlocking.DepthBlock(p.K) && n1 - n0 > nb)
        {
            for (int j0 = n0; j0 < n1; j0 += nb) RunColumns(p, m0, m1, j0, Math.Min(n1, j0 + nb), buffers);
        }
        else
        {
            RunColumns(p, m0, m1, n0, n1, buffers);
        }
    }

    /// <summary>The loop nest of <see cref="GemmBlocking"/> over one rectangle of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunColumns(in GemmProblem p, int m0, int m1, int n0, int n1, GemmPackBuffers buffers)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        // A row-major A is read in place. So is a transposed one when C is at most one block wide (a weight
        // gradient X^T dZ with a narrow dZ): each depth step then reads Mr adjacent values of one row, and a
        // packed copy, used for only a few column tiles, would cost more than it saves (training T1 and the GRU
        // ran 3-10% faster without it). Wider products pack transposed A, MB rows at a time, and reuse it for
        // every column block. In place, rows need no blocking: one block keeps B packed once per depth block.
        bool packA = p.TransA && p.N > GemmBlocking.NB;
        int mb = packA ? GemmBlocking.MB / mr * mr : Math.Max(mr, m1 - m0);
        int nb = GemmBlocking.NB / nr * nr;
        int kcStep = GemmBlocking.DepthBlock(p.K);
        for (int pc = 0; pc < p.K; pc += kcStep)
        {
            int kc = Math.Min(kcStep, p.K - pc);
            float beta = pc == 0 ? p.Beta : 1f;     // later depth blocks accumulate onto C
            bool lastDepthBlock = pc + kc == p.K;
            // Where each depth step of this block lies in A (see APanel): packed panels step by Mr, a row-major A
            // by 1, a transposed A by a stored row (lda, or to wherever the gathered stored row lies).
            nint* depth = buffers.DepthOffsets;
            for (int q = 0; q < kc; q++)
            {
                depth[q] = packA ? (nint)q * mr
                    : !p.TransA ? q
                    : p.ARows != null ? (nint)p.ARows[pc + q] * p.Lda
                    : (nint)(pc + q) * p.Lda;
            }

            for (int i0 = m0; i0 < m1; i0 += mb)
            {
                int height = Math.Min(mb, m1 - i0);
                if (packA) GemmPacking.PackTransposedA(p.A, p.Lda, p.ARows, pc, kc, i0, height, mr, buffers.A);
                for (int j0 = n0; j0 < n1; j0 += nb)
                {
                    int width = Math.Min(nb, n1 - j0);
                    // A row-major B no wider than one block is read in place: its KC x N rows fit in L2 as they
                    // are, and packing them would cost a copy of B per call (training changes W every step).
                    // Only the partial last panel is packed, with zero padding. Wider Bs are packed.
                    bool bInPlace = !p.TransB && p.N <= GemmBlocking.NB;
                    int fullWidth = bInPlace ? width / nr * nr : 0;
                    // A kernel with masked loads reads a narrow last panel of a row-major B in place as well.
                    if (bInPlace && TKernel.HasMaskedNarrow && width - fullWidth <= TKernel.NarrowNr) fullWidth = width;
                    if (fullWidth < width)
                        GemmPacking.PackB(p.B, p.Ldb, p.TransB, pc, kc, j0 + fullWidth, width - fullWidth, nr, TKernel.NarrowNr, buffers.B + (nint)fullWidth * kc);
                    for (int i = 0; i < height; i += mr)
                    {
                        int h = Math.Min(mr, height - i);   // the last panel may be short: the kernel runs h rows
                        APanel aPanel =
                            packA ? APanel.Strided(buffers.A + (nint)i * kc, 1, depth)
                            // op(A)(r, d) = A[d, r] in place: a depth step reads h adjacent floats of one stored row.
                            : p.TransA ? APanel.Strided(p.A + i0 + i, 1, depth)
                            // Gathered rows (a mini-batch where its samples lie), read in place.
                            : p.ARows != null ? APanel.Gathered(p.A, p.Lda, p.ARows + i0 + i, h, pc, depth)
                            // Row-major A: broadcasts walk the panel's rows side by side.
                            : APanel.Strided(p.A + (i0 + i) * p.Lda + pc, p.Lda, depth);

                        for (int j = 0; j < width; j += nr)
                        {
                            int w = Math.Min(nr, width - j);
                            bool panelInPlace = j < fullWidth;
                            float* bPanel = panelInPlace ? p.B + pc * p.Ldb + j0 + j : buffers.B + (nint)j * kc;
                            nint bStride = panelInPlace ? p.Ldb : GemmPacking.PanelStride(w, nr, TKernel.NarrowNr);
                            float* cTile = p.C + (i0 + i) * p.Ldc + j0 + j;
                            if (w == nr || w == TKernel.NarrowNr)
                                RunKernel(h, w != nr, kc, aPanel, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta);
                            else if (TKernel.HasMaskedNarrow && w < TKernel.NarrowNr)
                                RunMasked(h, kc, aPanel, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta, w);
                            else
                                RunEdgeTile(kc, aPanel, bPanel, bStride, cTile, p.Ldc, h, w, p.Alpha, beta, buffers.Tile);

                            if (lastDepthBlock && p.HasEpilogue)
                                GemmEpilogue.Apply(cTile, p.Ldc, h, w, p.Bias == null ? null : p.Bias + j0 + j, p.Activation);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A tile cut by the right edge of C (fewer columns than a kernel's width): the kernel (the narrow one when the
    /// columns fit) runs on a scratch tile and only the valid h x w part is copied in and out. Which kernel computes
    /// an element depends only on its place in C, so results stay the same for every thread count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunEdgeTile(int kc, in APanel a, float* b, nint bStride, float* c, nint ldc,
        int h, int w, float alpha, float beta, float* tile)
    {
        int nr = TKernel.Nr;
        nint rowBytes = (nint)w * sizeof(float);
        if (beta != 0f)
        {
            for (int r = 0; r < h; r++)
                Buffer.MemoryCopy(c + r * ldc, tile + r * nr, rowBytes, rowBytes);
        }

        RunKernel(h, w <= TKernel.NarrowNr, kc, a, b, bStride, tile, nr, alpha, beta);
        for (int r = 0; r < h; r++)
            Buffer.MemoryCopy(tile + r * nr, c + r * ldc, rowBytes, rowBytes);
    }

    /// <summary>The masked narrow kernel compiled for <paramref name="rows"/> rows, 1 to Mr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunMasked(int rows, int kc, in APanel a, float* b, nint bStride,
        float* c, nint ldc, float alpha, float beta, int width)
    {
        switch (rows)
        {
            case 6: TKernel.RunNarrowMasked<Rows6>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
            case 5: TKernel.RunNarrowMasked<Rows5>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
            case 4: TKernel.RunNarrowMasked<Rows4>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
            case 3: TKernel.RunNarrowMasked<Rows3>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
            case 2: TKernel.RunNarrowMasked<Rows2>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
            default: TKernel.RunNarrowMasked<Rows1>(kc, a, b, bStride, c, ldc, alpha, beta, width); break;
        }
    }

    /// <summary>The kernel (full width or narrow) compiled for <paramref name="rows"/> rows, 1 to Mr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunKernel(int rows, bool narrow, int kc, in APanel a, float* b, nint bStride,
        float* c, nint ldc, float alpha, float beta)
    {
        Debug.Assert(rows >= 1 && rows <= TKernel.Mr);
        switch (rows)
        {
            case 6: if (narrow) TKernel.RunNarrow<Rows6>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows6>(kc, a, b, bStride, c, ldc, alpha, beta); break;
            case 5: if (narrow) TKernel.RunNarrow<Rows5>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows5>(kc, a, b, bStride, c, ldc, alpha, beta); break;
            case 4: if (narrow) TKernel.RunNarrow<Rows4>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows4>(kc, a, b, bStride, c, ldc, alpha, beta); break;
            case 3: if (narrow) TKernel.RunNarrow<Rows3>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows3>(kc, a, b, bStride, c, ldc, alpha, beta); break;
            case 2: if (narrow) TKernel.RunNarrow<Rows2>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows2>(kc, a, b, bStride, c, ldc, alpha, beta); break;
            default: if (narrow) TKernel.RunNarrow<Rows1>(kc, a, b, bStride, c, ldc, alpha, beta); else TKernel.Run<Rows1>(kc, a, b, bStride, c, ldc, alpha, beta); break;
        }
    }
}

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
    public int* NonFiniteFlag;     // null, or set to 1 when a value of op(A) op(B) is NaN or infinite (the epilogue looks)
    public bool KeepBPanelInL1;    // the loop order: B micro-panel in L1 (BLIS), else A micro-panel (see GemmBlocking)
    public bool PackRowMajorA;     // pack a row-major A (as a transposed one) when C is wider than NB
    public bool PackRowMajorB;     // pack every row-major B rather than read it in place where the rules allow (FASTNET_GEMM_PACK_B=1)
    public float* PackedB;         // null, or B packed once for this kernel (PrepackedB): no packing, no B read in place
    public nint PackedBRowLength;  // PrepackedB.RowLength: floats per depth step of PackedB

    public readonly bool HasEpilogue => Bias != null || Activation != Activation.None || NonFiniteFlag != null;

    /// <summary>
    /// Whether A is packed into micro-panels in row blocks (MB, or MC in the B-panel order): a transposed A, or any with
    /// <see cref="PackRowMajorA"/>, under a C wider than one column block (see GemmDriver.RunColumns for why).
    /// </summary>
    public readonly bool PacksA => (TransA || PackRowMajorA) && N > GemmBlocking.NB;
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
        int nb = GemmBlocking.EvenBlock(n1 - n0, GemmBlocking.NB, TKernel.Nr);
        if (p.K > GemmBlocking.DepthBlock(p.K, p.N) && n1 - n0 > nb)
        {
            for (int j0 = n0; j0 < n1; j0 += nb) RunColumns(p, m0, m1, j0, Math.Min(n1, j0 + nb), nb, buffers);
        }
        else
        {
            RunColumns(p, m0, m1, n0, n1, nb, buffers);
        }
    }

    /// <summary>The loop nest of <see cref="GemmBlocking"/> over one rectangle of C, in column blocks of <paramref name="nb"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunColumns(in GemmProblem p, int m0, int m1, int n0, int n1, int nb, GemmPackBuffers buffers)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        // A row-major A is read in place (unless FASTNET_GEMM_PACK_A asks for it to be packed like a transposed
        // one). So is a transposed one when C is at most one block wide (a weight
        // gradient X^T dZ with a narrow dZ): each depth step then reads Mr adjacent values of one row, and a
        // packed copy, used for only a few column tiles, would cost more than it saves (training T1 and the GRU
        // ran 3-10% faster without it). Wider products pack transposed A, MB rows at a time, and reuse it for
        // every column block. In place, rows need no blocking when the A micro-panel is the one kept in L1: one
        // block keeps B packed once per depth block. When the B micro-panel is kept in L1 instead, the A panels it
        // meets stream from L2, so rows go in L2-sized blocks of MC (see GemmConfiguration.L1Panel).
        bool packA = p.PacksA;
        bool bInL1 = p.KeepBPanelInL1;
        int mb = bInL1 ? GemmBlocking.EvenBlock(m1 - m0, GemmBlocking.MC, mr)
            : packA ? GemmBlocking.EvenBlock(m1 - m0, GemmBlocking.MB, mr)
            : Math.Max(mr, m1 - m0);
        int kcStep = GemmBlocking.DepthBlock(p.K, p.N);
        Debug.Assert(kcStep <= GemmBlocking.KC || !packA, "a whole-depth block is never one of packed A (C is at most NB wide)");
        for (int pc = 0; pc < p.K; pc += kcStep)
        {
            int kc = Math.Min(kcStep, p.K - pc);
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

            if (bInL1)
            {
                RunBlockKeepingBInL1(p, pc, kc, packA, m0, m1, n0, n1, mb, nb, buffers);
                continue;
            }

            float beta = pc == 0 ? p.Beta : 1f;     // later depth blocks accumulate onto C
            bool lastDepthBlock = pc + kc == p.K;

            // A micro-panel in L1 (the GotoBLAS order for this kernel shape): each A micro-panel meets every B
            // micro-panel of the column block, which stream from L2.
            for (int i0 = m0; i0 < m1; i0 += mb)
            {
                int height = Math.Min(mb, m1 - i0);
                if (packA) PackABlock(p, pc, kc, i0, height, buffers);
                for (int j0 = n0; j0 < n1; j0 += nb)
                {
                    int width = Math.Min(nb, n1 - j0);
                    int fullWidth = PackB(p, pc, kc, j0, width, buffers, out float* panels);
                    for (int i = 0; i < height; i += mr)
                    {
                        int h = Math.Min(mr, height - i);   // the last panel may be short: the kernel runs h rows
                        APanel aPanel = APanelAt(p, pc, kc, packA, i0, i, h, buffers);
                        for (int j = 0; j < width; j += nr)
                            RunTile(p, aPanel, pc, kc, beta, lastDepthBlock, i0 + i, h, j0, j, Math.Min(nr, width - j), fullWidth, panels, buffers);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One depth block over the rectangle with the B micro-panel kept in L1 (the BLIS order): B is packed once per column
    /// block, then each of its micro-panels meets every A micro-panel of an MC-row block before the next is loaded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void RunBlockKeepingBInL1(in GemmProblem p, int pc, int kc, bool packA, int m0, int m1, int n0, int n1,
        int mb, int nb, GemmPackBuffers buffers)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        float beta = pc == 0 ? p.Beta : 1f;
        bool lastDepthBlock = pc + kc == p.K;
        for (int j0 = n0; j0 < n1; j0 += nb)
        {
            int width = Math.Min(nb, n1 - j0);
            int fullWidth = PackB(p, pc, kc, j0, width, buffers, out float* panels);
            for (int i0 = m0; i0 < m1; i0 += mb)
            {
                int height = Math.Min(mb, m1 - i0);
                if (packA) PackABlock(p, pc, kc, i0, height, buffers);
                for (int j = 0; j < width; j += nr)
                {
                    for (int i = 0; i < height; i += mr)
                    {
                        int h = Math.Min(mr, height - i);
                        RunTile(p, APanelAt(p, pc, kc, packA, i0, i, h, buffers), pc, kc, beta, lastDepthBlock, i0 + i, h, j0, j,
                            Math.Min(nr, width - j), fullWidth, panels, buffers);
                    }
                }
            }
        }
    }

    /// <summary>Packs rows [i0, i0 + height) of op(A) at this depth block into MR-row micro-panels (see APanelAt).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackABlock(in GemmProblem p, int pc, int kc, int i0, int height, GemmPackBuffers buffers)
    {
        if (p.TransA) GemmPacking.PackTransposedA(p.A, p.Lda, p.ARows, pc, kc, i0, height, TKernel.Mr, buffers.A);
        else GemmPacking.PackA(p.A, p.Lda, p.ARows, pc, kc, i0, height, TKernel.Mr, buffers.A);
    }

    /// <summary>
    /// Packs what the kernels cannot read in place of columns [j0, j0 + width) at this depth block; returns how many of
    /// those columns are read in place (the first ones), and in <paramref name="panels"/> where the packed panels of
    /// the block start (the panel of column j0 + j at j x kc). A row-major B no wider than one block is read in place:
    /// its KC x N rows fit in L2 as they are, and packing them would cost a copy of B per call (training changes W every
    /// step). So is a wider one under a C of few rows (<see cref="GemmBlocking.ReadsWideBInPlace(int, int, nint)"/>), where the copy would
    /// be read only a few times. Only the partial last panel is packed, with zero padding. Other wide Bs are packed, and
    /// so is every row-major one with FASTNET_GEMM_PACK_B=1 (see GemmConfiguration.PacksRowMajorB). A B packed once
    /// (<see cref="PrepackedB"/>) is only pointed at.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PackB(in GemmProblem p, int pc, int kc, int j0, int width, GemmPackBuffers buffers, out float* panels)
    {
        if (p.PackedB != null)
        {
            panels = p.PackedB + pc * p.PackedBRowLength + (nint)j0 * kc;
            return 0;
        }

        panels = buffers.B;
        int nr = TKernel.Nr;
        bool bInPlace = !p.TransB && !p.PackRowMajorB && (p.N <= GemmBlocking.NB || GemmBlocking.ReadsWideBInPlace(p.M, kc, p.Ldb));
        int fullWidth = bInPlace ? width / nr * nr : 0;
        // A kernel with masked loads reads a narrow last panel of a row-major B in place as well.
        if (bInPlace && TKernel.HasMaskedNarrow && width - fullWidth <= TKernel.NarrowNr) fullWidth = width;
        if (fullWidth < width)
            GemmPacking.PackB(p.B, p.Ldb, p.TransB, pc, kc, j0 + fullWidth, width - fullWidth, nr, TKernel.NarrowNr, buffers.B + (nint)fullWidth * kc);
        return fullWidth;
    }

    /// <summary>Where the kernel reads the h-row A micro-panel at row i of the row block starting at i0, in the depth block at pc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static APanel APanelAt(in GemmProblem p, int pc, int kc, bool packA, int i0, int i, int h, GemmPackBuffers buffers)
    {
        nint* depth = buffers.DepthOffsets;
        return packA ? APanel.Strided(buffers.A + (nint)i * kc, 1, depth)
            // op(A)(r, d) = A[d, r] in place: a depth step reads h adjacent floats of one stored row.
            : p.TransA ? APanel.Strided(p.A + i0 + i, 1, depth)
            // Gathered rows (a mini-batch where its samples lie), read in place.
            : p.ARows != null ? APanel.Gathered(p.A, p.Lda, p.ARows + i0 + i, h, pc, depth)
            // Row-major A: broadcasts walk the panel's rows side by side.
            : APanel.Strided(p.A + (i0 + i) * p.Lda + pc, p.Lda, depth);
    }

    /// <summary>
    /// The h x w tile of C at <paramref name="row"/>, column j0 + j (j relative to the column block, whose first
    /// <paramref name="fullWidth"/> columns are read in place, the others from the packed <paramref name="panels"/>), for
    /// the depth block of depth kc at pc: one kernel call, then the epilogue after the last depth block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunTile(in GemmProblem p, in APanel aPanel, int pc, int kc, float beta, bool lastDepthBlock,
        int row, int h, int j0, int j, int w, int fullWidth, float* panels, GemmPackBuffers buffers)
    {
        bool panelInPlace = j < fullWidth;
        float* bPanel = panelInPlace ? p.B + pc * p.Ldb + j0 + j : panels + (nint)j * kc;
        nint bStride = panelInPlace ? p.Ldb : GemmPacking.PanelStride(w, TKernel.Nr, TKernel.NarrowNr);
        float* cTile = p.C + row * p.Ldc + j0 + j;
        if (w == TKernel.Nr || w == TKernel.NarrowNr)
            RunKernel(h, w != TKernel.Nr, kc, aPanel, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta);
        else if (TKernel.HasMaskedNarrow && w < TKernel.NarrowNr)
            RunMasked(h, kc, aPanel, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta, w);
        else
            RunEdgeTile(kc, aPanel, bPanel, bStride, cTile, p.Ldc, h, w, p.Alpha, beta, buffers.Tile);

        if (lastDepthBlock && p.HasEpilogue)
            GemmEpilogue.Apply(cTile, p.Ldc, h, w, p.Bias == null ? null : p.Bias + j0 + j, p.Activation, p.NonFiniteFlag);
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

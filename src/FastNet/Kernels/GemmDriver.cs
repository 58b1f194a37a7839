namespace FastNet.Kernels;

/// <summary>The pointers and scalars of one GEMM call; the caller keeps every pointer pinned meanwhile.</summary>
internal unsafe struct GemmProblem
{
    public float* A; public nint Lda; public bool TransA;
    public float* B; public nint Ldb; public bool TransB;
    public float* C; public nint Ldc;
    public int M, N, K;
    public float Alpha, Beta;
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
    public static void Run(in GemmProblem p, int m0, int m1, int n0, int n1, GemmPackBuffers buffers)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        // Row-major A is read in place, so rows need no blocking: one block keeps B packed once per depth
        // block. A transposed A is packed, MB rows at a time.
        int mb = p.TransA ? GemmBlocking.MB / mr * mr : Math.Max(mr, m1 - m0);
        int nb = GemmBlocking.NB / nr * nr;
        int kcStep = GemmBlocking.DepthBlock(p.K);
        for (int pc = 0; pc < p.K; pc += kcStep)
        {
            int kc = Math.Min(kcStep, p.K - pc);
            float beta = pc == 0 ? p.Beta : 1f;     // later depth blocks accumulate onto C
            bool lastDepthBlock = pc + kc == p.K;
            for (int i0 = m0; i0 < m1; i0 += mb)
            {
                int height = Math.Min(mb, m1 - i0);
                if (p.TransA) GemmPacking.PackA(p.A, p.Lda, true, pc, kc, i0, height, mr, buffers.A);
                for (int j0 = n0; j0 < n1; j0 += nb)
                {
                    int width = Math.Min(nb, n1 - j0);
                    // A row-major B no wider than one block is read in place: its KC x N rows fit in L2 as they
                    // are, and packing them would cost a copy of B per call (training changes W every step).
                    // Only the partial last panel is packed, with zero padding. Wider Bs are packed.
                    bool bInPlace = !p.TransB && p.N <= GemmBlocking.NB;
                    int fullWidth = bInPlace ? width / nr * nr : 0;
                    if (fullWidth < width)
                        GemmPacking.PackB(p.B, p.Ldb, p.TransB, pc, kc, j0 + fullWidth, width - fullWidth, nr, TKernel.NarrowNr, buffers.B + (nint)fullWidth * kc);
                    for (int i = 0; i < height; i += mr)
                    {
                        int h = Math.Min(mr, height - i);
                        float* aPanel;
                        nint rowStride, depthStride;
                        if (p.TransA)
                        {
                            aPanel = buffers.A + (nint)i * kc; rowStride = 1; depthStride = mr;
                        }
                        else if (h == mr)
                        {
                            // Row-major A is read in place: broadcasts walk mr rows side by side.
                            aPanel = p.A + (i0 + i) * p.Lda + pc; rowStride = p.Lda; depthStride = 1;
                        }
                        else
                        {
                            // The last, partial row panel is packed with zero rows so the kernel reads no further.
                            GemmPacking.PackA(p.A, p.Lda, false, pc, kc, i0 + i, h, mr, buffers.A);
                            aPanel = buffers.A; rowStride = 1; depthStride = mr;
                        }

                        for (int j = 0; j < width; j += nr)
                        {
                            int w = Math.Min(nr, width - j);
                            bool panelInPlace = j < fullWidth;
                            float* bPanel = panelInPlace ? p.B + pc * p.Ldb + j0 + j : buffers.B + (nint)j * kc;
                            nint bStride = panelInPlace ? p.Ldb : GemmPacking.PanelStride(w, nr, TKernel.NarrowNr);
                            float* cTile = p.C + (i0 + i) * p.Ldc + j0 + j;
                            if (h == mr && w == nr)
                                TKernel.Run(kc, aPanel, rowStride, depthStride, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta);
                            else if (h == mr && w == TKernel.NarrowNr)
                                TKernel.RunNarrow(kc, aPanel, rowStride, depthStride, bPanel, bStride, cTile, p.Ldc, p.Alpha, beta);
                            else
                                RunEdgeTile(kc, aPanel, rowStride, depthStride, bPanel, bStride, cTile, p.Ldc, h, w, p.Alpha, beta, buffers.Tile);

                            if (lastDepthBlock && p.HasEpilogue)
                                GemmEpilogue.Apply(cTile, p.Ldc, h, w, p.Bias == null ? null : p.Bias + j0 + j, p.Activation);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A tile cut by the edge of C: the kernel (the narrow one when the columns fit) runs on a scratch tile and
    /// only the valid h x w part is copied in and out. Which kernel computes an element depends only on its
    /// place in C, so results stay the same for every thread count.
    /// </summary>
    private static void RunEdgeTile(int kc, float* a, nint rowStride, nint depthStride, float* b, nint bStride, float* c, nint ldc,
        int h, int w, float alpha, float beta, float* tile)
    {
        int nr = TKernel.Nr;
        nint rowBytes = (nint)w * sizeof(float);
        if (beta != 0f)
        {
            for (int r = 0; r < h; r++)
                Buffer.MemoryCopy(c + r * ldc, tile + r * nr, rowBytes, rowBytes);
        }

        if (w <= TKernel.NarrowNr) TKernel.RunNarrow(kc, a, rowStride, depthStride, b, bStride, tile, nr, alpha, beta);
        else TKernel.Run(kc, a, rowStride, depthStride, b, bStride, tile, nr, alpha, beta);
        for (int r = 0; r < h; r++)
            Buffer.MemoryCopy(tile + r * nr, c + r * ldc, rowBytes, rowBytes);
    }
}

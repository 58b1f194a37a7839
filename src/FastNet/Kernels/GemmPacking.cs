using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// Copies blocks of A and B into the contiguous micro-panel layouts the micro-kernels stream through.
/// Packing absorbs the transposes and zero-pads edge panels, so the micro-kernel never branches.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs B[pc .. pc+kc, j0 .. j0+width] (of op(B), K x N) as panels of <paramref name="nr"/> columns:
    /// panel q holds <c>dst[q*kc*nr + p*stride + jj]</c>, zero beyond column <paramref name="width"/>. The stride
    /// is <paramref name="nr"/>, except for a last panel no wider than <paramref name="narrowNr"/>, which is
    /// packed <paramref name="narrowNr"/> wide for the narrow kernel (see <see cref="PanelStride"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void PackB(float* b, nint ldb, bool transposed, int pc, int kc, int j0, int width, int nr, int narrowNr, float* dst)
    {
        int full = width / nr * nr;
        bool wide = nr % 16 == 0 && Vector512.IsHardwareAccelerated;
        if (!transposed && full > nr && (wide || (nr % 8 == 0 && Vector256.IsHardwareAccelerated)))
        {
            // Several full panels of a row-major B: walk each source row once, left to right, handing its pieces
            // to every panel. Reading panel by panel instead jumps a whole row (often 4 KiB) per panel row read:
            // the AVX2 kernel's 64-byte panel rows then cost a cache line from another page each, and packed
            // 1.8-2.1x slower per float than this walk (bench/results/zen5-avx512/gemm-pack.md, AVX-512 off on a Zen 5).
            float* src = b + (nint)pc * ldb + j0;
            for (int p = 0; p < kc; p++, src += ldb)
            {
                float* row = dst + (nint)p * nr;
                if (wide)
                {
                    for (int q = 0; q < full; q += nr, row += (nint)nr * kc)
                        for (int jj = 0; jj < nr; jj += 16) Vector512.Store(Vector512.Load(src + q + jj), row + jj);
                }
                else
                {
                    for (int q = 0; q < full; q += nr, row += (nint)nr * kc)
                        for (int jj = 0; jj < nr; jj += 8) Vector256.Store(Vector256.Load(src + q + jj), row + jj);
                }
            }

            if (full == width) return;
            PackPanel(src - (nint)kc * ldb + full, ldb, kc, width - full, PanelStride(width - full, nr, narrowNr), dst + (nint)full * kc);
            return;
        }

        for (int q = 0; q < width; q += nr)
        {
            int w = Math.Min(nr, width - q);
            int stride = PanelStride(w, nr, narrowNr);
            float* panel = dst + (nint)q * kc;
            if (transposed)
                PackTransposedPanel(b + (nint)(j0 + q) * ldb + pc, ldb, kc, w, stride, panel);
            else
                PackPanel(b + (nint)pc * ldb + j0 + q, ldb, kc, w, stride, panel);
        }
    }

    /// <summary>Row stride of a packed panel of <paramref name="w"/> valid columns: narrow panels are packed narrow.</summary>
    public static int PanelStride(int w, int nr, int narrowNr) => w < nr && w <= narrowNr ? narrowNr : nr;

    /// <summary>Rows of a row-major source become rows of the panel: contiguous copies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void PackPanel(float* src, nint ld, int kc, int w, int nr, float* panel)
    {
        if (w == nr && nr % 16 == 0 && Vector512.IsHardwareAccelerated)
        {
            // Full AVX-512 panels (the common case): a row is a few vector moves, cheaper than a call to memmove.
            for (int p = 0; p < kc; p++, src += ld, panel += nr)
                for (int jj = 0; jj < nr; jj += 16) Vector512.Store(Vector512.Load(src + jj), panel + jj);
            return;
        }

        nint bytes = (nint)w * sizeof(float);
        for (int p = 0; p < kc; p++)
        {
            Buffer.MemoryCopy(src, panel, bytes, bytes);
            for (int jj = w; jj < nr; jj++) panel[jj] = 0f;
            src += ld;
            panel += nr;
        }
    }

    /// <summary>
    /// Source rows are panel columns: src[jj*ld + p] goes to panel[p*nr + jj]. Done as 8 x 8 register
    /// transposes where AVX allows, so reads and writes both stay contiguous.
    /// </summary>
    /// <remarks>
    /// In a panel wider than 16 columns (AVX-512's 64), sixteen source rows go together, sixteen depth steps at a time
    /// (four transposes, the first eight rows' two before the next eight's): each panel line (16 columns of one depth
    /// step) is written whole. Eight rows at a time wrote half lines, and the other half of each came only after the
    /// whole depth block (kc x nr floats, 86 KiB for a 64-wide panel at KC 344), by when the line had left L1: 0.104 ->
    /// 0.091 ns per float on Zen 5. A 16-wide panel (AVX2) keeps eight rows at a time: its depth block, kc x 64 bytes,
    /// stays in L1 until the second half comes, and the paired order measured 0.073-0.080 -> 0.086 ns per float there
    /// (AVX-512 off on the same Zen 5; bench/results/zen5-avx512/gemm-pack.md).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void PackTransposedPanel(float* src, nint ld, int kc, int w, int nr, float* panel)
    {
        int jj = 0;
        if (Avx.IsSupported)
        {
            for (; nr > 16 && jj + 16 <= w; jj += 16)
            {
                float* s0 = src + jj * ld, s1 = s0 + 8 * ld, d = panel + jj;
                int p = 0;
                for (; p + 16 <= kc; p += 16)
                {
                    nint row = (nint)p * nr;
                    Transpose8x8(s0 + p, ld, d + row, nr);
                    Transpose8x8(s0 + p + 8, ld, d + row + 8 * nr, nr);
                    Transpose8x8(s1 + p, ld, d + row + 8, nr);
                    Transpose8x8(s1 + p + 8, ld, d + row + 8 * nr + 8, nr);
                }

                PackTransposedRows8(s0, ld, p, kc, d, nr);
                PackTransposedRows8(s1, ld, p, kc, d + 8, nr);
            }

            for (; jj + 8 <= w; jj += 8) PackTransposedRows8(src + jj * ld, ld, 0, kc, panel + jj, nr);
        }

        for (; jj < w; jj++)
        {
            float* s = src + jj * ld;
            for (int p = 0; p < kc; p++) panel[(nint)p * nr + jj] = s[p];
        }

        for (jj = w; jj < nr; jj++)
            for (int p = 0; p < kc; p++) panel[(nint)p * nr + jj] = 0f;
    }

    /// <summary>Eight source rows (src, src + ld, ...) from depth step p on: dst[q*nr + t] = src[t*ld + q] for q in [p, kc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackTransposedRows8(float* src, nint ld, int p, int kc, float* dst, int nr)
    {
        for (; p + 8 <= kc; p += 8)
            Transpose8x8(src + p, ld, dst + (nint)p * nr, nr);
        for (; p < kc; p++)
            for (int t = 0; t < 8; t++)
                dst[(nint)p * nr + t] = src[t * ld + p];
    }

    /// <summary>dst[c*ldd + r] = src[r*lds + c] for an 8 x 8 block (the classic unpack/shuffle/permute transpose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);

        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        StoreTransposed(t0, t1, t2, t3, t4, t5, t6, t7, dst, ldd);
    }

    /// <summary>
    /// Packs rows i0 .. i0+height of a row-major A (row r at <c>a + r * lda</c>, or at <c>a + storedRows[r] * lda</c>
    /// when <paramref name="storedRows"/> is given), depth pc .. pc+kc, as panels of <paramref name="mr"/> rows: panel q
    /// holds <c>dst[q*kc*mr + p*mr + r]</c>, the layout of <see cref="PackTransposedA"/>. A short last panel leaves its
    /// rows beyond the valid ones unwritten (the kernel runs with that panel's row count).
    /// </summary>
    /// <remarks>
    /// In place, a micro-kernel reads A's rows side by side: six streams lda apart, which a power-of-two lda maps onto
    /// the same cache sets. Packed, the panel is one contiguous stream (what OpenBLAS and BLIS always do).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void PackA(float* a, nint lda, int* storedRows, int pc, int kc, int i0, int height, int mr, float* dst)
    {
        for (int q = 0; q < height; q += mr)
        {
            int h = Math.Min(mr, height - q);
            float* panel = dst + (nint)q * kc;
            int p = 0;
            if (h == 6 && mr == 6 && Avx.IsSupported)
            {
                // Eight depth steps of the six rows at a time: an 8 x 8 transpose whose rows 6 and 7 repeat row 5.
                // Each step's 8-float store spills 2 floats into the next step's slot, rewritten next; the last
                // one lands in the next panel (packed later) or the slack behind the buffer (see GemmPackBuffers).
                float* r0 = Row(q), r1 = Row(q + 1), r2 = Row(q + 2), r3 = Row(q + 3), r4 = Row(q + 4), r5 = Row(q + 5);
                for (; p + 8 <= kc; p += 8)
                    Transpose6x8(r0 + p, r1 + p, r2 + p, r3 + p, r4 + p, r5 + p, panel + (nint)p * mr, mr);
            }

            for (; p < kc; p++)
                for (int r = 0; r < h; r++) panel[(nint)p * mr + r] = Row(q + r)[p];
        }

        float* Row(int r) => a + (storedRows != null ? (nint)storedRows[i0 + r] : i0 + r) * lda + pc;
    }

    /// <summary>dst[c*ldd + r] = row_r[c] for six rows of eight floats (the 8 x 8 transpose with row 5 standing in for rows 6 and 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose6x8(float* s0, float* s1, float* s2, float* s3, float* s4, float* s5, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(s0), r1 = Avx.LoadVector256(s1), r2 = Avx.LoadVector256(s2);
        Vector256<float> r3 = Avx.LoadVector256(s3), r4 = Avx.LoadVector256(s4), r5 = Avx.LoadVector256(s5);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r5, r5), t7 = Avx.UnpackHigh(r5, r5);
        StoreTransposed(t0, t1, t2, t3, t4, t5, t6, t7, dst, ldd);
    }

    /// <summary>The shuffle and permute stages of the 8 x 8 transpose, after the unpacks of row pairs (0,1), (2,3), (4,5), (6,7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed(Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, Vector256<float> t3,
        Vector256<float> t4, Vector256<float> t5, Vector256<float> t6, Vector256<float> t7, float* dst, nint ldd)
    {
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// Packs rows i0 .. i0+height of op(A) (M x K) for a transposed stored A (K x M; its row p at
    /// <c>a + storedRows[p] * lda</c> when <paramref name="storedRows"/> is given), depth pc .. pc+kc, as panels of
    /// <paramref name="mr"/> rows: panel q holds <c>dst[q*kc*mr + p*mr + r]</c>. A short last panel leaves its rows
    /// beyond the valid ones unwritten: the kernel then runs with that panel's row count and never reads them.
    /// (A row-major A is packed by <see cref="PackA"/>, only where FASTNET_GEMM_PACK_A asks for it.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void PackTransposedA(float* a, nint lda, int* storedRows, int pc, int kc, int i0, int height, int mr, float* dst)
    {
        if (storedRows != null)
        {
            // Stored rows gathered from anywhere (a mini-batch where its samples lie): step by step.
            for (int q = 0; q < height; q += mr)
            {
                int h = Math.Min(mr, height - q);
                float* panel = dst + (nint)q * kc;
                for (int p = 0; p < kc; p++, panel += mr)
                {
                    float* src = a + (nint)storedRows[pc + p] * lda + i0 + q;
                    for (int r = 0; r < h; r++) panel[r] = src[r];
                }
            }

            return;
        }

        for (int q = 0; q < height; q += mr)
        {
            int h = Math.Min(mr, height - q);
            float* panel = dst + (nint)q * kc;
            // op(A)(i, p) = A[p*lda + i]: each depth step is a contiguous run of h values.
            float* src = a + (nint)pc * lda + i0 + q;
            if (h == mr && mr <= 8 && q + 8 <= height && Vector256.IsHardwareAccelerated)
            {
                // Copy 8 floats per step, mr of them wanted: the extra ones land in the next step's slot
                // (rewritten next) or, after the last step, in the next panel or the slack behind the
                // buffer (see GemmPackBuffers). The source has 8 valid floats: q + 8 <= height.
                for (int p = 0; p < kc; p++, src += lda, panel += mr)
                    Vector256.Store(Vector256.Load(src), panel);
            }
            else
            {
                for (int p = 0; p < kc; p++, src += lda, panel += mr)
                    for (int r = 0; r < h; r++) panel[r] = src[r];
            }
        }
    }
}

namespace FastNet.Kernels;

/// <summary>
/// Every cache-blocking size of the GEMM in one place (BLIS/GotoBLAS scheme, row-major C[M x N]); KC, NB and MB come
/// from the host's caches (<see cref="GemmConfiguration"/>).
/// </summary>
/// <remarks>
/// Loop nest of one task (a rectangle of C):
/// <code>
/// for pc in K by KC            // rank-KC update; the K order is the same for every thread count
///   for mb in M by MB          // A block (packed here when A is transposed, or FASTNET_GEMM_PACK_A=1, and C wider than NB): L3
///     for nb in N by NB        // B block packed into KC x NB (about 9/16 of L2), or read in place (see GemmDriver.PackB)
///       for i in mb by MR      // A micro-panel, MR x KC: stays in L1
///         for j in nb by NR    // B micro-panel, KC x NR: streamed from L2
///           micro-kernel: C[MR x NR] += A-panel * B-panel
/// </code>
/// With the B micro-panel kept in L1 instead (FASTNET_GEMM_L1_PANEL=B, the BLIS order; see GemmConfiguration.L1Panel):
/// <code>
/// for pc in K by KC
///   for nb in N by NB          // B block packed into KC x NB, once per depth block
///     for mc in M by MC        // A block, MC x KC (packed as above): L2
///       for j in nb by NR      // B micro-panel, KC x NR: stays in L1
///         for i in mc by MR    // A micro-panel, MR x KC: streamed from L2
///           micro-kernel
/// </code>
/// Either way each tile of C is one kernel call per depth block on the same operands, so the bits are the same.
/// "X by B" cuts X into the fewest equal blocks of at most B (<see cref="DepthBlock"/> for K, which takes a K up to
/// <see cref="WholeDepth"/> whole where B is narrow; <see cref="EvenBlock"/> on the tile grid for M and N).
/// </remarks>
internal static class GemmBlocking
{
    /// <summary>Depth of one rank-k update. The A micro-panel (MR x KC) must sit in L1 beside a B micro-panel stream.</summary>
    public static readonly int KC = GemmConfiguration.Current.DepthBlock;

    /// <summary>
    /// The deepest K taken as one depth block where op(B) is narrow (see <see cref="DepthBlock"/>): its A micro-panel fills
    /// at most half of L1d (<see cref="GemmConfiguration.WholeDepth"/>).
    /// </summary>
    public static readonly int WholeDepth = GemmConfiguration.Current.WholeDepth;

    /// <summary>
    /// The depth of each rank-k update of a K-deep product with N columns. The whole of K, rounded up to a multiple of 8,
    /// when it is at most <see cref="WholeDepth"/> and its B block is no larger than a KC x NB one (N rounded up to 64,
    /// the widest micro-panel, so that the pack buffer sized for KC x NB holds any packed part of it): each tile of C is
    /// then loaded and stored once. Otherwise K split into equal blocks of at most <see cref="KC"/> (784 = 264 + 264 + 256,
    /// not 384 + 384 + 16: a thin last block pays a full load and store of C for little work), rounded up to a multiple
    /// of 8. It depends on K and N alone, so every thread count sums in the same order.
    /// </summary>
    public static int DepthBlock(int k, int n)
    {
        if (k <= WholeDepth && (long)k * ((n + 63) & ~63) <= (long)KC * NB) return (k + 7) & ~7;
        int blocks = (k + KC - 1) / KC;
        int depth = (k + blocks - 1) / Math.Max(1, blocks);
        return Math.Min(KC, (depth + 7) & ~7);
    }

    /// <summary>
    /// The size of each block when <paramref name="extent"/> columns (or rows) are cut into the fewest blocks of at most
    /// <paramref name="maxBlock"/>: equal blocks on the grid of <paramref name="step"/> (NR or MR), the last one shorter
    /// where the extent is not a whole number of them. A 512-column rectangle under NB = 384 goes in two blocks of 256,
    /// not 384 + 128: in a 128-wide block each A micro-panel, fetched from beyond L2, serves two kernel calls instead of
    /// four. Blocks start on the tile grid either way, so every tile is the same kernel call and the bits do not change.
    /// </summary>
    public static int EvenBlock(int extent, int maxBlock, int step)
    {
        int steps = (extent + step - 1) / step, maxSteps = Math.Max(1, maxBlock / step);
        int blocks = (steps + maxSteps - 1) / maxSteps;
        return Math.Max(1, (steps + blocks - 1) / Math.Max(1, blocks)) * step;   // never 0: a loop steps by it
    }

    /// <summary>Columns of B packed at once: KC x NB floats live in L2 (576 KiB of a 1 MiB L2).</summary>
    public static readonly int NB = GemmConfiguration.Current.ColumnBlock;

    /// <summary>
    /// The most rows of C for which a row-major B wider than <see cref="NB"/> is read in place, as a narrower one always
    /// is, instead of packed per call (see <see cref="ReadsWideBInPlace(int, int, nint)"/>).
    /// </summary>
    public const int WideBInPlaceMaxRows = 64;

    /// <summary>
    /// Whether a row-major B wider than NB, with rows <paramref name="ldb"/> floats apart, is read in place for a C of
    /// <paramref name="m"/> rows and a depth block of <paramref name="kc"/>. A packed B is read once per A micro-panel, so
    /// a product of few rows (the GRU's F = 28 row input-weight gradient, its per-step recurrent product on a block of 32
    /// sequences, a small training batch) pays a whole copy of B per call for a handful of reads. Up to 64 rows, in place
    /// ran faster on Zen 5: +3% to +12% on the emulated AVX2 path (28 x 1792 x 384 with A transposed +9%), up to +48% on
    /// AVX-512 (16 x 784 x 1280; 64 x 640 x 640 even: 1.00) (bench/results/zen5-avx512/wide-b-in-place.md and
    /// emulated-avx2/). Past it, packed wins: at 128 and 256 rows in place lost 5-9% on AVX-512.
    /// <para>
    /// In place, the kc rows of one micro-panel column lie ldb floats apart, and rows whose distance is a multiple of a
    /// large power of two fall into few L2 sets: with rows 2^b bytes apart (b the power of two in 4 ldb, at least a
    /// 64-byte line) a set-associative L2 holds at most L2 / 2^b of them, whatever its ways, before they evict each other.
    /// So B is read in place only where that is at least 1.5 kc, room for the A panels and C tiles that share those sets
    /// (<see cref="L2Bytes"/> / 2^b &gt;= 1.5 kc); otherwise packed. A simulated Zen 3 L2 (512 KiB, 8-way, KC 384) missed
    /// 3.6-4.5x as often as packed on rows 2 KiB apart read in place (capacity 256 rows against depth blocks of 264),
    /// still 1.5-1.8x as often where a 256-deep last block was let in at exactly 1 kc, and as often as packed at 1.9 kc
    /// (768 floats apart) and above (cache-sim.md in bench/results/simulated/wide-b-in-place/, wide-b-one-kc/ and
    /// wide-b-l2-sets/); on the emulated AVX2 path rows 4 KiB apart lost 19-36% in place, on a real 1 MiB L2
    /// (wide-b-in-place-limits.md). Packing rows 2 KiB apart where L2 holds them cost 2-7% (emulated-avx2/wide-b-l2-sets.md).
    /// </para>
    /// </summary>
    public static bool ReadsWideBInPlace(int m, int kc, nint ldb) => ReadsWideBInPlace(m, kc, ldb, L2Bytes);

    /// <summary><see cref="ReadsWideBInPlace(int, int, nint)"/> for an L2 of <paramref name="l2Bytes"/> (tests give other hosts' sizes).</summary>
    internal static bool ReadsWideBInPlace(int m, int kc, nint ldb, long l2Bytes) =>
        m <= WideBInPlaceMaxRows && 2 * (l2Bytes / Math.Max(64L, (long)(4 * ldb & -(4 * ldb)))) >= 3L * kc;

    /// <summary>The L2 size the block rule was given (<see cref="GemmConfiguration.L2Bytes"/>).</summary>
    public static readonly long L2Bytes = GemmConfiguration.Current.L2Bytes;

    /// <summary>Rows of packed A per block (see <see cref="GemmDriver{TKernel}"/>): MB x KC floats live in this core's share of L3.</summary>
    public static readonly int MB = GemmConfiguration.Current.RowBlock;

    /// <summary>Whether the B micro-panel stays in L1 and A panels stream past it (the BLIS order), not the other way round.</summary>
    public static readonly bool KeepsBPanelInL1 = GemmConfiguration.Current.L1Panel == 'B';

    /// <summary>Whether a row-major A is packed into micro-panels (as a transposed one is) when C is wider than NB.</summary>
    public static readonly bool PacksRowMajorA = GemmConfiguration.Current.PacksRowMajorA;

    /// <summary>Whether every row-major B is packed (as other wide ones are) rather than read in place where the rules allow.</summary>
    public static readonly bool PacksRowMajorB = GemmConfiguration.Current.PacksRowMajorB;

    /// <summary>Rows of A per block when <see cref="KeepsBPanelInL1"/>: MC x KC floats live in L2.</summary>
    public static readonly int MC = GemmConfiguration.Current.StreamedRowBlock;

    /// <summary>At most this many rows go to the GEMV path: no packing, no threads.</summary>
    public const int GemvMaxRows = 2;

    /// <summary>
    /// Floating-point operations (2*m*n*k) below which a task is not worth its scheduling cost
    /// (waking a worker and sharing C cost a few microseconds, i.e. a few hundred kFLOP at 100 GFLOP/s).
    /// </summary>
    public const long MinFlopsPerTask = 3_000_000;

    /// <summary>Alignment of pack buffers in bytes: one cache line, one Vector512.</summary>
    public const int Alignment = 64;
}

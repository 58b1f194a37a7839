using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// What the GEMM chose for this host, once at start-up: the instruction set and micro-kernel, the cache sizes it read
/// (<c>CPUID</c>, else Linux's sysfs, else defaults; FASTNET_L1D_BYTES, FASTNET_L2_BYTES and FASTNET_L3_BYTES override
/// them), and the block sizes derived from both (FASTNET_GEMM_KC, FASTNET_GEMM_NB, FASTNET_GEMM_L1_PANEL,
/// FASTNET_GEMM_PACK_A and FASTNET_GEMM_PACK_B set the blocks, the loop order and what is packed directly, for tuning on
/// a new host).
/// Benchmarks print it in their headers; services can log it.
/// </summary>
/// <remarks>
/// <para>
/// The blocks (see the loop nest on <c>GemmBlocking</c>): the A micro-panel, MR x KC floats, takes about 9/32 of L1d
/// beside the B micro-panel it streams against (KC = 384 on a 32 KiB L1d with MR = 6, at most 384); the packed B block,
/// KC x NB floats, takes about 9/16 of L2 (NB = 384 on a 1 MiB L2, 192 on 512 KiB), rounded down to whole micro-panels
/// of NR columns; the packed A block, MB x KC floats, takes half of one logical processor's share of L3 (the L3 over the
/// processors CPUID or Linux says share it), at most 1.5 MiB so that a task's pack buffers stay about 2 MiB (MB = 1020 on
/// a 32 MiB L3 shared by 2 at KC 384, 678 when shared by the 16 logical processors of a Zen 3 or Zen 4 CCD), in whole MR.
/// The same caches size the thread split (GemmParallel): of the grids with as many rectangles, the one whose largest
/// rectangle moves the least data from beyond its L2 (its A rows once per column block of NB, its B columns once per
/// row block of MB).
/// FASTNET_GEMM_KC (a multiple of 8, at most 2048) and FASTNET_GEMM_NB (a multiple of NR) replace the rule's KC and
/// NB, so that a sweep can find the best blocks of a host the rule was not measured on (bench/gemm-sweep.sh); an NB
/// left to the rule follows the KC given. FASTNET_GEMM_L1_PANEL=B switches the loop order to keep the B micro-panel in
/// L1 instead of the A one (see <see cref="L1Panel"/>), with A in blocks of MC rows, about 9/32 of L2 (144 on a 512 KiB L2
/// at KC 256: the MC and KC of BLIS's zen3 configuration for sgemm, config/zen3/bli_cntx_init_zen3.c).
/// FASTNET_GEMM_PACK_A=1 packs a row-major A too (see <see cref="PacksRowMajorA"/>), and FASTNET_GEMM_PACK_B=1 every
/// row-major B the rule reads in place (see <see cref="PacksRowMajorB"/>).
/// </para>
/// <para>
/// Determinism: the depth blocks decide the order in which each element of C sums its products, and they depend on KC
/// and <see cref="WholeDepth"/> (and, through the latter, on N), so two hosts with different L1d sizes (or overrides) may differ in the last bits of a GEMM and so of training; on one
/// host, results stay bitwise the same at any thread count. NB, MB, MC and the thread split decide only which tiles are
/// computed together, never how one is summed (each tile is the same kernel call on the same operands), so they change
/// no bits: the GEMM tests compare thread counts 1 to 8 (other grids) and both loop orders bit for bit.
/// </para>
/// </remarks>
public sealed class GemmConfiguration
{
    private const int MaxDepthBlock = 384;

    /// <summary>The most packed A one task keeps (MB x KC floats): with the KC x NB block of B, about 2 MiB of pack buffers.</summary>
    private const long MaxPackedABytes = 3L << 19;

    /// <summary>The deepest depth block FASTNET_GEMM_KC may set (the pack buffers grow with it).</summary>
    internal const int MaxDepthBlockOverride = 2048;

    /// <summary>The widest column block FASTNET_GEMM_NB may set.</summary>
    internal const int MaxColumnBlock = 1 << 16;

    private GemmConfiguration(string instructions, int mr, int nr, CacheSizes caches, string? depthBlock, string? columnBlock, string? l1Panel,
        string? packA, string? packB, bool avx512NotPreferred)
    {
        Instructions = instructions;
        Avx512NotPreferred = avx512NotPreferred;
        MicroTileRows = mr;
        MicroTileColumns = nr;
        L1DataBytes = caches.L1DataBytes;
        L2Bytes = caches.L2Bytes;
        L3Bytes = caches.L3Bytes;
        L3SharedBy = caches.L3SharedBy;
        CacheSource = caches.Source;
        var chosen = new List<string>();   // what the environment set, for BlockSource
        DepthBlock = Math.Clamp((int)(caches.L1DataBytes * 9 / 32 / (mr * sizeof(float))) / 8 * 8, 8, MaxDepthBlock);
        if (!string.IsNullOrWhiteSpace(depthBlock))
        {
            DepthBlock = ParseBlock("FASTNET_GEMM_KC", depthBlock, 8, MaxDepthBlockOverride, "a multiple of 8");
            chosen.Add("KC from FASTNET_GEMM_KC");
        }

        // Half of L1d for the whole-depth A micro-panel; no more than the KC given where FASTNET_GEMM_KC sets it.
        WholeDepth = !string.IsNullOrWhiteSpace(depthBlock) ? DepthBlock
            : Math.Clamp((int)(caches.L1DataBytes / 2 / (mr * sizeof(float))) / 8 * 8, DepthBlock, MaxDepthBlockOverride);

        ColumnBlock = Math.Max(nr, (int)Math.Min(MaxColumnBlock, caches.L2Bytes * 9 / 16 / (DepthBlock * sizeof(float))) / nr * nr);
        if (!string.IsNullOrWhiteSpace(columnBlock))
        {
            ColumnBlock = ParseBlock("FASTNET_GEMM_NB", columnBlock, nr, MaxColumnBlock, $"a multiple of the kernel's {nr} columns");
            chosen.Add("NB from FASTNET_GEMM_NB");
        }

        RowBlock = Math.Max(mr, (int)(Math.Min(caches.L3ShareBytes / 2, MaxPackedABytes) / (DepthBlock * sizeof(float))) / mr * mr);
        L1Panel = 'A';
        if (!string.IsNullOrWhiteSpace(l1Panel))
        {
            L1Panel = l1Panel.Trim() switch
            {
                "A" or "a" => 'A',
                "B" or "b" => 'B',
                _ => throw new InvalidOperationException($"FASTNET_GEMM_L1_PANEL is '{l1Panel}': it must be A or B."),
            };
            chosen.Add("L1 panel from FASTNET_GEMM_L1_PANEL");
        }

        if (!string.IsNullOrWhiteSpace(packA))
        {
            PacksRowMajorA = ParseSwitch("FASTNET_GEMM_PACK_A", packA, "pack a row-major A");
            chosen.Add("A packing from FASTNET_GEMM_PACK_A");
        }

        if (!string.IsNullOrWhiteSpace(packB))
        {
            PacksRowMajorB = ParseSwitch("FASTNET_GEMM_PACK_B", packB, "pack every row-major B");
            chosen.Add("B packing from FASTNET_GEMM_PACK_B");
        }

        StreamedRowBlock = Math.Clamp((int)(caches.L2Bytes * 9 / 32 / (DepthBlock * sizeof(float))) / mr * mr, mr, RowBlock);
        BlockSource = chosen.Count == 0 ? "from the caches" : string.Join(", ", chosen);
    }

    /// <summary>This process's configuration.</summary>
    public static GemmConfiguration Current { get; } = Create(Gemm.DefaultPath, CacheSizes.Detect(),
        Environment.GetEnvironmentVariable("FASTNET_GEMM_KC"), Environment.GetEnvironmentVariable("FASTNET_GEMM_NB"),
        Environment.GetEnvironmentVariable("FASTNET_GEMM_L1_PANEL"), Environment.GetEnvironmentVariable("FASTNET_GEMM_PACK_A"),
        Environment.GetEnvironmentVariable("FASTNET_GEMM_PACK_B"),
        avx512NotPreferred: Gemm.DefaultPath != GemmPath.Avx512 && Avx512F.IsSupported && !Vector512.IsHardwareAccelerated);

    /// <summary>
    /// The configuration of <paramref name="path"/> on caches of the given sizes (tests derive other hosts' blocks), with
    /// KC and NB set directly where <paramref name="depthBlock"/> / <paramref name="columnBlock"/> are given (the values of
    /// FASTNET_GEMM_KC and FASTNET_GEMM_NB), the micro-panel kept in L1 where <paramref name="l1Panel"/> is
    /// (FASTNET_GEMM_L1_PANEL), row-major A packed where <paramref name="packA"/> is "1" (FASTNET_GEMM_PACK_A), and a narrow
    /// row-major B packed where <paramref name="packB"/> is "1" (FASTNET_GEMM_PACK_B).
    /// </summary>
    /// <exception cref="InvalidOperationException">An override is not a whole number in range and on the grid it needs, not A or B, or not 0 or 1.</exception>
    internal static GemmConfiguration Create(GemmPath path, CacheSizes caches, string? depthBlock = null, string? columnBlock = null,
        string? l1Panel = null, string? packA = null, string? packB = null, bool avx512NotPreferred = false) => path switch
    {
        GemmPath.Avx512 => new("AVX-512F", Avx512Kernel6x64.Mr, Avx512Kernel6x64.Nr, caches, depthBlock, columnBlock, l1Panel, packA, packB, false),
        GemmPath.Avx2 => new("AVX2 + FMA", Avx2Kernel6x16.Mr, Avx2Kernel6x16.Nr, caches, depthBlock, columnBlock, l1Panel, packA, packB, avx512NotPreferred),
        _ => new("portable (Vector<T>)", PortableKernel.Mr, PortableKernel.Nr, caches, depthBlock, columnBlock, l1Panel, packA, packB, avx512NotPreferred),
    };

    private static bool ParseSwitch(string name, string value, string meaning) => value.Trim() switch
    {
        "1" => true,
        "0" => false,
        _ => throw new InvalidOperationException($"{name} is '{value}': it must be 1 ({meaning}) or 0."),
    };

    private static int ParseBlock(string name, string value, int step, int max, string grid) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int block)
            && block >= step && block <= max && block % step == 0
            ? block
            : throw new InvalidOperationException($"{name} is '{value}': it must be {grid}, from {step} to {max}.");

    /// <summary>The micro-kernel's instruction set: "AVX-512F", "AVX2 + FMA" or "portable (Vector&lt;T&gt;)".</summary>
    public string Instructions { get; }

    /// <summary>
    /// Whether the CPU has AVX-512F but .NET reports 512-bit vectors as not accelerated
    /// (<see cref="Vector512.IsHardwareAccelerated"/> false), so that FastNet runs its 256-bit kernels: .NET's default on
    /// the Intel CPUs whose clock drops under 512-bit code (Skylake-SP, Cascade Lake, Cooper Lake, Cannon Lake), or
    /// DOTNET_PreferredVectorBitWidth=256 on any CPU. DOTNET_PreferredVectorBitWidth=512 makes .NET report them
    /// accelerated there, and FastNet then runs its AVX-512 kernels. False where AVX-512 is in use, absent, or switched
    /// off (DOTNET_EnableAVX512=0).
    /// </summary>
    /// <remarks>
    /// FastNet runs 512-bit code only where .NET reports 512-bit vectors accelerated (the GEMM, GEMV, bfloat16, int8
    /// and element-wise kernels alike), as .NET's own TensorPrimitives does, so that one setting decides for the whole
    /// process. Peers decide otherwise: OpenBLAS, oneDNN and ONNX Runtime run AVX-512 wherever the CPU has it. On a CPU
    /// with two 512-bit FMA units, a compute-bound GEMM usually gains from 512-bit FMAs despite the lower clock, while
    /// code that runs between them (a service's request handling) loses; which wins for a given workload is for its
    /// owner to measure (this project has not had such a CPU to measure on).
    /// </remarks>
    public bool Avx512NotPreferred { get; }

    /// <summary>MR: rows of C one micro-kernel call computes.</summary>
    public int MicroTileRows { get; }

    /// <summary>NR: columns of C one micro-kernel call computes.</summary>
    public int MicroTileColumns { get; }

    /// <summary>L1 data cache of one core, bytes.</summary>
    public long L1DataBytes { get; }

    /// <summary>L2 cache of one core, bytes.</summary>
    public long L2Bytes { get; }

    /// <summary>L3 cache (shared), bytes.</summary>
    public long L3Bytes { get; }

    /// <summary>How many logical processors share the L3 (as the CPU or Linux says; 16 when neither does).</summary>
    public int L3SharedBy { get; }

    /// <summary>Where the cache sizes came from (and which ones the environment overrode).</summary>
    public string CacheSource { get; }

    /// <summary>
    /// "from the caches" when the blocks and loop order are the rule's, else which of them the environment set
    /// (FASTNET_GEMM_KC, FASTNET_GEMM_NB, FASTNET_GEMM_L1_PANEL, FASTNET_GEMM_PACK_A, FASTNET_GEMM_PACK_B), e.g.
    /// "KC from FASTNET_GEMM_KC".
    /// </summary>
    public string BlockSource { get; }

    /// <summary>KC: the deepest rank-k update; a K is split into equal depth blocks of at most this.</summary>
    public int DepthBlock { get; }

    /// <summary>
    /// The deepest K that one depth block takes whole where B is narrow (K x N floats, N rounded up to 64 columns, no more
    /// than a KC x NB block of B: C no wider than NB): its MR x K A micro-panel fills at most half of L1d (1024 on a 48 KiB
    /// L1d with MR = 6, 680 on 32 KiB). Such a product then loads and stores each tile of C once, and applies its epilogue
    /// in that pass, instead of once per depth block. On Zen 5, whose 48 KiB L1d takes T1's first layer (K = 784, N = 128)
    /// whole: 64 x 784 x 128 ran 7.4% / 5.8% faster on 1 / 2 threads, 1,024-row T1 batches 2.7% / 3.1%, the other shapes
    /// and workloads within noise (bench/results/zen5-avx512/ab-41979a4.md). Deeper or wider products split K into blocks of at
    /// most <see cref="DepthBlock"/>. Equal to KC where FASTNET_GEMM_KC sets KC.
    /// </summary>
    public int WholeDepth { get; }

    /// <summary>NB: columns of B packed at once.</summary>
    public int ColumnBlock { get; }

    /// <summary>MB: rows of A packed at once (a transposed A, or any with <see cref="PacksRowMajorA"/>, when C is wider than NB).</summary>
    public int RowBlock { get; }

    /// <summary>
    /// Which micro-panel stays in L1 while the other kind streams past it: 'A' (the MR x KC A panel meets every B panel
    /// of a column block, the B panels streaming from L2; the default, and the order OpenBLAS's kernels of this shape use)
    /// or 'B' (the KC x NR B panel meets every A panel of an MC-row block, which stream from L2: the BLIS order, which
    /// moves NR/MR times less data from L2 per FMA but needs the B micro-panel to fit in L1, i.e. a narrow kernel such
    /// as AVX2's 16 columns). Set by FASTNET_GEMM_L1_PANEL; both give the same bits.
    /// </summary>
    public char L1Panel { get; }

    /// <summary>
    /// Whether a row-major A (or one gathered by rows) is packed into contiguous MR-row micro-panels, MB rows at a time (MC
    /// in the B-panel order), when C is wider than NB, as a transposed A always is there; by default it is read in place.
    /// Set by FASTNET_GEMM_PACK_A=1; the bits are the same either way.
    /// </summary>
    public bool PacksRowMajorA { get; }

    /// <summary>
    /// Whether a row-major B no wider than NB (or a wider one under a C of at most
    /// <see cref="GemmBlocking.WideBInPlaceMaxRows"/> rows, see <see cref="GemmBlocking.ReadsWideBInPlace(int, int, nint)"/>) is packed into
    /// micro-panels, as other wide or transposed ones always are; by default it is read in place (its KC x N rows fit in
    /// L2 as they are, and training changes W every step, so a packed copy costs a copy of B per call). In place, a B
    /// micro-panel's depth steps lie a whole row of B apart, which can crowd a few L1 sets (a 128-float row puts them in
    /// every eighth set). Set by FASTNET_GEMM_PACK_B=1; the bits are the same either way.
    /// </summary>
    public bool PacksRowMajorB { get; }

    /// <summary>MC: rows of A per block when the B micro-panel stays in L1 (<see cref="L1Panel"/> 'B'): MC x KC floats, about 9/32 of L2.</summary>
    public int StreamedRowBlock { get; }

    /// <summary>One line for logs and report headers.</summary>
    public override string ToString() =>
        $"GEMM {Instructions} {MicroTileRows}x{MicroTileColumns} kernel" +
        (Avx512NotPreferred ? " (the CPU has AVX-512F, but .NET prefers 256-bit vectors here; DOTNET_PreferredVectorBitWidth=512 turns AVX-512 on)" : "") +
        $"; L1d {CacheSizes.Format(L1DataBytes)}, L2 {CacheSizes.Format(L2Bytes)}, " +
        $"L3 {CacheSizes.Format(L3Bytes)} shared by {L3SharedBy} ({CacheSource}); KC {DepthBlock}, NB {ColumnBlock}, MB {RowBlock}" +
        (WholeDepth > DepthBlock ? $", narrow B whole to K {WholeDepth}" : "") +
        (L1Panel == 'B' ? $", B panel in L1, MC {StreamedRowBlock}" : "") +
        (PacksRowMajorA ? ", row-major A packed" : "") +
        (PacksRowMajorB ? ", row-major B packed" : "") +
        (BlockSource == "from the caches" ? "" : $" ({BlockSource})");
}

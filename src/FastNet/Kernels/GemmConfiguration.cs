namespace FastNet.Kernels;

/// <summary>
/// What the GEMM chose for this host, once at start-up: the instruction set and micro-kernel, the cache sizes it read
/// (<c>CPUID</c>, else Linux's sysfs, else defaults; FASTNET_L1D_BYTES and FASTNET_L2_BYTES override them), and the block
/// sizes derived from both. Benchmarks print it in their headers; services can log it.
/// </summary>
/// <remarks>
/// <para>
/// The blocks (see the loop nest on <c>GemmBlocking</c>): the A micro-panel, MR x KC floats, takes about 9/32 of L1d
/// beside the B micro-panel it streams against (KC = 384 on a 32 KiB L1d with MR = 6, at most 384); the packed B block,
/// KC x NB floats, takes about 9/16 of L2 (NB = 384 on a 1 MiB L2, 192 on 512 KiB), rounded down to whole micro-panels
/// of NR columns; MB, the rows of a packed transposed A, is a constant (L3 is shared, its share per core unknown).
/// </para>
/// <para>
/// Determinism: the depth blocks decide the order in which each element of C sums its products, and they depend on KC,
/// so two hosts with different L1d sizes (or overrides) may differ in the last bits of a GEMM and so of training; on one
/// host, results stay bitwise the same at any thread count.
/// </para>
/// </remarks>
public sealed class GemmConfiguration
{
    private const int MaxDepthBlock = 384;
    private const int RowBlockRows = 960;

    private GemmConfiguration(string instructions, int mr, int nr, CacheSizes caches)
    {
        Instructions = instructions;
        MicroTileRows = mr;
        MicroTileColumns = nr;
        L1DataBytes = caches.L1DataBytes;
        L2Bytes = caches.L2Bytes;
        L3Bytes = caches.L3Bytes;
        CacheSource = caches.Source;
        DepthBlock = Math.Clamp((int)(caches.L1DataBytes * 9 / 32 / (mr * sizeof(float))) / 8 * 8, 8, MaxDepthBlock);
        ColumnBlock = Math.Max(nr, (int)Math.Min(1 << 16, caches.L2Bytes * 9 / 16 / (DepthBlock * sizeof(float))) / nr * nr);
        RowBlock = RowBlockRows / mr * mr;
    }

    /// <summary>This process's configuration.</summary>
    public static GemmConfiguration Current { get; } = Create(Gemm.DefaultPath, CacheSizes.Detect());

    /// <summary>The configuration of <paramref name="path"/> on caches of the given sizes (tests derive other hosts' blocks).</summary>
    internal static GemmConfiguration Create(GemmPath path, CacheSizes caches) => path switch
    {
        GemmPath.Avx512 => new("AVX-512F", Avx512Kernel6x64.Mr, Avx512Kernel6x64.Nr, caches),
        GemmPath.Avx2 => new("AVX2 + FMA", Avx2Kernel6x16.Mr, Avx2Kernel6x16.Nr, caches),
        _ => new("portable (Vector<T>)", PortableKernel.Mr, PortableKernel.Nr, caches),
    };

    /// <summary>The micro-kernel's instruction set: "AVX-512F", "AVX2 + FMA" or "portable (Vector&lt;T&gt;)".</summary>
    public string Instructions { get; }

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

    /// <summary>Where the cache sizes came from (and which ones the environment overrode).</summary>
    public string CacheSource { get; }

    /// <summary>KC: the deepest rank-k update; a K is split into equal depth blocks of at most this.</summary>
    public int DepthBlock { get; }

    /// <summary>NB: columns of B packed at once.</summary>
    public int ColumnBlock { get; }

    /// <summary>MB: rows of a transposed A packed at once.</summary>
    public int RowBlock { get; }

    /// <summary>One line for logs and report headers.</summary>
    public override string ToString() =>
        $"GEMM {Instructions} {MicroTileRows}x{MicroTileColumns} kernel; L1d {CacheSizes.Format(L1DataBytes)}, L2 {CacheSizes.Format(L2Bytes)}, " +
        $"L3 {CacheSizes.Format(L3Bytes)} ({CacheSource}); KC {DepthBlock}, NB {ColumnBlock}, MB {RowBlock}";
}

using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>The GEMM's host description: cache sizes read from the CPU (checked against Linux's own reading), overrides, and the block sizes the documented rule gives.</summary>
public sealed class GemmConfigurationTests
{
    private static CacheSizes Caches(long l1, long l2, long l3 = 32 << 20, int l3SharedBy = 16) => new(l1, l2, l3, l3SharedBy, "test");

    /// <summary>The rule of GemmConfiguration's remarks, worked by hand: KC = 9/32 of L1d over MR floats (at most 384), NB = 9/16 of L2 over KC floats, in whole NR.</summary>
    [Theory]
    [InlineData("Avx512", 32 << 10, 1 << 20, 384, 384)]    // Zen 4: the constants this rule replaced
    [InlineData("Avx512", 48 << 10, 1 << 20, 384, 384)]    // Zen 5: KC capped at 384
    [InlineData("Avx2", 32 << 10, 512 << 10, 384, 192)]    // Zen 3
    [InlineData("Avx512", 48 << 10, 2 << 20, 384, 768)]    // a 2 MiB L2 (Sapphire Rapids)
    [InlineData("Avx512", 8 << 10, 64 << 10, 96, 64)]      // tiny overrides: 8192 * 9/32 / 24 = 96; 65536 * 9/16 / 384 = 96 -> 64 (whole NR)
    [InlineData("Avx2", 8 << 10, 64 << 10, 96, 96)]
    [InlineData("Avx512", 4 << 10, 4 << 10, 48, 64)]       // the smallest override: NB never below one micro-panel
    public void BlocksFollowTheCaches(string path, long l1, long l2, int kc, int nb)
    {
        GemmConfiguration configuration = GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(l1, l2));
        Assert.Equal(kc, configuration.DepthBlock);
        Assert.Equal(nb, configuration.ColumnBlock);
        Assert.Equal(0, configuration.ColumnBlock % configuration.MicroTileColumns);
        Assert.Equal(0, configuration.RowBlock % configuration.MicroTileRows);
    }

    /// <summary>
    /// WholeDepth: the MR x K A micro-panel in half of L1d, in multiples of 8, never below KC; KC itself where
    /// FASTNET_GEMM_KC sets it (a sweep's KC is the only depth block). Worked by hand.
    /// </summary>
    [Theory]
    [InlineData("Avx512", 48 << 10, null, 1024)]   // Zen 5: 24576 / 24
    [InlineData("Avx512", 32 << 10, null, 680)]    // Zen 4: 16384 / 24 = 682 -> 680
    [InlineData("Avx2", 32 << 10, null, 680)]      // Zen 3
    [InlineData("Portable", 32 << 10, null, 1024)] // MR 4: 16384 / 16
    [InlineData("Avx512", 4 << 10, null, 80)]      // 2048 / 24 = 85 -> 80, above KC 48
    [InlineData("Avx512", 48 << 10, "256", 256)]
    public void WholeDepthFillsHalfOfL1(string path, long l1, string? kc, int wholeDepth)
    {
        GemmConfiguration configuration = GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(l1, 1 << 20), depthBlock: kc);
        Assert.Equal(wholeDepth, configuration.WholeDepth);
        if (wholeDepth > configuration.DepthBlock) Assert.Contains($"narrow B whole to K {wholeDepth}", configuration.ToString());
        else Assert.DoesNotContain("whole", configuration.ToString());
    }

    /// <summary>
    /// MB x KC floats take half of one logical processor's share of L3 (L3 over the processors sharing it), at most 1.5 MiB,
    /// in whole MR; worked by hand.
    /// </summary>
    [Theory]
    [InlineData("Avx512", 32 << 20, 2, 1020)]          // this 2-vCPU VM: 16 MiB share, capped at 1.5 MiB = 1024 rows of 384 floats -> 1020
    [InlineData("Avx512", 32 << 20, 16, 678)]          // a Zen 4 CCD with SMT: 2 MiB share, 1 MiB / 1536 B = 682 -> 678
    [InlineData("Avx2", 32 << 20, 16, 678)]            // a Zen 3 CCD (KC 384 as well)
    [InlineData("Avx512", 33 << 20, 64, 174)]          // Skylake-SP, 24 cores and CPUID's 64 sharing IDs: 528 KiB share, 270336 / 1536 = 176 -> 174
    [InlineData("Portable", 32 << 20, 16, 680)]        // MR 4: 682 -> 680
    [InlineData("Avx512", 4096, 16, 6)]                // the smallest override: never below one micro-panel
    public void RowBlockTakesHalfTheL3Share(string path, long l3, int sharedBy, int mb)
    {
        GemmConfiguration configuration = GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(32 << 10, 1 << 20, l3, sharedBy));
        Assert.Equal(mb, configuration.RowBlock);
        Assert.Equal(sharedBy, configuration.L3SharedBy);
        Assert.Contains($"shared by {sharedBy}", configuration.ToString());
        Assert.Contains($"MB {mb}", configuration.ToString());
    }

    [Fact]
    public void OverridesReplaceALevelAndBadOnesAreRefusedByName()
    {
        CacheSizes detected = Caches(48 << 10, 1 << 20);
        CacheSizes all = CacheSizes.WithOverrides(detected, "8192", " 65536 ", "262144");
        Assert.Equal((8192L, 65536L, 262144L, 16), (all.L1DataBytes, all.L2Bytes, all.L3Bytes, all.L3SharedBy));
        Assert.Contains("L2 from FASTNET_L2_BYTES", all.Source);
        Assert.Contains("L3 from FASTNET_L3_BYTES", all.Source);
        Assert.Equal(detected, CacheSizes.WithOverrides(detected, null, "", " "));
        foreach (string bad in new[] { "12k", "0", "-4096", "4095", "1e6" })
        {
            Assert.Contains("FASTNET_L2_BYTES", Assert.Throws<InvalidOperationException>(() => CacheSizes.WithOverrides(detected, null, bad)).Message);
            Assert.Contains("FASTNET_L3_BYTES", Assert.Throws<InvalidOperationException>(() => CacheSizes.WithOverrides(detected, null, null, bad)).Message);
        }

        Assert.Contains("FASTNET_L1D_BYTES", Assert.Throws<InvalidOperationException>(() => CacheSizes.WithOverrides(detected, "x", null)).Message);
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1", 2)]
    [InlineData("0-7,64-71", 16)]
    [InlineData("3,5, 9-10", 4)]
    [InlineData("0-x", 0)]           // unreadable: 0, and the defaults' sharing is used
    [InlineData("7-3", 0)]
    [InlineData("", 0)]
    public void LinuxCpuListsCount(string list, int count) => Assert.Equal(count, CacheSizes.CountCpus(list));

    [Fact]
    public void LinuxCpuListsNameTheirCpus()
    {
        Assert.Equal([3, 5, 9, 10], CacheSizes.Cpus("3,5, 9-10"));
        Assert.Null(CacheSizes.Cpus("0-x"));
    }

    /// <summary>FASTNET_GEMM_KC / FASTNET_GEMM_NB replace the rule's blocks; an NB left to the rule follows the KC given (9/16 of L2 over KC floats).</summary>
    [Theory]
    [InlineData("Avx512", "256", null, 256, 576, "KC from FASTNET_GEMM_KC")]      // 1 MiB * 9/16 / (256 * 4) = 576
    [InlineData("Avx512", null, "128", 384, 128, "NB from FASTNET_GEMM_NB")]
    [InlineData("Avx2", " 512 ", "48", 512, 48, "KC from FASTNET_GEMM_KC, NB from FASTNET_GEMM_NB")]
    [InlineData("Avx2", "2048", "65536", 2048, 65536, "KC from FASTNET_GEMM_KC, NB from FASTNET_GEMM_NB")]
    [InlineData("Avx512", "", " ", 384, 384, "from the caches")]
    public void BlockOverridesReplaceTheRule(string path, string? kc, string? nb, int expectedKc, int expectedNb, string source)
    {
        GemmConfiguration configuration = GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(32 << 10, 1 << 20), kc, nb);
        Assert.Equal((expectedKc, expectedNb), (configuration.DepthBlock, configuration.ColumnBlock));
        Assert.Equal(source, configuration.BlockSource);
        Assert.Equal(source != "from the caches", configuration.ToString().EndsWith($"({source})", StringComparison.Ordinal));
    }

    /// <summary>
    /// FASTNET_GEMM_L1_PANEL picks the loop order (A by default); MC, the rows of A per block in the B-panel order, is
    /// 9/32 of L2 over KC floats in whole MR, at most MB: BLIS's 144 for Zen 3 (512 KiB L2, KC 256).
    /// </summary>
    [Theory]
    [InlineData("Avx2", 512 << 10, "256", null, 'A', 144)]      // 524288 * 9/32 / 1024 = 144
    [InlineData("Avx2", 512 << 10, "256", "B", 'B', 144)]
    [InlineData("Avx512", 1 << 20, null, " b ", 'B', 192)]      // KC 384: 1048576 * 9/32 / 1536 = 192
    [InlineData("Avx512", 64 << 20, null, "a", 'A', 678)]       // capped at MB (see RowBlockTakesHalfTheL3Share)
    [InlineData("Avx2", 4 << 10, "384", "B", 'B', 6)]           // at least one micro-panel
    public void L1PanelAndItsRowBlock(string path, long l2, string? kc, string? panel, char expected, int mc)
    {
        GemmConfiguration configuration = GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(32 << 10, l2), kc, null, panel);
        Assert.Equal(expected, configuration.L1Panel);
        Assert.Equal(mc, configuration.StreamedRowBlock);
        Assert.Equal(0, configuration.StreamedRowBlock % configuration.MicroTileRows);
        Assert.Equal(expected == 'B', configuration.ToString().Contains($"B panel in L1, MC {mc}", StringComparison.Ordinal));
        Assert.Equal(panel is not null, configuration.BlockSource.Contains("FASTNET_GEMM_L1_PANEL", StringComparison.Ordinal));
        foreach (string bad in new[] { "C", "AB", "1" })
            Assert.Contains("FASTNET_GEMM_L1_PANEL", Assert.Throws<InvalidOperationException>(() =>
                GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(32 << 10, l2), kc, null, bad)).Message);
    }

    /// <summary>FASTNET_GEMM_PACK_A and FASTNET_GEMM_PACK_B each set their own operand's packing, by name, and refuse anything but 0 or 1.</summary>
    [Theory]
    [InlineData('A', null, false)]
    [InlineData('A', "0", false)]
    [InlineData('A', " 1 ", true)]
    [InlineData('B', null, false)]
    [InlineData('B', "0", false)]
    [InlineData('B', "1 ", true)]
    public void PackingSwitchesAreChosenByName(char operand, string? value, bool packs)
    {
        string variable = $"FASTNET_GEMM_PACK_{operand}";
        GemmConfiguration Make(string? setting) => operand == 'A'
            ? GemmConfiguration.Create(GemmPath.Avx2, Caches(32 << 10, 512 << 10), packA: setting)
            : GemmConfiguration.Create(GemmPath.Avx2, Caches(32 << 10, 512 << 10), packB: setting);
        GemmConfiguration configuration = Make(value);
        Assert.Equal((operand == 'A' && packs, operand == 'B' && packs), (configuration.PacksRowMajorA, configuration.PacksRowMajorB));
        Assert.Equal(packs, configuration.ToString().Contains($"row-major {operand} packed", StringComparison.Ordinal));
        Assert.Equal(value is not null, configuration.BlockSource.Contains(variable, StringComparison.Ordinal));
        foreach (string bad in new[] { "yes", "2", "true", "B" })
            Assert.Contains(variable, Assert.Throws<InvalidOperationException>(() => Make(bad)).Message);
    }

    [Theory]
    [InlineData("Avx512", "0", null, "FASTNET_GEMM_KC")]
    [InlineData("Avx512", "260", null, "FASTNET_GEMM_KC")]      // not a multiple of 8
    [InlineData("Avx512", "2056", null, "FASTNET_GEMM_KC")]     // above 2048
    [InlineData("Avx512", "-8", null, "FASTNET_GEMM_KC")]
    [InlineData("Avx512", "3e2", null, "FASTNET_GEMM_KC")]
    [InlineData("Avx512", null, "96", "FASTNET_GEMM_NB")]       // not whole 64-column panels
    [InlineData("Avx2", null, "8", "FASTNET_GEMM_NB")]          // below one 16-column panel
    [InlineData("Avx2", null, "65552", "FASTNET_GEMM_NB")]
    [InlineData("Avx2", null, "x", "FASTNET_GEMM_NB")]
    public void BadBlockOverridesAreRefusedByName(string path, string? kc, string? nb, string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => GemmConfiguration.Create(Enum.Parse<GemmPath>(path), Caches(32 << 10, 1 << 20), kc, nb));
        Assert.Contains(name, error.Message);
        Assert.Contains($"'{kc ?? nb}'", error.Message);
    }

    [Theory]
    [InlineData("48K", 48L << 10)]
    [InlineData("1024K", 1L << 20)]
    [InlineData("32M", 32L << 20)]
    [InlineData("512", 512L)]
    public void SysfsSizesParse(string text, long bytes) => Assert.Equal(bytes, CacheSizes.ParseSize(text));

    /// <summary>
    /// What this process uses: the overrides where the environment sets them (CI reruns the GEMM and determinism tests
    /// so), else what the CPU says, which must agree with Linux's own reading of the caches where it has one.
    /// </summary>
    [Fact]
    public void TheProcessUsesTheHostsCachesOrTheOverrides()
    {
        GemmConfiguration current = GemmConfiguration.Current;
        Assert.Equal(GemmBlocking.KC, current.DepthBlock);
        Assert.Equal(GemmBlocking.NB, current.ColumnBlock);
        Assert.Contains($"KC {current.DepthBlock}, NB {current.ColumnBlock}", current.ToString());
        string? l1 = Environment.GetEnvironmentVariable("FASTNET_L1D_BYTES"), l2 = Environment.GetEnvironmentVariable("FASTNET_L2_BYTES");
        if (!string.IsNullOrEmpty(l1)) Assert.Equal(long.Parse(l1), current.L1DataBytes);
        if (!string.IsNullOrEmpty(l2)) Assert.Equal(long.Parse(l2), current.L2Bytes);
        string? l3 = Environment.GetEnvironmentVariable("FASTNET_L3_BYTES");
        if (!string.IsNullOrEmpty(l3)) Assert.Equal(long.Parse(l3), current.L3Bytes);
        Assert.Equal(GemmBlocking.MB, current.RowBlock);
        string? kc = Environment.GetEnvironmentVariable("FASTNET_GEMM_KC"), nb = Environment.GetEnvironmentVariable("FASTNET_GEMM_NB");
        if (!string.IsNullOrEmpty(kc)) Assert.Equal(int.Parse(kc), current.DepthBlock);
        if (!string.IsNullOrEmpty(nb)) Assert.Equal(int.Parse(nb), current.ColumnBlock);
        string? panel = Environment.GetEnvironmentVariable("FASTNET_GEMM_L1_PANEL");
        Assert.Equal(string.IsNullOrWhiteSpace(panel) ? 'A' : char.ToUpperInvariant(panel.Trim()[0]), current.L1Panel);
        Assert.Equal(current.L1Panel == 'B', GemmBlocking.KeepsBPanelInL1);
        Assert.Equal(Environment.GetEnvironmentVariable("FASTNET_GEMM_PACK_A")?.Trim() == "1", current.PacksRowMajorA);
        Assert.Equal(Environment.GetEnvironmentVariable("FASTNET_GEMM_PACK_B")?.Trim() == "1", current.PacksRowMajorB);
        Assert.Equal(current.PacksRowMajorB, GemmBlocking.PacksRowMajorB);

        const string sysfs = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(sysfs)) return;
        var levels = Directory.EnumerateDirectories(sysfs, "index*")
            .Where(d => File.ReadAllText(Path.Combine(d, "type")).Trim() != "Instruction")
            .ToDictionary(d => int.Parse(File.ReadAllText(Path.Combine(d, "level"))), d => CacheSizes.ParseSize(File.ReadAllText(Path.Combine(d, "size")).Trim()));
        if (string.IsNullOrEmpty(l1)) Assert.Equal(levels[1], current.L1DataBytes);
        if (string.IsNullOrEmpty(l2)) Assert.Equal(levels[2], current.L2Bytes);

        // The processors sharing L3: CPUID's count is Linux's on AMD and an upper bound on Intel, so the share is never
        // more than Linux says.
        string? l3Index = Directory.EnumerateDirectories(sysfs, "index*").FirstOrDefault(d => File.ReadAllText(Path.Combine(d, "level")).Trim() == "3");
        string? sharedList = l3Index is null ? null : Path.Combine(l3Index, "shared_cpu_list");
        if (sharedList is not null && File.Exists(sharedList))
            Assert.True(current.L3SharedBy >= CacheSizes.CountCpus(File.ReadAllText(sharedList).Trim()), current.ToString());
    }
}

using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// The data cache sizes of one core, per level, how many logical processors share the L3, and where they were read: the
/// CPU's own description (CPUID leaf 4 on Intel, 0x8000001D on AMD), else Linux's /sys/devices/system/cpu/cpu0/cache,
/// else <see cref="Defaults"/>. The environment variables FASTNET_L1D_BYTES, FASTNET_L2_BYTES and FASTNET_L3_BYTES
/// override a level (tests and tuning use them to emulate another host).
/// </summary>
internal readonly record struct CacheSizes(long L1DataBytes, long L2Bytes, long L3Bytes, int L3SharedBy, string Source)
{
    /// <summary>
    /// What is assumed when nothing can be read: the L1d, L2 and L3 of a Zen 4 core (32 KiB, 1 MiB, 32 MiB shared by the
    /// 16 logical processors of one 8-core CCD).
    /// </summary>
    public static readonly CacheSizes Defaults = new(32 << 10, 1 << 20, 32 << 20, 16, "defaults");

    /// <summary>One logical processor's share of L3, the room a task's packed A block may count on.</summary>
    public long L3ShareBytes => L3Bytes / Math.Max(1, L3SharedBy);

    /// <summary>The smallest size an override may set: below it no micro-panel fits.</summary>
    public const long MinOverrideBytes = 4096;

    /// <summary>This host's sizes with the environment's overrides applied.</summary>
    public static CacheSizes Detect() => WithOverrides(FromCpuId() ?? FromSysfs() ?? Defaults,
        Environment.GetEnvironmentVariable("FASTNET_L1D_BYTES"), Environment.GetEnvironmentVariable("FASTNET_L2_BYTES"),
        Environment.GetEnvironmentVariable("FASTNET_L3_BYTES"));

    /// <summary><paramref name="detected"/> with each override that is set; a value that is not a byte count of at least <see cref="MinOverrideBytes"/> is an error.</summary>
    /// <exception cref="InvalidOperationException">An override is not a valid byte count.</exception>
    /// <remarks>FASTNET_L3_BYTES sets the whole L3; the number of processors sharing it stays the host's.</remarks>
    internal static CacheSizes WithOverrides(CacheSizes detected, string? l1d, string? l2, string? l3 = null)
    {
        CacheSizes sizes = detected;
        if (!string.IsNullOrWhiteSpace(l1d)) sizes = sizes with { L1DataBytes = Parse("FASTNET_L1D_BYTES", l1d), Source = sizes.Source + ", L1d from FASTNET_L1D_BYTES" };
        if (!string.IsNullOrWhiteSpace(l2)) sizes = sizes with { L2Bytes = Parse("FASTNET_L2_BYTES", l2), Source = sizes.Source + ", L2 from FASTNET_L2_BYTES" };
        if (!string.IsNullOrWhiteSpace(l3)) sizes = sizes with { L3Bytes = Parse("FASTNET_L3_BYTES", l3), Source = sizes.Source + ", L3 from FASTNET_L3_BYTES" };
        return sizes;

        static long Parse(string name, string value) =>
            long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) && bytes >= MinOverrideBytes
                ? bytes
                : throw new InvalidOperationException($"{name} is '{value}': it must be a whole number of bytes, at least {MinOverrideBytes}.");
    }

    /// <summary>
    /// The deterministic cache parameters leaf (4 on Intel, 0x8000001D on AMD): subleaf i describes one cache, type in
    /// EAX[4:0] (0 ends the list, 1 data, 2 instruction, 3 unified), level in EAX[7:5], the logical processors sharing it
    /// minus one in EAX[25:14] (on Intel an upper bound, the IDs reserved for them, so the share read is never too large);
    /// its size is ways x partitions x line size x sets, each stored minus one in EBX[31:22], EBX[21:12], EBX[11:0] and
    /// ECX. Null where the leaf is missing or describes no data cache.
    /// </summary>
    private static CacheSizes? FromCpuId()
    {
        int leaf;
        if (CpuVendor.IsIntel && CpuVendor.MaxLeaf >= 4) leaf = 4;
        else if (CpuVendor.IsAmd && (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= 0x8000001D) leaf = unchecked((int)0x8000001D);
        else return null;

        long l1 = 0, l2 = 0, l3 = 0;
        int l3SharedBy = 0;
        for (int subleaf = 0; subleaf < 16; subleaf++)
        {
            (int eax, int ebx, int ecx, _) = X86Base.CpuId(leaf, subleaf);
            int type = eax & 0x1F, level = (eax >> 5) & 0x7;
            if (type == 0) break;
            if (type == 2) continue;   // instructions
            long size = (long)(((uint)ebx >> 22) + 1) * ((((uint)ebx >> 12) & 0x3FF) + 1) * (((uint)ebx & 0xFFF) + 1) * ((uint)ecx + 1L);
            if (level == 1) l1 = size;
            else if (level == 2) l2 = size;
            else if (level == 3) (l3, l3SharedBy) = (size, (int)(((uint)eax >> 14) & 0xFFF) + 1);
        }

        return l1 > 0 && l2 > 0 ? Complete(l1, l2, l3, l3SharedBy, $"CPUID leaf 0x{leaf:X}") : null;
    }

    /// <summary>
    /// Linux's description of cpu0's caches (index*/level, type, size, e.g. "48K", and shared_cpu_list, e.g. "0-7,64-71");
    /// null where it is missing.
    /// </summary>
    private static CacheSizes? FromSysfs()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        try
        {
            if (!Directory.Exists(root)) return null;
            long l1 = 0, l2 = 0, l3 = 0;
            int l3SharedBy = 0;
            foreach (string index in Directory.EnumerateDirectories(root, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction") continue;
                int level = int.Parse(File.ReadAllText(Path.Combine(index, "level")).Trim(), CultureInfo.InvariantCulture);
                long size = ParseSize(File.ReadAllText(Path.Combine(index, "size")).Trim());
                if (level == 1) l1 = size;
                else if (level == 2) l2 = size;
                else if (level == 3)
                {
                    l3 = size;
                    string shared = Path.Combine(index, "shared_cpu_list");
                    if (File.Exists(shared)) l3SharedBy = CountCpus(File.ReadAllText(shared).Trim());   // 0 (the defaults') if unreadable
                }
            }

            return l1 > 0 && l2 > 0 ? Complete(l1, l2, l3, l3SharedBy, "/sys/devices/system/cpu") : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The sizes read, with the defaults' L3 where none was described (and their sharing where it was not said).</summary>
    private static CacheSizes Complete(long l1, long l2, long l3, int l3SharedBy, string source) =>
        l3 > 0 ? new CacheSizes(l1, l2, l3, l3SharedBy > 0 ? l3SharedBy : Defaults.L3SharedBy, source)
            : new CacheSizes(l1, l2, Defaults.L3Bytes, Defaults.L3SharedBy, source);

    /// <summary>
    /// How many CPUs a Linux CPU list names: "0-7,64-71" is 16, "3" is 1; 0 for a list it cannot read, so that a sharing
    /// count it cannot parse costs only itself, not the cache sizes read beside it.
    /// </summary>
    internal static int CountCpus(string list) => Cpus(list)?.Count ?? 0;

    /// <summary>The CPU numbers a Linux CPU list names ("0-2,8" is 0, 1, 2, 8), or null for a list it cannot read.</summary>
    internal static List<int>? Cpus(string list)
    {
        var cpus = new List<int>();
        foreach (string range in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = range.IndexOf('-');
            if (dash < 0)
            {
                if (!int.TryParse(range, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu)) return null;
                cpus.Add(cpu);
            }
            else if (int.TryParse(range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                && int.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int last) && last >= first)
            {
                for (int cpu = first; cpu <= last; cpu++) cpus.Add(cpu);
            }
            else
            {
                return null;
            }
        }

        return cpus;
    }

    /// <summary>"48K", "1024K", "32M" or a plain byte count.</summary>
    internal static long ParseSize(string text)
    {
        long scale = text.EndsWith('K') ? 1 << 10 : text.EndsWith('M') ? 1 << 20 : text.EndsWith('G') ? 1 << 30 : 1;
        string digits = scale == 1 ? text : text[..^1];
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * scale;
    }

    /// <inheritdoc/>
    public override string ToString() => $"L1d {Format(L1DataBytes)}, L2 {Format(L2Bytes)}, L3 {Format(L3Bytes)} shared by {L3SharedBy} ({Source})";

    internal static string Format(long bytes) =>
        bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : bytes % (1 << 10) == 0 ? $"{bytes >> 10} KiB" : $"{bytes} B";
}

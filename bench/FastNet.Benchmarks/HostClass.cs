namespace FastNet.Benchmarks;

/// <summary>
/// The host class a report belongs to, and so its folder: bench/results/CLASS/, e.g. zen4-avx512, zen3-avx2,
/// zen5-avx512, xeon-skx-avx512 (Skylake-SP / Cascade Lake / Cooper Lake), xeon-spr-avx512 (Sapphire Rapids), or
/// xeon-avx512 for a Xeon model not listed (the reports already there came from one whose model was not recorded).
/// Figures from two classes are never put in one ratio, so each class keeps its own reports.
/// </summary>
/// <remarks>
/// The CPU generation comes from /proc/cpuinfo's family and model (a hypervisor often shows only "AMD EPYC"), and the
/// vector width from the CPU's flags, not from what this process may use: a run with DOTNET_EnableAVX512=0 on an
/// AVX-512 host emulates another class and must be given its folder by name.
/// </remarks>
internal static class HostClass
{
    /// <summary>This machine's class name.</summary>
    public static string Name { get; } = Detect();

    /// <summary>
    /// What the process's threads run on, for report headers: "2 cores", or "2 logical processors on 1 core (SMT
    /// siblings)" where Linux's topology shows hyperthreads of one physical core (a VM's two vCPUs can be), which share
    /// that core's FMA units, so that a 2-thread figure is read for what it is. The same words as bench/host.sh's cpu_cores.
    /// </summary>
    public static string Cores { get; } = DescribeCores();

    /// <summary>bench/results/<paramref name="subfolder"/>/, or bench/results/<see cref="Name"/>/ when none is given.</summary>
    public static string ResultsFolder(string? subfolder)
        => Path.Combine(LatencyHarness.FindRepositoryRoot(), "bench", "results", subfolder ?? Name);

    /// <summary>Writes a harness's report as <paramref name="fileName"/> in <see cref="ResultsFolder"/>, and prints it with where it went.</summary>
    public static void WriteReport(string? subfolder, string fileName, List<string> lines)
    {
        string folder = ResultsFolder(subfolder);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, fileName);
        File.WriteAllLines(path, lines);
        Console.WriteLine(string.Join(Environment.NewLine, lines));
        Console.WriteLine($"wrote {path}");
    }

    private static string Detect()
    {
        string[] info;
        try
        {
            info = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }

        string Field(string name) => info.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l[name.Length..].TrimStart().StartsWith(':'))
            ?.Split(':', 2)[1].Trim() ?? "";
        string[] flags = Field("flags").Split(' ');
        string isa = flags.Contains("avx512f") ? "avx512" : flags.Contains("avx2") ? "avx2" : "sse";
        int.TryParse(Field("cpu family"), out int family);
        int.TryParse(Field("model"), out int model);
        string vendor = Field("vendor_id");
        return $"{Generation(vendor, family, model, Field("model name"))}-{isa}";
    }

    private static string DescribeCores()
    {
        int logical = Environment.ProcessorCount, physical = 0;
        try
        {
            // The (package, core) pair of each CPU this process may run on (Cpus_allowed_list: a container's cpuset, say);
            // hyperthreads of one core share it.
            string allowed = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':', 2)[1].Trim();
            var cores = new HashSet<(string, string)>();
            foreach (int cpu in FastNet.Kernels.CacheSizes.Cpus(allowed) ?? [])
            {
                string topology = $"/sys/devices/system/cpu/cpu{cpu}/topology";
                cores.Add((File.ReadAllText(Path.Combine(topology, "physical_package_id")).Trim(), File.ReadAllText(Path.Combine(topology, "core_id")).Trim()));
            }

            physical = cores.Count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException) { }
        return physical == 0 || physical == logical ? $"{logical} core{(logical > 1 ? "s" : "")}"
            : $"{logical} logical processors on {physical} core{(physical > 1 ? "s" : "")} (SMT siblings)";
    }

    /// <summary>AMD's Zen generations by family and model range; Intel's server generations by model, else by brand; anything else by its numbers.</summary>
    internal static string Generation(string vendor, int family, int model, string modelName)
    {
        if (vendor == "AuthenticAMD")
        {
            switch (family)
            {
                case 0x17: return model >= 0x30 ? "zen2" : "zen1";
                case 0x19:
                    // Zen 4: Genoa 0x10-0x1F, Raphael 0x60-0x6F, Phoenix 0x70-0x7F, Bergamo/Siena 0xA0-0xAF; the rest Zen 3.
                    bool zen4 = model is >= 0x10 and <= 0x1F or >= 0x60 and <= 0x7F or >= 0xA0 and <= 0xAF;
                    return zen4 ? "zen4" : "zen3";
                case 0x1A: return "zen5";
            }
        }
        else if (vendor == "GenuineIntel")
        {
            // Server generations by model (family 6), since their caches, vector units and .NET's defaults differ. Skylake-SP,
            // Cascade Lake and Cooper Lake (0x55) are a class of their own: .NET prefers 256-bit vectors there by default, so
            // FastNet runs its AVX2 kernels on their AVX-512 (GemmConfiguration.Avx512NotPreferred). Sierra Forest is AVX2
            // only (E-cores). Other Intel CPUs keep the brand alone ("xeon", "intel").
            string? server = family != 6 ? null : model switch
            {
                0x3F => "xeon-hsx",                 // Haswell-EP
                0x4F or 0x56 => "xeon-bdx",         // Broadwell-EP / -DE
                0x55 => "xeon-skx",                 // Skylake-SP, Cascade Lake, Cooper Lake
                0x6A or 0x6C => "xeon-icx",         // Ice Lake-SP / -D
                0x8F => "xeon-spr",                 // Sapphire Rapids
                0xCF => "xeon-emr",                 // Emerald Rapids
                0xAD or 0xAE => "xeon-gnr",         // Granite Rapids
                0xAF => "xeon-srf",                 // Sierra Forest
                _ => null,
            };
            return server ?? (modelName.Contains("Xeon", StringComparison.Ordinal) ? "xeon" : "intel");
        }

        return $"x86-f{family}m{model}";
    }
}

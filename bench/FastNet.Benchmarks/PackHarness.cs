using System.Diagnostics;
using System.Runtime.InteropServices;
using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// The B packing alone: one depth block (KC rows) x one column block (NB columns) of a row-major or transposed
/// B, K = N = 1024, as the GEMM packs it for this host's kernel, in nanoseconds per packed float (median of
/// many packs, the source hot in L2/L3 as in a GEMM). Separates packing from the rest of the GEMM when tuning.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- pack
/// </summary>
internal static unsafe class PackHarness
{
    public static void Run()
    {
        GemmConfiguration config = GemmConfiguration.Current;
        Console.WriteLine(config);
        const int k = 1024, n = 1024;
        int kc = GemmBlocking.DepthBlock(k, n), nb = config.ColumnBlock, nr = config.MicroTileColumns;
        int narrow = Gemm.DefaultPath switch { GemmPath.Avx512 => Avx512Kernel6x64.NarrowNr, GemmPath.Avx2 => Avx2Kernel6x16.NarrowNr, _ => PortableKernel.NarrowNr };
        float* b = (float*)NativeMemory.AlignedAlloc((nuint)k * n * sizeof(float), 64);
        float* dst = (float*)NativeMemory.AlignedAlloc((nuint)(kc * nb + 64) * sizeof(float), 64);
        for (int i = 0; i < k * n; i++) b[i] = i % 97 * 0.01f;
        foreach (bool transposed in new[] { false, true })
        {
            var times = new double[201];
            int blocks = n / nb;
            for (int rep = -50; rep < times.Length; rep++)
            {
                int j0 = (rep & int.MaxValue) % blocks * nb;   // walk the column blocks as a GEMM does
                long t0 = Stopwatch.GetTimestamp();
                GemmPacking.PackB(b, transposed ? k : n, transposed, 0, kc, j0, nb, nr, narrow, dst);
                if (rep >= 0) times[rep] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }

            Array.Sort(times);
            double median = times[times.Length / 2];
            Console.WriteLine($"PackB {(transposed ? "transposed" : "row-major"),-10} {kc} x {nb} of 1024 x 1024: " +
                $"{median * 1e6:F1} us, {median * 1e9 / ((double)kc * nb):F3} ns/float");
        }

        NativeMemory.AlignedFree(b);
        NativeMemory.AlignedFree(dst);
    }
}

using System.Diagnostics;
using FastNet.Kernels;
namespace FastNet.Benchmarks;

/// <summary>
/// The AVX-512 micro-kernel alone, with its A panel in L1 and its B panels in L1 or streamed from L2, next to
/// the FMA peak: separates the kernel's own efficiency from the rest of the GEMM (packing, L3, C traffic).
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- kernel
/// </summary>
internal static unsafe class KernelBench
{
    public static void Run()
    {
        const int kc = 384;
        float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * kc * 4, 64);
        float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(kc * 64 * 4, 64);
        float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 64 * 4, 64);
        for (int i = 0; i < 6 * kc; i++) a[i] = 0.001f;
        for (int i = 0; i < kc * 64; i++) b[i] = 0.001f;
        nint* depth = (nint*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(kc * sizeof(nint)), 64);
        for (int p = 0; p < kc; p++) depth[p] = 6 * p;   // a packed panel: depth steps Mr apart
        for (int rep = 0; rep < 5; rep++)
        {
            const int calls = 20000;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) Avx512Kernel6x64.Run<Rows6>(kc, APanel.Strided(a, 1, depth), b, 64, c, 64, 1f, 1f);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Console.WriteLine($"kernel 6x64 kc={kc} packed A: {2.0 * 6 * 64 * kc * calls / s / 1e9:F1} GFLOP/s");
        }
        const int panels = 6;   // a 384 x 384 B block: 576 KiB, streamed from L2
        float* bb = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(panels * kc * 64 * 4), 64);
        for (int i = 0; i < panels * kc * 64; i++) bb[i] = 0.001f;
        for (int rep = 0; rep < 5; rep++)
        {
            const int calls = 20000;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) Avx512Kernel6x64.Run<Rows6>(kc, APanel.Strided(a, 1, depth), bb + (i % panels) * kc * 64, 64, c, 64, 1f, 1f);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            Console.WriteLine($"kernel 6x64 kc={kc}, B from L2: {2.0 * 6 * 64 * kc * calls / s / 1e9:F1} GFLOP/s");
        }
        double peak = FmaPeak.FlopsPerThread * 20 / Time(() => { for (int i = 0; i < 20; i++) FmaPeak.Run(); });
        Console.WriteLine($"peak {peak / 1e9:F1}");
    }
    private static double Time(Action a) { a(); long t0 = Stopwatch.GetTimestamp(); a(); return Stopwatch.GetElapsedTime(t0).TotalSeconds; }
}

using System.Diagnostics;
using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// A fast loop for iterating on performance (seconds, not minutes): median of repeated timings per
/// shape, FastNet next to OpenBLAS in the same process. Committed figures come from BenchmarkDotNet.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- quick [shape-filter[,shape-filter...]]
/// (a shape runs when its name contains any of the filters).
/// </summary>
internal static unsafe class QuickHarness
{
    public static void Run(string? filter)
    {
        Console.WriteLine(GemmConfiguration.Current);
        double peak1 = MedianSeconds(() => FmaPeak.RunParallel(1), 15);
        double peak2 = MedianSeconds(() => FmaPeak.RunParallel(2), 15);
        double gf1 = FmaPeak.FlopsPerThread / peak1 / 1e9, gf2 = 2 * FmaPeak.FlopsPerThread / peak2 / 1e9;
        // OPENBLAS_CORETYPE (set for every process on some machines) forces OpenBLAS's kernels: say so beside the name.
        string? forced = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE");
        Console.WriteLine($"FMA peak: {gf1:F1} GFLOP/s on 1 thread, {gf2:F1} on 2. OpenBLAS: {(OpenBlas.IsAvailable ? OpenBlas.CoreName : "absent")}" +
            (OpenBlas.IsAvailable && !string.IsNullOrEmpty(forced) ? $" (OPENBLAS_CORETYPE={forced})" : ""));
        Console.WriteLine($"{"shape",-22} {"thr",3} {"FastNet GF/s",12} {"%peak",6} {"OpenBLAS GF/s",13} {"ratio",6}");
        foreach (GemmShape s in GemmShape.Workloads)
        {
            if (filter is not null && !filter.Split(',').Any(f => s.Name.Contains(f, StringComparison.OrdinalIgnoreCase))) continue;
            var op = new GemmOperands(s);
            foreach (int threads in new[] { 1, 2 })
            {
                int reps = (int)Math.Clamp(2e10 / s.Flops, 5, 2000);
                double ours = MedianSeconds(() => Gemm.Multiply(op.A, op.B, op.C, s.M, s.N, s.K, s.TransA, s.TransB, maxThreads: threads), reps);
                double blas = double.NaN;
                if (OpenBlas.IsAvailable)
                {
                    OpenBlas.SetNumThreads(threads);
                    blas = MedianSeconds(() => CallOpenBlas(op, s), reps);
                }

                double g = s.Flops / ours / 1e9, gb = s.Flops / blas / 1e9;
                Console.WriteLine($"{s.Name,-22} {threads,3} {g,12:F1} {100 * g / (threads == 1 ? gf1 : gf2),5:F0}% {gb,13:F1} {g / gb,6:F2}");
            }
        }
    }

    public static void CallOpenBlas(GemmOperands op, GemmShape s)
    {
        fixed (float* a = op.A, b = op.B, c = op.C)
            OpenBlas.Sgemm(OpenBlas.RowMajor, s.TransA == Transpose.None ? OpenBlas.NoTrans : OpenBlas.Trans,
                s.TransB == Transpose.None ? OpenBlas.NoTrans : OpenBlas.Trans, s.M, s.N, s.K, 1f, a, s.Lda, b, s.Ldb, 0f, c, s.N);
    }

    private static double MedianSeconds(Action action, int reps)
    {
        // Warm up long enough for tiered compilation to install optimized code (it waits ~100 ms).
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < 400) action();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        Array.Sort(times);
        return times[reps / 2];
    }
}

using System.Diagnostics;
using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// A fast loop for iterating on performance (seconds, not minutes): median of repeated timings per
/// shape, FastNet next to OpenBLAS in the same process. Committed figures come from BenchmarkDotNet.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- quick [shape-filter[,shape-filter...]] [threads[,threads...]]
/// (a shape runs when its name contains any of the filters; "all" or "" runs every shape; threads default to 1,2, and a
/// machine with more cores can ask for e.g. 1,4,8,16 to see the thread split at work).
/// </summary>
internal static unsafe class QuickHarness
{
    public static void Run(string? filter, string? threadList = null)
    {
        if (filter is "all" or "") filter = null;
        int[] threadCounts = ParseThreads(threadList);
        Console.WriteLine(GemmConfiguration.Current);
        // The FMA peak at each thread count, on FastNet's worker pool, for the %peak column.
        var peak = threadCounts.ToDictionary(t => t, t => t * FmaPeak.FlopsPerThread / MedianSeconds(() => FmaPeak.RunParallel(t), 15) / 1e9);
        // OPENBLAS_CORETYPE (set for every process on some machines) forces OpenBLAS's kernels: say so beside the name.
        string? forced = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE");
        Console.WriteLine($"FMA peak: {string.Join(", ", threadCounts.Select(t => $"{peak[t]:F1} GFLOP/s on {t} thread{(t == 1 ? "" : "s")}"))}. " +
            $"OpenBLAS: {(OpenBlas.IsAvailable ? OpenBlas.CoreName : "absent")}" +
            (OpenBlas.IsAvailable && !string.IsNullOrEmpty(forced) ? $" (OPENBLAS_CORETYPE={forced})" : ""));
        Console.WriteLine($"{"shape",-22} {"thr",3} {"FastNet GF/s",12} {"%peak",6} {"OpenBLAS GF/s",13} {"ratio",6}");
        foreach (GemmShape s in GemmShape.Workloads)
        {
            if (filter is not null && !filter.Split(',').Any(f => s.Name.Contains(f, StringComparison.OrdinalIgnoreCase))) continue;
            var op = new GemmOperands(s);
            foreach (int threads in threadCounts)
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
                Console.WriteLine($"{s.Name,-22} {threads,3} {g,12:F1} {100 * g / peak[threads],5:F0}% {gb,13:F1} {g / gb,6:F2}");
            }
        }
    }

    /// <summary>"1,4,8" as thread counts (1 and 2 when absent); each must be from 1 to this machine's cores.</summary>
    private static int[] ParseThreads(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return [1, 2];
        int[] counts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, out int n) && n >= 1 && n <= Environment.ProcessorCount
                ? n
                : throw new ArgumentException($"quick: thread count '{t}' must be a whole number from 1 to {Environment.ProcessorCount} (this machine's cores)."))
            .Distinct()
            .ToArray();
        return counts.Length > 0 ? counts : [1, 2];
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
        return SortedSeconds(action, reps)[reps / 2];
    }

    /// <summary>Seconds of each of <paramref name="reps"/> calls of <paramref name="action"/>, each timed alone, in ascending order (no warm-up: the caller's).</summary>
    internal static double[] SortedSeconds(Action action, int reps)
    {
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        Array.Sort(times);
        return times;
    }
}

using System.Diagnostics;

namespace FastNet.Benchmarks;

/// <summary>
/// The training benchmark's epoch (<see cref="TrainingBenchmarks.Epoch"/>) repeated under a Stopwatch, for quick
/// iteration and for profiling with perf: epochs T1|T2 [threads] [repetitions]. Prints the median samples/s and the fastest and slowest epoch.
/// </summary>
internal static class EpochHarness
{
    public static void Run(string[] args)
    {
        TrainingWorkload workload = args.Length > 1 && args[1] == "T2" ? TrainingWorkload.T2 : TrainingWorkload.T1;
        int threads = args.Length > 2 ? int.Parse(args[2]) : 1;
        int repetitions = args.Length > 3 ? int.Parse(args[3]) : 30;
        var bench = new TrainingBenchmarks { Workload = workload, Threads = threads };
        bench.Setup();
        for (int i = 0; i < 5; i++) bench.Epoch();   // past tiered compilation
        var seconds = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bench.Epoch();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(seconds);
        double median = seconds[repetitions / 2];
        Console.WriteLine($"{workload} on {threads} thread(s): median {median * 1e3:F2} ms per epoch, {workload.SamplesPerEpoch / median:N0} samples/s (min {seconds[0] * 1e3:F2} ms, max {seconds[^1] * 1e3:F2} ms)");
    }
}

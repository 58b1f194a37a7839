namespace FastNet.Benchmarks;

/// <summary>
/// The training benchmark's epoch (<see cref="TrainingBenchmarks.Epoch"/>) repeated under a Stopwatch, for quick
/// iteration and for profiling with perf: epochs T1|T2|G1 [threads] [repetitions] (G1: the GRU workload of <see cref="GruBenchmarks"/>). Prints the median samples/s and the fastest and slowest epoch.
/// </summary>
internal static class EpochHarness
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 2 ? int.Parse(args[2]) : 1;
        int repetitions = args.Length > 3 ? int.Parse(args[3]) : 30;
        if (args.Length > 1 && args[1] == "G1")
        {
            var gru = new GruBenchmarks { Workload = GruWorkload.Fashion, Threads = threads };
            gru.Setup();
            Report(GruWorkload.Fashion, threads, Time(() => gru.Epoch(), repetitions));
            return;
        }

        TrainingWorkload workload = args.Length > 1 && args[1] == "T2" ? TrainingWorkload.T2 : TrainingWorkload.T1;
        var bench = new TrainingBenchmarks { Workload = workload, Threads = threads };
        bench.Setup();
        Report(workload, threads, Time(() => bench.Epoch(), repetitions));
    }

    /// <summary>Seconds of each of <paramref name="repetitions"/> epochs, sorted, after 5 unmeasured ones (past tiered compilation).</summary>
    private static double[] Time(Action epoch, int repetitions)
    {
        for (int i = 0; i < 5; i++) epoch();
        return QuickHarness.SortedSeconds(epoch, repetitions);
    }

    private static void Report(IThroughputWorkload workload, int threads, double[] seconds)
    {
        double median = seconds[seconds.Length / 2];
        Console.WriteLine($"{workload} on {threads} thread(s): median {median * 1e3:F2} ms per epoch, {workload.SamplesPerEpoch / median:N0} samples/s (min {seconds[0] * 1e3:F2} ms, max {seconds[^1] * 1e3:F2} ms)");
    }
}

using System.Diagnostics;
using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>
/// I1 and I3 of ../shared/WORKLOADS.md, timing predictions one by one (BenchmarkDotNet reports per-iteration
/// statistics, not per-call percentiles): batch-1 latency p50/p99/mean and bytes per call on one thread, then
/// 2 to 16 threads sharing one predictor (total predictions/s, p99, and whether every result equals the
/// single-threaded one). Writes bench/results/[subfolder, or the host class/]inference-latency.md.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- latency
/// </summary>
internal static class LatencyHarness
{
    public static void Run(string? subfolder)
    {
        var lines = new List<string>
        {
            "# inference-latency",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- latency` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Machine: {HostClass.Cores}, .NET {Environment.Version}; every call timed with Stopwatch, after a 1 s warm-up.",
            "",
            "## I1: batch 1, one thread",
            "",
            "| model | calls | p50 (us) | p99 (us) | mean (us) | bytes per call |",
            "|---|---:|---:|---:|---:|---:|",
        };
        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            using Predictor predictor = model.Build().CreatePredictor();
            float[] x = Input(model, 1), y = new float[model.Widths[^1]];
            int calls = model == InferenceModel.T1 ? 200_000 : 20_000;
            var (times, bytes) = TimeEachCall(() => predictor.Predict(x, y), calls);
            lines.Add($"| {model} | {calls:N0} | {Percentile(times, 0.50):F2} | {Percentile(times, 0.99):F2} | {times.Average():F2} | {bytes:F0} |");
        }

        lines.AddRange(["", "## I3: threads sharing one predictor (T1 model, batch 1)", "",
            "| threads | predictions/s | p99 (us) | results equal to single-threaded |", "|---:|---:|---:|---|"]);
        using (Predictor shared = InferenceModel.T1.Build().CreatePredictor())
        {
            const int inputs = 64;
            float[] x = Input(InferenceModel.T1, inputs), expected = new float[inputs * 10];
            for (int i = 0; i < inputs; i++) shared.Predict(x.AsSpan(i * 784, 784), expected.AsSpan(i * 10, 10));
            foreach (int threads in new[] { 2, 4, 8, 16 })
            {
                const int perThread = 50_000;
                var latencies = new double[threads][];
                int mismatches = 0;
                var start = new Barrier(threads + 1);
                var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
                {
                    var y = new float[10];
                    var mine = latencies[t] = new double[perThread];
                    start.SignalAndWait();
                    for (int n = 0; n < perThread; n++)
                    {
                        int i = (n + t) % inputs;
                        long t0 = Stopwatch.GetTimestamp();
                        shared.Predict(x.AsSpan(i * 784, 784), y);
                        mine[n] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                        if (!y.AsSpan().SequenceEqual(expected.AsSpan(i * 10, 10))) Interlocked.Increment(ref mismatches);
                    }
                })).ToList();
                workers.ForEach(w => w.Start());
                start.SignalAndWait();
                var clock = Stopwatch.StartNew();
                workers.ForEach(w => w.Join());
                double seconds = clock.Elapsed.TotalSeconds;
                double[] all = latencies.SelectMany(l => l).ToArray();
                lines.Add($"| {threads} | {threads * perThread / seconds:N0} | {Percentile(all, 0.99):F2} | {(mismatches == 0 ? "yes" : $"NO ({mismatches} differ)")} |");
            }
        }

        HostClass.WriteReport(subfolder, "inference-latency.md", lines);
    }

    private static float[] Input(InferenceModel model, int count)
    {
        var rng = new Random(1);
        var x = new float[count * model.Widths[0]];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        return x;
    }

    /// <summary>After a warm-up, times every one of <paramref name="calls"/> calls (microseconds) and counts the bytes they allocate on average.</summary>
    internal static (double[] Microseconds, double BytesPerCall) TimeEachCall(Action call, int calls)
    {
        Warm(call);
        var times = new double[calls];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }

        return (times, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)calls);
    }

    /// <summary>
    /// Mean microseconds per call of <paramref name="a"/> and <paramref name="b"/>: after a warm-up of each, rounds that
    /// time a run of back-to-back calls of both (the first alternating, so a drift of the machine falls on both); the
    /// medians of the rounds.
    /// </summary>
    internal static (double A, double B) AlternatingMedians(Action a, Action b, int calls, int rounds)
    {
        double[] medians = AlternatingMedians(calls, rounds, a, b);
        return (medians[0], medians[1]);
    }

    /// <summary>
    /// Each action warmed for 1 s, then <paramref name="rounds"/> rounds that time a run of <paramref name="calls"/> calls of
    /// each (the order rotating from round to round, so drift and neighbours' noise fall on all alike); per action, the
    /// median of its rounds' mean microseconds per call.
    /// </summary>
    internal static double[] AlternatingMedians(int calls, int rounds, params Action[] actions)
        => AlternatingMedians(calls, rounds, pauseMilliseconds: 0, actions);

    /// <summary>
    /// As above, sleeping <paramref name="pauseMilliseconds"/> before each run of calls: a runtime whose pool threads
    /// spin-wait after its calls (ONNX Runtime's default) otherwise holds cores through the next action's run.
    /// </summary>
    internal static double[] AlternatingMedians(int calls, int rounds, int pauseMilliseconds, params Action[] actions)
    {
        foreach (Action action in actions) Warm(action);
        double[][] times = actions.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < actions.Length; i++)
            {
                int which = (r + i) % actions.Length;
                if (pauseMilliseconds > 0) Thread.Sleep(pauseMilliseconds);
                times[which][r] = MeanMicroseconds(actions[which], calls);
            }

        return times.Select(t => Percentile(t, 0.5)).ToArray();
    }

    internal static double MeanMicroseconds(Action call, int calls)
    {
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) call();
        return Stopwatch.GetElapsedTime(t0).TotalMicroseconds / calls;
    }

    internal static void Warm(Action action)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 1000) action();
    }

    internal static double Percentile(double[] values, double q)
    {
        double[] sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)];
    }

    internal static string FindRepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "FastNet.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? Directory.GetCurrentDirectory();
    }
}

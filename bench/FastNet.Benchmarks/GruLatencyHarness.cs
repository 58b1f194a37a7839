using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>
/// Batch-1 latency of the GRU sequence model (a 28 x 28 image read as 28 steps of 28 pixels, GRU(28 -> 128), last
/// state, Dense(10)) through a <see cref="Predictor"/> on one thread, in each precision (BF16 and Int8 round the GRU's
/// input projection and the dense layer; the recurrence stays float32): every call timed, p50/p99/mean and bytes per
/// call. Writes bench/results/[subfolder/]gru-latency.md.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- gru-latency [results-subfolder]
/// </summary>
internal static class GruLatencyHarness
{
    public static void Run(string? subfolder)
    {
        Network net = new NetworkBuilder(28 * 28).Gru(128, steps: 28).Dense(10).Build(seed: 1);
        var rng = new Random(1);
        float[] x = Enumerable.Range(0, 784).Select(_ => (float)rng.NextDouble()).ToArray(), y = new float[10];
        const int calls = 50_000;
        var lines = new List<string>
        {
            "# gru-latency",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- gru-latency{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}; every call timed with Stopwatch " +
            "after a 1 s warm-up; one thread; the precisions one after another.",
            "",
            "| model | precision | calls | p50 (us) | p99 (us) | mean (us) | bytes per call |",
            "|---|---|---:|---:|---:|---:|---:|",
        };
        foreach (Precision precision in new[] { Precision.Float32, Precision.BFloat16, Precision.Int8 })
        {
            using Predictor predictor = net.CreatePredictor(new PredictorOptions { Precision = precision });
            var (times, bytes) = LatencyHarness.TimeEachCall(() => predictor.Predict(x, y), calls);
            lines.Add($"| 784 as 28 x 28 steps, GRU 128 (last state), Dense 10 | {precision} | {calls:N0} | {LatencyHarness.Percentile(times, 0.50):F2} | " +
                $"{LatencyHarness.Percentile(times, 0.99):F2} | {times.Average():F2} | {bytes:F0} |");
        }

        HostClass.WriteReport(subfolder, "gru-latency.md", lines);
    }
}

using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>
/// Batch-1 latency of the GRU sequence model (a 28 x 28 image read as 28 steps of 28 pixels, GRU(28 -> 128), last
/// state, Dense(10)) through a <see cref="Predictor"/> on one thread: every call timed, p50/p99/mean and bytes per
/// call. Writes bench/results/gru-latency.md.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- gru-latency
/// </summary>
internal static class GruLatencyHarness
{
    public static void Run()
    {
        Network net = new NetworkBuilder(28 * 28).Gru(128, steps: 28).Dense(10).Build(seed: 1);
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(1);
        float[] x = Enumerable.Range(0, 784).Select(_ => (float)rng.NextDouble()).ToArray(), y = new float[10];
        const int calls = 50_000;
        var (times, bytes) = LatencyHarness.TimeEachCall(() => predictor.Predict(x, y), calls);
        string[] lines =
        [
            "# gru-latency",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- gru-latency` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; every call timed with Stopwatch after a 1 s warm-up; one thread.",
            "",
            "| model | calls | p50 (us) | p99 (us) | mean (us) | bytes per call |",
            "|---|---:|---:|---:|---:|---:|",
            $"| 784 as 28 x 28 steps, GRU 128 (last state), Dense 10 | {calls:N0} | {LatencyHarness.Percentile(times, 0.50):F2} | " +
            $"{LatencyHarness.Percentile(times, 0.99):F2} | {times.Average():F2} | {bytes:F0} |",
        ];
        string path = Path.Combine(LatencyHarness.FindRepositoryRoot(), "bench", "results", "gru-latency.md");
        File.WriteAllLines(path, lines);
        Console.WriteLine(string.Join(Environment.NewLine, lines));
        Console.WriteLine($"wrote {path}");
    }
}

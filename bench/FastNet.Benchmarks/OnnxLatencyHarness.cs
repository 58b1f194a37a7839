using System.Diagnostics;
using FastNet.Inference;
using FastNet.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace FastNet.Benchmarks;

/// <summary>
/// Batch-1 latency of one ONNX file in FastNet (OnnxImport.LoadPredictor) and in ONNX Runtime (an InferenceSession
/// on the same file, one intra-op thread, all graph optimizations, inputs and outputs bound once to preallocated
/// OrtValues: its fastest per-call path), in alternating rounds of one process. Files: the T1 model exported by
/// PyTorch (tests/FastNet.Tests/Onnx/Fixtures/t1.onnx, the issue's bar) and, for the wider picture, a T2 and a G1
/// (GRU) model that FastNet exports. Every call is timed; p50, p99 and mean over all rounds; bytes per call from
/// GC.GetAllocatedBytesForCurrentThread.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- onnx-latency [results-subfolder]
/// </summary>
internal static class OnnxLatencyHarness
{
    private const int Rounds = 15;

    public static void Run(string? subfolder)
    {
        string root = LatencyHarness.FindRepositoryRoot();
        var lines = new List<string>
        {
            "# onnx-latency",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- onnx-latency{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}; ONNX Runtime {OrtEnv.Instance().GetVersionString()} (Microsoft.ML.OnnxRuntime, CPU).",
            "",
            $"Batch 1, one thread. The same .onnx file in both: FastNet imports it (OnnxImport.LoadPredictor, Predict); ONNX Runtime runs it " +
            "(IntraOpNumThreads 1, ORT_ENABLE_ALL, input and output OrtValues bound once over preallocated arrays). " +
            $"{Rounds} rounds alternate the two, each round timing every call of a run; percentiles over all calls of all rounds, after a 1 s warm-up of each.",
            "",
            "| model (file) | runtime | calls | p50 (us) | p99 (us) | mean (us) | bytes per call | p50 ratio ONNX Runtime / FastNet |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        };

        string temp = Directory.CreateTempSubdirectory("fastnet-onnx-bench-").FullName;
        try
        {
            var models = new List<(string Name, string Path, int Calls)>
            {
                ("T1 784-128-10 (PyTorch export)", Path.Combine(root, "tests", "FastNet.Tests", "Onnx", "Fixtures", "t1.onnx"), 20_000),
            };
            string t2 = Path.Combine(temp, "t2.onnx");
            InferenceModel.T2.Build().SaveOnnx(t2);
            models.Add(("T2 784-1024-1024-10 (FastNet export)", t2, 2_000));
            string g1 = Path.Combine(temp, "g1.onnx");
            new NetworkBuilder(784).Gru(128, steps: 28).Dense(10).Build(seed: 1).SaveOnnx(g1);
            models.Add(("G1 GRU(28->128) x 28 steps + Dense(10) (FastNet export)", g1, 2_000));

            foreach (var (name, path, calls) in models) lines.AddRange(Compare(name, path, calls));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }

        HostClass.WriteReport(subfolder, "onnx-latency.md", lines);
    }

    private static IEnumerable<string> Compare(string name, string path, int calls)
    {
        using Predictor predictor = OnnxImport.LoadPredictor(path);
        float[] x = new float[predictor.InputSize], fastNetOutput = new float[predictor.OutputSize];
        var rng = new Random(1);
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();

        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(path, options);
        float[] ortOutput = new float[predictor.OutputSize];
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, x.Length]);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(ortOutput, [1, ortOutput.Length]);
        using var runOptions = new RunOptions();
        string[] inputNames = [session.InputMetadata.Keys.Single()], outputNames = [session.OutputMetadata.Keys.Single()];
        OrtValue[] inputs = [input], outputs = [outputValue];
        void RunOrt() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);
        void RunFastNet() => predictor.Predict(x, fastNetOutput);

        // Same answer first: the comparison is only fair on the same function.
        RunOrt();
        RunFastNet();
        float difference = fastNetOutput.Zip(ortOutput, (a, b) => Math.Abs(a - b)).Max();
        if (difference > 1e-4f) throw new InvalidOperationException($"{name}: FastNet and ONNX Runtime differ by {difference}.");

        LatencyHarness.Warm(RunFastNet);
        LatencyHarness.Warm(RunOrt);
        var fastNet = new List<double>(calls);   // sized up front: no growth inside the allocation count
        var ort = new List<double>(calls);
        long fastNetBytes = 0, ortBytes = 0;
        for (int r = 0; r < Rounds; r++)
        {
            if (r % 2 == 0) { fastNetBytes += Time(RunFastNet, calls / Rounds, fastNet); ortBytes += Time(RunOrt, calls / Rounds, ort); }
            else { ortBytes += Time(RunOrt, calls / Rounds, ort); fastNetBytes += Time(RunFastNet, calls / Rounds, fastNet); }
        }

        double fp50 = LatencyHarness.Percentile([.. fastNet], 0.5), op50 = LatencyHarness.Percentile([.. ort], 0.5);
        yield return Row(name, "FastNet", fastNet, fastNetBytes, "");
        yield return Row(name, "ONNX Runtime", ort, ortBytes, $"{op50 / fp50:F2}");
    }

    private static string Row(string name, string runtime, List<double> times, long bytes, string ratio)
    {
        double[] t = [.. times];
        return $"| {name} | {runtime} | {t.Length:N0} | {LatencyHarness.Percentile(t, 0.5):F2} | {LatencyHarness.Percentile(t, 0.99):F2} | {t.Average():F2} | {bytes / (double)t.Length:F0} | {ratio} |";
    }

    /// <summary>Times each of <paramref name="calls"/> calls into <paramref name="times"/>; returns the bytes allocated.</summary>
    private static long Time(Action call, int calls, List<double> times)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        return GC.GetAllocatedBytesForCurrentThread() - allocated;
    }
}

using System.Diagnostics;
using System.Runtime.Intrinsics;
using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>
/// The cost of the predictor's NaN/infinity input check (PredictorOptions.CheckInputs, on by default): batch-1
/// Predict of the T1 and T2 models and PredictBatch of 1,024 T1 rows, with the check on and off, in alternating
/// rounds of one process (so both see the same machine state), plus the scan alone. Medians of the rounds.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- input-checks [results-subfolder]
/// </summary>
internal static class InputCheckHarness
{
    private const int Rounds = 21;

    public static void Run(string? subfolder)
    {
        var lines = new List<string>
        {
            "# input-checks",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- input-checks{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}.",
            "",
            $"{Rounds} rounds, alternating checked and unchecked predictors in each; a round times a run of back-to-back calls " +
            "(after a 1 s warm-up of each) and gives its mean per call; the table shows the medians of the rounds. 1 thread.",
            "",
            "| call | checked (us) | unchecked (us) | cost of the check (ns) | relative |",
            "|---|---:|---:|---:|---:|",
        };

        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            Network net = model.Build();
            using Predictor on = net.CreatePredictor(), off = net.CreatePredictor(new PredictorOptions { CheckInputs = false });
            float[] x = Inputs(model.Widths[0]), y = new float[model.Widths[^1]];
            int calls = model == InferenceModel.T1 ? 20_000 : 2_000;
            lines.Add(Row($"{model} Predict, batch 1", () => on.Predict(x, y), () => off.Predict(x, y), calls));
        }

        {
            Network net = InferenceModel.T1.Build();
            using Predictor on = net.CreatePredictor(), off = net.CreatePredictor(new PredictorOptions { CheckInputs = false });
            float[] x = Inputs(1024 * 784), y = new float[1024 * 10];
            lines.Add(Row("T1 PredictBatch, 1,024 rows", () => on.PredictBatch(x, y, 1), () => off.PredictBatch(x, y, 1), 100));
        }

        float[] pixels = Inputs(784);
        double scan = LatencyHarness.Percentile(Enumerable.Range(0, Rounds).Select(_ => LatencyHarness.MeanMicroseconds(() => NonFinite.IndexOf(pixels), 200_000)).ToArray(), 0.5);
        lines.AddRange(["", $"The scan alone (NonFinite.IndexOf over 784 floats): {scan * 1000:F1} ns per call."]);

        HostClass.WriteReport(subfolder, "input-checks.md", lines);
    }

    private static string Row(string name, Action checkedCall, Action uncheckedCall, int calls)
    {
        var (a, b) = LatencyHarness.AlternatingMedians(checkedCall, uncheckedCall, calls, Rounds);
        return $"| {name} | {a:F3} | {b:F3} | {(a - b) * 1000:F0} | {100 * (a - b) / b:+0.0;-0.0}% |";
    }

    private static float[] Inputs(int count)
    {
        var rng = new Random(1);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        return x;
    }

    /// <summary>CPU model, widest vector ISA in use, and L2 size, from /proc/cpuinfo and sysfs where Linux has them.</summary>
    internal static string HostDescription()
    {
        string cpu = "unknown CPU";
        try
        {
            // The name alone can hide the generation under a hypervisor ("AMD EPYC"): family and model tell Zen 3, 4 and 5 apart.
            string[] info = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToArray();
            string Field(string name) => info.First(l => l.StartsWith(name, StringComparison.Ordinal) && l[name.Length..].TrimStart().StartsWith(':')).Split(':', 2)[1].Trim();
            cpu = $"{Field("model name")} (family {Field("cpu family")} model {Field("model")})";
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { }
        string isa = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "no AVX2";
        return $"{cpu}, {isa} in use; {FastNet.Kernels.GemmConfiguration.Current}";
    }
}

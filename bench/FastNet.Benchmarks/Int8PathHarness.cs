using FastNet.Inference;
using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// The int8 kernels on every path this CPU runs, on the weight shapes of T1 and T2: one row (the batch-1 kernel, whose
/// weights stream from L2 or L3) and a block of <see cref="Int8Gemv.RowBlock"/> rows (the batch kernel), in rotating
/// rounds of one process (medians of the rounds' mean per call). The evidence for which path <see cref="Int8Gemv.Path"/>
/// picks on a host: every path gives the same bits, so the fastest one wins.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- int8-paths [results-subfolder]
/// </summary>
internal static class Int8PathHarness
{
    private const int Rounds = 15;

    public static void Run(string? subfolder)
    {
        Int8Path[] paths = Enum.GetValues<Int8Path>().Where(p => p != Int8Path.Portable && Int8Gemv.IsSupported(p)).ToArray();
        var lines = new List<string>
        {
            "# int8-paths",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- int8-paths{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; .NET {Environment.Version}. The path in use: {Int8Gemv.Path}.",
            "",
            $"Int8Gemv on random 7-bit rows and int8 weights of each layer shape, one thread; {Rounds} rounds rotate through the paths " +
            "(a round times a run of back-to-back calls after a 1 s warm-up of each; medians of the rounds' mean per call). " +
            "GMAC/s counts the layer's own multiply-adds, k x n per row (the kernels also multiply the zero padding of the last panel).",
            "",
            $"| layer k x n | weights | {string.Join(" | ", paths.Select(p => $"{p} 1 row (us)"))} | {string.Join(" | ", paths.Select(p => $"{p} {Int8Gemv.RowBlock} rows (us)"))} | {string.Join(" | ", paths.Select(p => $"{p} {Int8Gemv.RowBlock} rows GMAC/s"))} |",
            $"|---|---:|{string.Concat(Enumerable.Repeat("---:|", 3 * paths.Length))}",
        };

        var rng = new Random(1);
        var blockTimes = new Dictionary<(int K, int N), double>();   // the path in use: microseconds per block of rows
        foreach ((int k, int n) in new[] { (784, 128), (128, 10), (784, 1024), (1024, 1024), (1024, 10) })
        {
            float[] values = Enumerable.Range(0, k * n).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
            Int8Matrix w = Int8Matrix.Quantize(values, k, n);
            int stride = w.QuadRows * 4;
            byte[] q = Enumerable.Range(0, Int8Gemv.RowBlock * stride).Select(_ => (byte)rng.Next(0, 128)).ToArray();
            float[] scales = [0.01f, 0.02f, 0.03f, 0.04f], bias = new float[n], y = new float[Int8Gemv.RowBlock * n];
            int[] zeroPoints = [1, 2, 3, 4];
            int calls = (int)Math.Clamp(20_000_000L / ((long)k * n), 20, 200_000);
            Action[] single = paths.Select(p => (Action)(() => Int8Gemv.MultiplyRow(q, 0.01f, 3, w, bias, y, p))).ToArray();
            Action[] block = paths.Select(p => (Action)(() => Int8Gemv.MultiplyRows(q, stride, scales, zeroPoints, w, bias, y, p))).ToArray();
            double[] one = LatencyHarness.AlternatingMedians(calls, Rounds, single);
            double[] four = LatencyHarness.AlternatingMedians(calls / Int8Gemv.RowBlock, Rounds, block);
            double macs = (double)Int8Gemv.RowBlock * k * n;
            blockTimes[(k, n)] = four[Array.IndexOf(paths, Int8Gemv.Path)];
            lines.Add($"| {k} x {n} | {k * n / 1024.0:N0} KiB | {string.Join(" | ", one.Select(t => t.ToString("F3")))} | " +
                $"{string.Join(" | ", four.Select(t => t.ToString("F3")))} | {string.Join(" | ", four.Select(t => (macs / t / 1e3).ToString("F0")))} |");
        }

        lines.AddRange(Breakdown(blockTimes));

        HostClass.WriteReport(subfolder, "int8-paths.md", lines);
    }

    /// <summary>
    /// Where a row of an Int8 PredictBatch (1024 rows, one thread) spends its time: the integer products (the path in
    /// use, from the table above), quantizing each layer's input row (timed here), and the rest (dequantizing, bias and
    /// activation, the layer loop), which is what the measured call leaves.
    /// </summary>
    private static IEnumerable<string> Breakdown(Dictionary<(int K, int N), double> blockTimes)
    {
        yield return "";
        yield return $"## Where a batch row's time goes ({Int8Gemv.Path} path, PredictBatch of 1024 rows on one thread)";
        yield return "";
        yield return "| model | per row (us) | integer products (us) | quantizing inputs (us) | the rest (us) |";
        yield return "|---|---:|---:|---:|---:|";
        var rng = new Random(2);
        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            using Predictor predictor = model.Build().CreatePredictor(new PredictorOptions { Precision = Precision.Int8 });
            int[] widths = model.Widths;
            float[] x = Enumerable.Range(0, 1024 * widths[0]).Select(_ => (float)rng.NextDouble()).ToArray(), y = new float[1024 * widths[^1]];
            // Each layer's input row as it arrives: the model's inputs, then ReLU outputs (half zero).
            float[][] rows = widths[..^1].Select((w, l) => Enumerable.Range(0, w).Select(_ => l == 0 ? (float)rng.NextDouble() : Math.Max(0f, (float)(2 * rng.NextDouble() - 1))).ToArray()).ToArray();
            byte[][] levels = widths[..^1].Select(w => new byte[(w + 3) / 4 * 4]).ToArray();
            double[] times = LatencyHarness.AlternatingMedians(model == InferenceModel.T1 ? 20 : 2, Rounds,
                () => predictor.PredictBatch(x, y, maxThreads: 1),
                () =>
                {
                    for (int i = 0; i < 1024; i++)
                        for (int l = 0; l < rows.Length; l++) Int8Activations.Quantize(rows[l], levels[l]);
                });
            double perRow = times[0] / 1024, quantizing = times[1] / 1024;
            double products = Enumerable.Range(0, widths.Length - 1).Sum(l => blockTimes[(widths[l], widths[l + 1])]) / Int8Gemv.RowBlock;
            yield return $"| {model} | {perRow:F3} | {products:F3} ({100 * products / perRow:F0}%) | {quantizing:F3} ({100 * quantizing / perRow:F0}%) | " +
                $"{perRow - products - quantizing:F3} ({100 * (perRow - products - quantizing) / perRow:F0}%) |";
        }
    }
}

using System.Runtime.Intrinsics;
using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>
/// I4 of ../shared/WORKLOADS.md, bfloat16 part: batch-1 Predict of the T1 and T2 models with float32 and with bfloat16
/// weights, in alternating rounds of one process (medians of the rounds' mean per call), and the bytes each streams.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- precision [results-subfolder]
/// </summary>
internal static class PrecisionHarness
{
    private const int Rounds = 21;

    public static void Run(string? subfolder)
    {
        var lines = new List<string>
        {
            "# precision",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- precision{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {Environment.ProcessorCount} cores, .NET {Environment.Version}; bfloat16 row product on " +
            $"{(Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar")} code.",
            "",
            $"Batch 1, one thread. {Rounds} rounds alternate the two predictors; a round times a run of back-to-back Predict calls " +
            "(after a 1 s warm-up of each) and gives its mean per call; the table shows the medians of the rounds.",
            "",
            "| model | weights FP32 / BF16 | FP32 (us) | BF16 (us) | BF16 speed-up |",
            "|---|---:|---:|---:|---:|",
        };

        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            Network net = model.Build();
            using Predictor fp32 = net.CreatePredictor(), bf16 = net.CreatePredictor(new PredictorOptions { Precision = Precision.BFloat16 });
            var rng = new Random(1);
            float[] x = Enumerable.Range(0, model.Widths[0]).Select(_ => (float)rng.NextDouble()).ToArray(), y = new float[model.Widths[^1]];
            int calls = model == InferenceModel.T1 ? 20_000 : 1_000;
            var (a, b) = LatencyHarness.AlternatingMedians(() => fp32.Predict(x, y), () => bf16.Predict(x, y), calls, Rounds);
            long weights = net.Layers.Cast<DenseLayer>().Sum(l => (long)l.Weights.Length);
            lines.Add($"| {model} | {4 * weights / 1024.0:N0} / {2 * weights / 1024.0:N0} KiB | {a:F3} | {b:F3} | {a / b:F2}x |");
            Console.WriteLine(lines[^1]);
        }

        lines.AddRange(["", "## Accuracy on Fashion-MNIST", ""]);
        lines.AddRange(Accuracy());

        string folder = Path.Combine(LatencyHarness.FindRepositoryRoot(), "bench", "results", subfolder ?? "");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "precision.md");
        File.WriteAllLines(path, lines);
        Console.WriteLine(string.Join(Environment.NewLine, lines));
        Console.WriteLine($"wrote {path}");
    }

    /// <summary>T1 trained as the t1-fashion workload (10 epochs, SGD 0.1, batch 64, seed 1), its 10,000 test images through both predictors.</summary>
    private static IEnumerable<string> Accuracy()
    {
        const string folder = "/usr/share/datasets/fashion-mnist";
        string Path(string name) => System.IO.Path.Combine(folder, name);
        if (!File.Exists(Path("train-images-idx3-ubyte.gz")))
            return [$"Not measured: Fashion-MNIST is not installed ({folder}; apt-get install dataset-fashion-mnist)."];
        var train = FastNet.Data.IdxReader.ReadDataset(Path("train-images-idx3-ubyte.gz"), Path("train-labels-idx1-ubyte.gz"));
        var test = FastNet.Data.IdxReader.ReadDataset(Path("t10k-images-idx3-ubyte.gz"), Path("t10k-labels-idx1-ubyte.gz"));
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        new FastNet.Training.Trainer(net, FastNet.Training.Loss.SoftmaxCrossEntropy, new FastNet.Training.Sgd(0.1f), batchSize: 64, seed: 1) { DropLastPartialBatch = true }
            .Fit(train, epochs: 10);
        using Predictor fp32 = net.CreatePredictor(), bf16 = net.CreatePredictor(new PredictorOptions { Precision = Precision.BFloat16 });
        int right32 = 0, right16 = 0, changed = 0;
        double largest = 0;
        float[] a = new float[10], b = new float[10];
        for (int i = 0; i < test.Count; i++)
        {
            fp32.Predict(test.Sample(i), a);
            bf16.Predict(test.Sample(i), b);
            int c32 = Array.IndexOf(a, a.Max()), c16 = Array.IndexOf(b, b.Max());
            right32 += c32 == test.Labels[i] ? 1 : 0;
            right16 += c16 == test.Labels[i] ? 1 : 0;
            changed += c32 != c16 ? 1 : 0;
            for (int j = 0; j < 10; j++) largest = Math.Max(largest, Math.Abs(a[j] - b[j]));
        }

        return
        [
            "T1 trained as the t1-fashion workload (10 epochs, SGD 0.1, batch 64, seed 1); the 10,000 test images through both predictors.",
            "",
            "| | FP32 | BF16 |",
            "|---|---:|---:|",
            $"| test accuracy | {100.0 * right32 / test.Count:F2}% | {100.0 * right16 / test.Count:F2}% |",
            $"| predictions that differ from FP32 | | {changed} of {test.Count:N0} ({100.0 * changed / test.Count:F2}%) |",
            $"| largest logit difference | | {largest:G3} |",
        ];
    }
}

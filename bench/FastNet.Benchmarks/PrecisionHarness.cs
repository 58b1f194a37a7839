using System.Runtime.Intrinsics;
using FastNet.Inference;
using FastNet.Onnx;

namespace FastNet.Benchmarks;

/// <summary>
/// I4 of ../shared/WORKLOADS.md: the T1 and T2 models with float32, bfloat16 and int8 weights, next to ONNX Runtime on the
/// float32 export and on its dynamic int8 quantization (Scripts/quantize_dynamic.py): batch-1 latency and batch-1024
/// throughput on one thread, in rotating rounds of one process (medians of the rounds' mean per call), then test accuracy
/// of each precision on Fashion-MNIST.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- precision [results-subfolder]
/// </summary>
internal static class PrecisionHarness
{
    private const int Rounds = 21;
    private const int Batch = 1024;
    private static readonly PredictorOptions Bf16 = new() { Precision = Precision.BFloat16 };
    private static readonly PredictorOptions Int8 = new() { Precision = Precision.Int8 };

    public static void Run(string? subfolder)
    {
        var lines = new List<string>
        {
            "# precision",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- precision{(subfolder is null ? "" : " " + subfolder)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}; bfloat16 row product on " +
            $"{(Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar")} code; " +
            $"int8 row products on the {FastNet.Kernels.Int8Gemv.Path} path.",
            "",
            $"Batch 1, one thread. {Rounds} rounds rotate through the predictors and ONNX Runtime sessions; a round times a run of back-to-back Predict calls " +
            "(after a 1 s warm-up of each) and gives its mean per call; the table shows the medians of the rounds.",
            "",
            "| model | weights FP32 / BF16 / Int8 | FP32 (us) | BF16 (us) | Int8 (us) | ORT FP32 (us) | ORT int8 (us) | BF16 speed-up | Int8 speed-up | Int8 vs ORT int8 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        };

        string models = Directory.CreateTempSubdirectory("fastnet-precision").FullName;
        var sameFunction = new List<string>();
        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            Network net = model.Build();
            var (fp32Onnx, int8Onnx) = OnnxModels(net, models, model.Widths.Length == 3 ? "t1" : "t2");
            using Predictor fp32 = net.CreatePredictor(), bf16 = net.CreatePredictor(Bf16), int8 = net.CreatePredictor(Int8);
            var rng = new Random(1);
            float[] x = Enumerable.Range(0, model.Widths[0]).Select(_ => (float)rng.NextDouble()).ToArray(), y = new float[model.Widths[^1]];
            using var ort32 = new OrtSession(fp32Onnx, x, y, 1);
            using var ort8 = int8Onnx is null ? null : new OrtSession(int8Onnx, x, y, 1);
            // The same function first: each int8 model's outputs next to FastNet's FP32 ones.
            float[] reference = new float[y.Length];
            fp32.Predict(x, reference);
            int8.Predict(x, y);
            float ours = y.Zip(reference, (a, b) => Math.Abs(a - b)).Max(), theirs = float.NaN;
            if (ort8 is not null)
            {
                ort8.Run();
                theirs = y.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            }

            sameFunction.Add($"{model}: FastNet Int8 {ours:G3}, ORT int8 {theirs:G3} (outputs of magnitude up to {reference.Max(Math.Abs):G3})");
            int calls = model == InferenceModel.T1 ? 20_000 : 1_000;
            double[] us = LatencyHarness.AlternatingMedians(calls, Rounds,
                () => fp32.Predict(x, y), () => bf16.Predict(x, y), () => int8.Predict(x, y), ort32.Run, ort8 is null ? ort32.Run : ort8.Run);
            long weights = net.Layers.Cast<DenseLayer>().Sum(l => (long)l.Weights.Length);
            string ortInt8 = ort8 is null ? "n/a" : $"{us[4]:F3}", versus = ort8 is null ? "n/a" : $"{us[4] / us[2]:F2}x";
            lines.Add($"| {model} | {4 * weights / 1024.0:N0} / {2 * weights / 1024.0:N0} / {weights / 1024.0:N0} KiB | {us[0]:F3} | {us[1]:F3} | {us[2]:F3} | " +
                $"{us[3]:F3} | {ortInt8} | {us[0] / us[1]:F2}x | {us[0] / us[2]:F2}x | {versus} |");
            Console.WriteLine(lines[^1]);
        }

        lines.AddRange(["", $"## Batch {Batch}, one thread (I2)", "",
            $"PredictBatch of {Batch} inputs with maxThreads 1 (ONNX Runtime: one Run of a [{Batch} x 784] tensor, one intra-op thread); " +
            $"{Rounds} alternating rounds as above, medians; samples per second.", "",
            "| model | FP32 | Int8 | ORT FP32 | ORT int8 | Int8 / FP32 | Int8 / ORT int8 |", "|---|---:|---:|---:|---:|---:|---:|"]);
        foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
        {
            Network net = model.Build();
            var (fp32Onnx, int8Onnx) = OnnxModels(net, models, model.Widths.Length == 3 ? "t1" : "t2");
            using Predictor fp32 = net.CreatePredictor(), int8 = net.CreatePredictor(Int8);
            float[] x = Enumerable.Range(0, Batch * model.Widths[0]).Select(i => (float)new Random(i).NextDouble()).ToArray();
            float[] y = new float[Batch * model.Widths[^1]];
            using var ort32 = new OrtSession(fp32Onnx, x, y, Batch);
            using var ort8 = int8Onnx is null ? null : new OrtSession(int8Onnx, x, y, Batch);
            int calls = model == InferenceModel.T1 ? 20 : 2;
            double[] us = LatencyHarness.AlternatingMedians(calls, Rounds, () => fp32.PredictBatch(x, y, maxThreads: 1), () => int8.PredictBatch(x, y, maxThreads: 1),
                ort32.Run, ort8 is null ? ort32.Run : ort8.Run);
            string PerSecond(double microseconds) => $"{Batch / microseconds * 1e6:N0}";
            lines.Add($"| {model} | {PerSecond(us[0])} | {PerSecond(us[1])} | {PerSecond(us[2])} | {(ort8 is null ? "n/a" : PerSecond(us[3]))} | " +
                $"{us[0] / us[1]:F2}x | {(ort8 is null ? "n/a" : $"{us[3] / us[1]:F2}x")} |");
            Console.WriteLine(lines[^1]);
        }

        lines.AddRange(["", "ORT int8 is the graph onnxruntime's quantize_dynamic makes (DynamicQuantizeLinear, MatMulInteger with int8 " +
            "per-tensor weights, Cast, Mul by both scales, Add bias), built from FastNet's ONNX export by " +
            "bench/FastNet.Benchmarks/Scripts/quantize_dynamic.py (python3-onnx); ONNX Runtime " +
            $"{typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version}, ENABLE_ALL optimizations. " +
            "Largest difference from FastNet FP32 on the batch-1 input: " + string.Join("; ", sameFunction) + "."]);

        lines.AddRange(["", "## Accuracy on Fashion-MNIST", ""]);
        lines.AddRange(Accuracy());

        HostClass.WriteReport(subfolder, "precision.md", lines);
    }

    /// <summary>
    /// The network's ONNX export, and ONNX Runtime's dynamic int8 quantization of it (null when python3 with the onnx
    /// package is not there to build it).
    /// </summary>
    private static (string Fp32, string? Int8) OnnxModels(Network net, string folder, string name)
    {
        string fp32 = Path.Combine(folder, name + ".onnx"), int8 = Path.Combine(folder, name + "-int8.onnx");
        net.SaveOnnx(fp32);
        string script = Path.Combine(LatencyHarness.FindRepositoryRoot(), "bench", "FastNet.Benchmarks", "Scripts", "quantize_dynamic.py");
        try
        {
            using var python = System.Diagnostics.Process.Start("/usr/bin/python3", [script, fp32, int8]);
            python.WaitForExit();
            if (python.ExitCode == 0) return (fp32, int8);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }

        Console.Error.WriteLine("ONNX Runtime int8 not measured: /usr/bin/python3 with the onnx package (apt-get install python3-onnx) could not build the model.");
        return (fp32, null);
    }

    /// <summary>T1 trained as the t1-fashion workload (10 epochs, SGD 0.1, batch 64, seed 1), its 10,000 test images through each predictor.</summary>
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
        return
        [
            "T1 trained as the t1-fashion workload (10 epochs, SGD 0.1, batch 64, seed 1); the 10,000 test images through each predictor.",
            "",
            .. AccuracyTable(net, test),
        ];
    }

    /// <summary>Test accuracy of FP32, BF16 and Int8 predictors of <paramref name="net"/>, and how far BF16 and Int8 are from FP32.</summary>
    internal static IEnumerable<string> AccuracyTable(Network net, FastNet.Data.Dataset test)
    {
        using Predictor fp32 = net.CreatePredictor(), bf16 = net.CreatePredictor(Bf16), int8 = net.CreatePredictor(Int8);
        Predictor[] predictors = [fp32, bf16, int8];
        int outputs = net.OutputSize;
        var right = new int[3];
        var changed = new int[3];
        var largest = new double[3];
        float[][] y = [new float[outputs], new float[outputs], new float[outputs]];
        for (int i = 0; i < test.Count; i++)
        {
            for (int p = 0; p < 3; p++)
            {
                predictors[p].Predict(test.Sample(i), y[p]);
                int predicted = Array.IndexOf(y[p], y[p].Max());
                right[p] += predicted == test.Labels[i] ? 1 : 0;
                changed[p] += predicted != Array.IndexOf(y[0], y[0].Max()) ? 1 : 0;
                for (int j = 0; j < outputs; j++) largest[p] = Math.Max(largest[p], Math.Abs(y[p][j] - y[0][j]));
            }
        }

        string Share(int p) => $"{changed[p]} of {test.Count:N0} ({100.0 * changed[p] / test.Count:F2}%)";
        return
        [
            "| | FP32 | BF16 | Int8 |",
            "|---|---:|---:|---:|",
            $"| test accuracy | {100.0 * right[0] / test.Count:F2}% | {100.0 * right[1] / test.Count:F2}% | {100.0 * right[2] / test.Count:F2}% |",
            $"| difference from FP32 (points) | | {100.0 * (right[1] - right[0]) / test.Count:+0.00;-0.00;0.00} | {100.0 * (right[2] - right[0]) / test.Count:+0.00;-0.00;0.00} |",
            $"| predictions that differ from FP32 | | {Share(1)} | {Share(2)} |",
            $"| largest output difference | | {largest[1]:G3} | {largest[2]:G3} |",
        ];
    }
}

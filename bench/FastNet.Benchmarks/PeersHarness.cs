using System.Diagnostics;
using FastNet.Inference;
using FastNet.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace FastNet.Benchmarks;

/// <summary>
/// FastNet against its peers on the same host in one run, for the workloads whose bars name them (issue #11 item 4):
/// I2, batch-1024 inference of T1 and T2, against ONNX Runtime on FastNet's ONNX export of the same network; and T1 and T2
/// training against PyTorch (Scripts/train_peer.py, Debian's python3-torch, kept running beside this process). Each pair
/// alternates in rounds, at 1 and 2 threads (or the counts given), so drift and neighbours fall on both.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- peers [results-subfolder|.] [threads,...|.] [inference|training]
/// The last argument runs one part alone, into peers-inference.md or peers-training.md: training alone is the comparison
/// that can run on an emulated AVX2 host (DOTNET_EnableAVX512=0 with OPENBLAS_CORETYPE=Haswell: PyTorch's OpenBLAS and
/// its ATen kernels then run AVX2 code too), where ONNX Runtime would still pick its AVX-512 kernels.
/// </summary>
internal static class PeersHarness
{
    private const int InferenceRounds = 15;
    private const int TrainingRounds = 5;
    private const int Batch = 1024;

    public static void Run(string? subfolder, string? threadList, string? part = null)
    {
        if (part is not (null or "inference" or "training"))
            throw new ArgumentException($"peers: the part to run is 'inference' or 'training', not '{part}'.");
        bool inference = part != "training", training = part != "inference";
        int[] threadCounts = threadList is null ? [1, 2] : threadList.Split(',').Select(int.Parse).ToArray();
        string pytorchMissing = "";
        using var pytorch = training ? PyTorchProcess.TryStart(out pytorchMissing) : null;
        string arguments = (subfolder ?? ".") + " " + (threadList ?? ".") + (part is null ? "" : " " + part);
        var lines = new List<string>
        {
            part is null ? "# peers" : $"# peers-{part}",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- peers{(arguments == ". ." ? "" : " " + arguments)}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}.",
            "",
            "Peers: " + string.Join("; ", new[]
            {
                inference ? $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} (Microsoft.ML.OnnxRuntime, CPU, in this process)" : null,
                training ? pytorch?.Info ?? pytorchMissing : null,
            }.OfType<string>()) + $".{EnvironmentNote()}",
        };

        if (inference)
        {
            lines.AddRange([
                "",
                $"## I2: batch {Batch} inference",
                "",
                $"One PredictBatch of {Batch} rows (maxThreads = threads) against one ONNX Runtime Run of the same network exported by " +
                "FastNet (IntraOpNumThreads = threads, ORT_ENABLE_ALL, input and output bound once over preallocated arrays), " +
                $"outputs checked equal first; {InferenceRounds} rounds alternate the two, each timing a run of calls after a 1 s " +
                "warm-up of each; medians of the rounds' mean per call, as samples per second.",
                "",
                "| model | threads | FastNet | ONNX Runtime | FastNet / ONNX Runtime |",
                "|---|---:|---:|---:|---:|",
            ]);
            string temp = Directory.CreateTempSubdirectory("fastnet-peers-").FullName;
            try
            {
                foreach (InferenceModel model in new[] { InferenceModel.T1, InferenceModel.T2 })
                    foreach (int threads in threadCounts)
                    {
                        lines.Add(Inference(model, threads, temp));
                        Console.WriteLine(lines[^1]);
                    }
            }
            finally
            {
                Directory.Delete(temp, recursive: true);
            }
        }

        if (training) AddTraining(lines, threadCounts, pytorch, pytorchMissing);
        HostClass.WriteReport(subfolder, part is null ? "peers.md" : $"peers-{part}.md", lines);
    }

    private static void AddTraining(List<string> lines, int[] threadCounts, PyTorchProcess? pytorch, string pytorchMissing)
    {
        lines.AddRange(["", "## Training throughput", ""]);
        if (pytorch is null)
        {
            lines.Add($"Not measured: {pytorchMissing}");
        }
        else
        {
            lines.AddRange([
                "One epoch of the training benchmark (TrainingBenchmarks: Trainer.Fit, seeded permutation, batches read where they " +
                "lie, last partial batch dropped, softmax cross-entropy, SGD) against the same workload in PyTorch (Scripts/train_peer.py: " +
                "permutation, gathered batch, forward, cross-entropy, backward, SGD step; its OpenBLAS runs the threads, its own " +
                "intra-op pool 1, its best combination on this class of host, see the script). " +
                $"{TrainingRounds} rounds alternate the two, each timing several epochs after an unmeasured one; median epoch, as samples per second.",
                "",
                "| workload | threads | FastNet | PyTorch | FastNet / PyTorch |",
                "|---|---:|---:|---:|---:|",
            ]);
            foreach (TrainingWorkload workload in new[] { TrainingWorkload.T1, TrainingWorkload.T2 })
                foreach (int threads in threadCounts)
                {
                    lines.Add(Training(workload, threads, pytorch));
                    Console.WriteLine(lines[^1]);
                }
        }
    }

    private static string Inference(InferenceModel model, int threads, string folder)
    {
        Network net = model.Build();
        string onnx = Path.Combine(folder, $"{model.Widths.Length}-{threads}.onnx");
        net.SaveOnnx(onnx);
        using Predictor predictor = net.CreatePredictor();
        var rng = new Random(1);
        float[] x = Enumerable.Range(0, Batch * model.Widths[0]).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] ours = new float[Batch * model.Widths[^1]], theirs = new float[ours.Length];
        using var ort = new OrtSession(onnx, x, theirs, Batch, threads);
        ort.Run();
        predictor.PredictBatch(x, ours, threads);
        float largest = ours.Max(Math.Abs), difference = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        if (difference > 1e-4f * Math.Max(1f, largest))
            throw new InvalidOperationException($"{model}: FastNet and ONNX Runtime differ by {difference} (outputs up to {largest}).");

        int calls = model == InferenceModel.T1 ? 40 : 3;
        double[] us = LatencyHarness.AlternatingMedians(calls, InferenceRounds, SwitchPause, () => predictor.PredictBatch(x, ours, threads), ort.Run);
        double fastNet = Batch / us[0] * 1e6, onnxRuntime = Batch / us[1] * 1e6;
        return $"| {model} | {threads} | {fastNet:N0} | {onnxRuntime:N0} | {fastNet / onnxRuntime:F2} |";
    }

    /// <summary>
    /// Milliseconds of pause before each timed run: ONNX Runtime's pool threads spin-wait for work after a Run (its
    /// default), and without the pause they held one of this host's two cores through FastNet's next run (FastNet's
    /// 2-thread I2 read as its 1-thread figure; in trial runs while writing this harness, not committed, 20 ms was not
    /// enough and 100 and 300 gave the same figures). PEERS_PAUSE_MS sets another.
    /// </summary>
    private static readonly int SwitchPause = int.Parse(Environment.GetEnvironmentVariable("PEERS_PAUSE_MS") ?? "100");

    private static string Training(TrainingWorkload workload, int threads, PyTorchProcess pytorch)
    {
        var bench = new TrainingBenchmarks { Workload = workload, Threads = threads };
        bench.Setup();
        int epochs = workload == TrainingWorkload.T1 ? 10 : 2;
        string name = workload == TrainingWorkload.T1 ? "T1" : "T2";
        bench.Epoch();                        // unmeasured: compilation, first touches
        pytorch.Epochs(name, threads, 1);
        var ours = new List<double>();
        var theirs = new List<double>();
        for (int round = 0; round < TrainingRounds; round++)
        {
            if (round % 2 == 0) { Time(); Thread.Sleep(SwitchPause); theirs.AddRange(pytorch.Epochs(name, threads, epochs)); }
            else { theirs.AddRange(pytorch.Epochs(name, threads, epochs)); Thread.Sleep(SwitchPause); Time(); }
            Thread.Sleep(SwitchPause);
        }

        double fastNet = workload.SamplesPerEpoch / LatencyHarness.Percentile([.. ours], 0.5);
        double peer = workload.SamplesPerEpoch / LatencyHarness.Percentile([.. theirs], 0.5);
        return $"| {workload} | {threads} | {fastNet:N0} | {peer:N0} | {fastNet / peer:F2} |";

        void Time()
        {
            for (int e = 0; e < epochs; e++)
            {
                long start = Stopwatch.GetTimestamp();
                bench.Epoch();
                ours.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
    }

    /// <summary>Variables that change what runs (OpenBLAS's kernel choice, its threads; FastNet's vector width), named in the report.</summary>
    private static string EnvironmentNote()
    {
        string[] names = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "DOTNET_EnableAVX512",
            "DOTNET_PreferredVectorBitWidth", "FASTNET_L1D_BYTES", "FASTNET_L2_BYTES"];
        string set = string.Join(", ", names.Where(n => Environment.GetEnvironmentVariable(n) is not null).Select(n => $"{n}={Environment.GetEnvironmentVariable(n)}"));
        return set.Length == 0 ? "" : $" Environment: {set} (OPENBLAS_CORETYPE forces PyTorch's OpenBLAS kernels: on an AVX-512 host set it to SkylakeX, or unset it, for the peer's best).";
    }

    /// <summary>Scripts/train_peer.py under /usr/bin/python3, answering one line per command.</summary>
    private sealed class PyTorchProcess : IDisposable
    {
        private readonly Process _process;

        private PyTorchProcess(Process process, string info)
        {
            _process = process;
            Info = info;
        }

        public string Info { get; }

        public static PyTorchProcess? TryStart(out string missing)
        {
            missing = "";
            string script = Path.Combine(LatencyHarness.FindRepositoryRoot(), "bench", "FastNet.Benchmarks", "Scripts", "train_peer.py");
            try
            {
                var start = new ProcessStartInfo("/usr/bin/python3", [script])
                {
                    RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                Process process = Process.Start(start)!;
                process.StandardInput.WriteLine("info");
                string? info = process.StandardOutput.ReadLine();
                if (info is not null) return new PyTorchProcess(process, info);
                missing = "PyTorch not measured: " + process.StandardError.ReadToEnd().Trim().Split('\n')[^1] + " (apt-get install python3-torch)";
                process.Dispose();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                missing = $"PyTorch not measured: /usr/bin/python3 could not start ({e.Message})";
            }

            return null;
        }

        public double[] Epochs(string workload, int threads, int epochs)
        {
            _process.StandardInput.WriteLine($"{workload} {threads} {epochs}");
            string line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("PyTorch stopped: " + _process.StandardError.ReadToEnd());
            return line.Split(' ').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            _process.WaitForExit(10_000);
            _process.Dispose();
        }
    }
}

using FastNet.Data;
using FastNet.Training;

namespace FastNet.Benchmarks;

/// <summary>
/// Workload T1 (or, with "gru", the GRU(28 -> 128) + Dense(10) sequence workload, Adam, batch 64) on Fashion-MNIST,
/// epoch by epoch (accuracy and samples/s), for quick iteration.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- quick-train [threads] [seed] [epochs] [gru]
/// </summary>
internal static class QuickTraining
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 1 ? int.Parse(args[1]) : 1;
        int seed = args.Length > 2 ? int.Parse(args[2]) : 1;
        int epochs = args.Length > 3 ? int.Parse(args[3]) : 10;
        const string dir = "/usr/share/datasets/fashion-mnist";
        Dataset train = IdxReader.ReadDataset(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        Dataset test = IdxReader.ReadDataset(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        bool gru = args.Length > 4 && args[4] == "gru";
        Network net = gru
            ? new NetworkBuilder(784).Gru(128, steps: 28).Dense(10).Build(seed)
            : new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed);
        Optimizer optimizer = gru ? new Adam(1e-3f) : new Sgd(0.1f);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, optimizer, batchSize: 64, maxThreads: threads, seed: seed) { DropLastPartialBatch = true };
        var start = System.Diagnostics.Stopwatch.StartNew();
        trainer.Fit(train, epochs, test, new ConsoleProgress());
        Console.WriteLine($"total {start.Elapsed.TotalSeconds:F2} s");
    }

    /// <summary>
    /// Each epoch's line, with what the runtime did during it: time spent compiling methods (all threads), methods
    /// compiled, and the process's minor page faults (fresh memory touched): where a first epoch's extra time can go.
    /// </summary>
    private sealed class ConsoleProgress : IProgress<EpochReport>
    {
        private TimeSpan _jit = System.Runtime.JitInfo.GetCompilationTime();
        private long _methods = System.Runtime.JitInfo.GetCompiledMethodCount(), _faults = MinorFaults();

        public void Report(EpochReport r)
        {
            TimeSpan jit = System.Runtime.JitInfo.GetCompilationTime();
            long methods = System.Runtime.JitInfo.GetCompiledMethodCount(), faults = MinorFaults();
            Console.WriteLine(
                $"epoch {r.Epoch,2}  loss {r.TrainLoss:F4}  train {r.TrainAccuracy:P2}  test {r.ValidationAccuracy:P2}  {r.SamplesPerSecond,9:N0} samples/s" +
                $"  (JIT {(jit - _jit).TotalMilliseconds,5:F1} ms, {methods - _methods,4} methods; {faults - _faults,6} page faults)");
            (_jit, _methods, _faults) = (jit, methods, faults);
        }

        /// <summary>minflt, the 10th field of /proc/self/stat (after the parenthesized name); 0 where there is none.</summary>
        private static long MinorFaults()
        {
            try
            {
                string stat = File.ReadAllText("/proc/self/stat");
                return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7]);
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }
}

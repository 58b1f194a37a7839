using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using FastNet.Benchmarks;

// Quick harnesses for iterating (seconds, medians of Stopwatch timings); committed figures come from BenchmarkDotNet.
switch (args.FirstOrDefault())
{
    case "quick":           // GEMM shapes, FastNet next to OpenBLAS: quick [shape-filter[,shape-filter...]|all] [threads[,threads...]]
        QuickHarness.Run(args.Length > 1 ? args[1] : null, args.Length > 2 ? args[2] : null);
        return;
    case "quick-train":     // T1 on Fashion-MNIST epoch by epoch: quick-train [threads] [seed] [epochs]
        QuickTraining.Run(args);
        return;
    case "latency":         // I1 and I3: per-call latency percentiles -> inference-latency.md: latency [results-subfolder]
        LatencyHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "gemm-config":     // this process's GemmConfiguration (ISA, kernel, caches, KC/NB/MB), as report headers print it
        Console.WriteLine(FastNet.Kernels.GemmConfiguration.Current);
        return;
    case "openblas-core":   // the kernel family OpenBLAS runs here (its own pick, or OPENBLAS_CORETYPE's), or "absent"
        Console.WriteLine(OpenBlas.IsAvailable ? OpenBlas.CoreName : "absent");
        return;
    case "host-class":      // the results subfolder of this machine's class (zen4-avx512, zen3-avx2, ...): reports without a subfolder go there
        Console.WriteLine(HostClass.Name);
        return;
    case "gru-latency":     // batch-1 latency of the GRU sequence model in FP32, BF16 and Int8: gru-latency [results-subfolder]
        GruLatencyHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "gemm-calls":      // one shape called n times on one thread, untimed, for bench/cache-sim.sh: gemm-calls SHAPE CALLS [openblas]
        GemmCallsHarness.Run(args);
        return;
    case "pack":            // the B packing alone, ns per packed float, for tuning
        PackHarness.Run();
        return;
    case "kernel":          // the AVX-512 micro-kernel alone against the FMA peak
        KernelBench.Run();
        return;
    case "epochs":          // the training benchmark's epoch under a Stopwatch: epochs T1|T2|G1 [threads] [repetitions]
        EpochHarness.Run(args);
        return;
    case "input-checks":    // the predictor's NaN/infinity input check, on against off: input-checks [results-subfolder]
        InputCheckHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "onnx-latency":    // batch-1 latency of one .onnx file in FastNet and in ONNX Runtime: onnx-latency [results-subfolder]
        OnnxLatencyHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "peers":           // I2 against ONNX Runtime, T1/T2 training against PyTorch, alternating rounds: peers [results-subfolder|.] [threads,...|.] [inference|training]
        PeersHarness.Run(args.Length > 1 && args[1] != "." ? args[1] : null, args.Length > 2 && args[2] != "." ? args[2] : null, args.Length > 3 ? args[3] : null);
        return;
    case "load":            // S1: the service under wrk, FastNet vs ONNX Runtime: load [results-subfolder] [seconds per run] [T1|T2]
        ServiceLoadHarness.Run(args.Length > 1 && args[1] != "." ? args[1] : null, args.Length > 2 ? int.Parse(args[2]) : 10, args.Length > 3 ? args[3] : "T1");
        return;
    case "precision":       // I4: FP32, BF16 and Int8 predictors and ONNX Runtime FP32/int8, batch 1 and 1024, + Fashion accuracy: precision [results-subfolder]
        PrecisionHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "precision-mnist": // I4 accuracy of the demo's saved MNIST model in FP32, BF16, Int8: precision-mnist [results-subfolder] [model] [idx-folder]
        PrecisionMnistHarness.Run(args.Length > 1 ? args[1] : null, args.Length > 2 ? args[2] : null, args.Length > 3 ? args[3] : null);
        return;
    case "int8-paths":      // the int8 kernels on every path this CPU runs, 1 row and a block of rows: int8-paths [results-subfolder]
        Int8PathHarness.Run(args.Length > 1 ? args[1] : null);
        return;
    case "breakdown":       // each operation of a T1 training step on its own
        Breakdown.Run(args.Length > 1 ? int.Parse(args[1]) : 1);
        return;
}

Console.WriteLine(FastNet.Kernels.GemmConfiguration.Current);   // the host's blocks, for the report's reader
if (!OpenBlas.IsAvailable)
    Console.WriteLine("OpenBLAS (libopenblas.so.0) not found: its benchmarks are left out. Install Debian's libopenblas0-pthread to include them.");

IConfig config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(new SamplesPerSecondColumn(), new FlopColumn(asFractionOfPeak: false), new FlopColumn(asFractionOfPeak: true), StatisticColumn.Median)
    .AddFilter(new SimpleFilter(b => OpenBlas.IsAvailable || b.Descriptor.WorkloadMethod.Name != nameof(GemmBenchmarks.OpenBlasSgemm)))
    .WithOptions(ConfigOptions.JoinSummary);

BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args, config);

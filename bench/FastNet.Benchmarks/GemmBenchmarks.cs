using BenchmarkDotNet.Attributes;
using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>FastNet's GEMM against OpenBLAS's cblas_sgemm on the WORKLOADS shapes, at 1 thread and 2.</summary>
public class GemmBenchmarks
{
    private GemmOperands _operands = null!;

    public static IEnumerable<GemmShape> Shapes => GemmShape.Workloads;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _operands = new GemmOperands(Shape);
        if (OpenBlas.IsAvailable) OpenBlas.SetNumThreads(Threads);
    }

    [Benchmark(Baseline = true)]
    public void FastNetGemm()
    {
        GemmShape s = Shape;
        Gemm.Multiply(_operands.A, _operands.B, _operands.C, s.M, s.N, s.K, s.TransA, s.TransB, maxThreads: Threads);
    }

    [Benchmark]
    public void OpenBlasSgemm() => QuickHarness.CallOpenBlas(_operands, Shape);
}

/// <summary>The naive triple loop on the same shapes (one thread): what hand-written C# gets without blocking or SIMD.</summary>
public class NaiveGemmBenchmarks
{
    private GemmOperands _operands = null!;

    public static IEnumerable<GemmShape> Shapes => GemmShape.Workloads;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    [GlobalSetup]
    public void Setup() => _operands = new GemmOperands(Shape);

    [Benchmark]
    public void Naive() => NaiveGemm.Multiply(_operands.A, _operands.B, _operands.C, Shape);
}

/// <summary>The FP32 FMA peak of 1 and 2 cores, measured in the same run as the GEMMs.</summary>
public class FmaPeakBenchmarks
{
    [Params(1, 2)]
    public int Threads { get; set; }

    [Benchmark]
    public void FmaPeak() => Benchmarks.FmaPeak.RunParallel(Threads);
}

using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FastNet.Benchmarks;

/// <summary>
/// GFLOP/s from the median time, and that as a fraction of the FMA peak measured in the same run
/// (<see cref="FmaPeakBenchmarks"/> with the same thread count).
/// </summary>
internal sealed class FlopColumn(bool asFractionOfPeak) : IColumn
{
    public string Id => asFractionOfPeak ? "PeakFraction" : "Gflops";
    public string ColumnName => asFractionOfPeak ? "% of FMA peak" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => asFractionOfPeak ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => asFractionOfPeak
        ? "GFLOP/s over the measured FP32 FMA peak of the same number of threads"
        : "2*M*N*K floating-point operations over the median time";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? gflops = Gflops(summary, benchmarkCase);
        if (gflops is null) return "NA";
        if (!asFractionOfPeak) return gflops.Value.ToString("F1");
        int threads = Threads(benchmarkCase);
        BenchmarkCase? peakCase = summary.BenchmarksCases.FirstOrDefault(
            c => c.Descriptor.Type == typeof(FmaPeakBenchmarks) && Threads(c) == threads);
        double? peak = peakCase is null ? null : Gflops(summary, peakCase);
        return peak is null ? "NA" : (gflops.Value / peak.Value).ToString("P0");
    }

    private static double? Gflops(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        double? flops = Flops(benchmarkCase);
        return medianNs is null || flops is null ? null : flops / medianNs;   // flop per ns = GFLOP/s
    }

    private static double? Flops(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Descriptor.Type == typeof(FmaPeakBenchmarks)) return FmaPeak.FlopsPerThread * Threads(benchmarkCase);
        return Parameter(benchmarkCase, "Shape") switch
        {
            GemmShape shape => shape.Flops,
            _ => Parameter(benchmarkCase, "Workload") is IThroughputWorkload w ? w.SamplesPerEpoch * w.FlopsPerSample : null,
        };
    }

    internal static object? Parameter(BenchmarkCase benchmarkCase, string name)
        => benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value;

    private static int Threads(BenchmarkCase benchmarkCase)
        => benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value as int? ?? 1;
}

/// <summary>Samples per second from the median time of one invocation (a training epoch or an inference batch).</summary>
internal sealed class SamplesPerSecondColumn : IColumn
{
    public string Id => "SamplesPerSecond";
    public string ColumnName => "samples/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => -1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "samples per second: samples of one invocation (training epoch or inference batch) over the median time";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => Samples(c) is not null);

    /// <summary>Samples one invocation processes: a training epoch, or an inference batch.</summary>
    private static int? Samples(BenchmarkCase c) => FlopColumn.Parameter(c, "Workload") is IThroughputWorkload w
        ? w.SamplesPerEpoch
        : FlopColumn.Parameter(c, "Batch") as int?;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        int? samples = Samples(benchmarkCase);
        return samples is not null && medianNs is not null ? (samples.Value / (medianNs.Value * 1e-9)).ToString("N0") : "-";
    }
}

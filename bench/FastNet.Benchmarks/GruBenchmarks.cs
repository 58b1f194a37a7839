using BenchmarkDotNet.Attributes;
using FastNet.Data;
using FastNet.Training;

namespace FastNet.Benchmarks;

/// <summary>
/// The recurrent workload of the GRU issue: a 28 x 28 image read as 28 steps of 28 features, GRU(28 -> 128), its
/// last state into Dense(10), softmax cross-entropy, Adam, batch 64.
/// </summary>
public sealed class GruWorkload : IThroughputWorkload
{
    public static GruWorkload Fashion { get; } = new();

    public const int Steps = 28, Features = 28, Hidden = 128, Classes = 10, BatchSize = 64, BatchesPerEpoch = 40;

    public int SamplesPerEpoch => BatchSize * BatchesPerEpoch;

    /// <summary>
    /// 2*M*K*N per GEMM, per sample: forward T (F + H) 3H + H*10; backward the weight gradients again, the
    /// recurrent input gradient T * 3H * H and the dense input gradient (no gradient for the input sequence).
    /// </summary>
    public double FlopsPerSample => 2.0 * Steps * 3 * Hidden * (2 * Features + 3 * Hidden) + 2.0 * Hidden * Classes * 3;

    public override string ToString() => "GRU 28x28-128-10";
}

/// <summary>
/// GRU training throughput: one epoch of Trainer.Fit (seeded permutation, batches gathered from memory, last partial
/// batch dropped) over synthetic sequences held in memory; the speed does not depend on the values.
/// </summary>
public class GruBenchmarks
{
    private Trainer _trainer = null!;
    private Dataset _data = null!;

    public static IEnumerable<GruWorkload> Workloads => [GruWorkload.Fashion];

    [ParamsSource(nameof(Workloads))]
    public GruWorkload Workload { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        int n = Workload.SamplesPerEpoch, d = GruWorkload.Steps * GruWorkload.Features;
        var pixels = new float[n * d];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)rng.NextDouble();
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.Next(GruWorkload.Classes);
        _data = Dataset.WithLabels(pixels, d, labels, GruWorkload.Classes);
        Network net = new NetworkBuilder(d).Gru(GruWorkload.Hidden, GruWorkload.Steps).Dense(GruWorkload.Classes).Build(seed: 1);
        _trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(1e-3f), GruWorkload.BatchSize, Threads, seed: 1)
        {
            DropLastPartialBatch = true,
        };
    }

    [Benchmark]
    public TrainingHistory Epoch() => _trainer.Fit(_data, epochs: 1);
}

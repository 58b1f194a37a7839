using BenchmarkDotNet.Attributes;
using FastNet.Data;
using FastNet.Training;

namespace FastNet.Benchmarks;

/// <summary>What the throughput columns need to know of a training workload.</summary>
public interface IThroughputWorkload
{
    /// <summary>Samples in one benchmarked epoch.</summary>
    int SamplesPerEpoch { get; }

    /// <summary>Floating-point operations per trained sample.</summary>
    double FlopsPerSample { get; }
}

/// <summary>A training workload of ../shared/WORKLOADS.md.</summary>
public sealed class TrainingWorkload(string name, int[] widths, float learningRate, int batchSize, int batchesPerEpoch) : IThroughputWorkload
{
    public static TrainingWorkload T1 { get; } = new("T1 784-128-10", [784, 128, 10], 0.1f, 64, 200);
    public static TrainingWorkload T2 { get; } = new("T2 784-1024-1024-10", [784, 1024, 1024, 10], 0.05f, 256, 20);

    public string Name => name;
    public int[] Widths => widths;
    public float LearningRate => learningRate;
    public int BatchSize => batchSize;

    /// <summary>Samples in one benchmarked epoch (whole batches only).</summary>
    public int SamplesPerEpoch => batchSize * batchesPerEpoch;

    /// <summary>2*M*K*N per GEMM: forward and weight gradient of every layer, input gradient of all but the first.</summary>
    public double FlopsPerSample
    {
        get
        {
            double flops = 0;
            for (int l = 0; l + 1 < widths.Length; l++)
                flops += 2.0 * widths[l] * widths[l + 1] * (l == 0 ? 2 : 3);
            return flops;
        }
    }

    public override string ToString() => name;
}

/// <summary>
/// Training throughput: one epoch of Trainer.Fit (a seeded permutation, each batch read where it lies in memory, the
/// last partial batch dropped, softmax cross-entropy, plain SGD) over synthetic data held in memory.
/// Throughput does not depend on the pixel values, so random data stands in for MNIST here.
/// </summary>
public class TrainingBenchmarks
{
    private Trainer _trainer = null!;
    private Dataset _data = null!;

    public static IEnumerable<TrainingWorkload> Workloads => [TrainingWorkload.T1, TrainingWorkload.T2];

    [ParamsSource(nameof(Workloads))]
    public TrainingWorkload Workload { get; set; } = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int[] w = Workload.Widths;
        var rng = new Random(1);
        int n = Workload.SamplesPerEpoch;
        var pixels = new float[n * w[0]];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)rng.NextDouble();
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.Next(w[^1]);
        _data = Dataset.WithLabels(pixels, w[0], labels, w[^1]);

        var builder = new NetworkBuilder(w[0]);
        for (int l = 1; l < w.Length - 1; l++) builder.Dense(w[l], Activation.Relu);
        Network net = builder.Dense(w[^1]).Build(seed: 1);
        _trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(Workload.LearningRate), Workload.BatchSize, Threads, seed: 1)
        {
            DropLastPartialBatch = true,
        };
    }

    [Benchmark]
    public TrainingHistory Epoch() => _trainer.Fit(_data, epochs: 1);
}

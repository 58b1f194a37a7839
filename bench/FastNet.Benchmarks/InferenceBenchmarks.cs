using BenchmarkDotNet.Attributes;
using FastNet.Inference;

namespace FastNet.Benchmarks;

/// <summary>An inference model of ../shared/WORKLOADS.md (random weights: speed does not depend on their values).</summary>
public sealed class InferenceModel(string name, int[] widths)
{
    public static InferenceModel T1 { get; } = new("T1 784-128-10", [784, 128, 10]);
    public static InferenceModel T2 { get; } = new("T2 784-1024-1024-10", [784, 1024, 1024, 10]);

    public int[] Widths => widths;

    public Network Build()
    {
        var builder = new NetworkBuilder(widths[0]);
        for (int l = 1; l < widths.Length - 1; l++) builder.Dense(widths[l], Activation.Relu);
        return builder.Dense(widths[^1]).Build(seed: 1);
    }

    public override string ToString() => name;
}

/// <summary>
/// I1 (batch 1, one thread: mean time and bytes per call) and I2 (batch 1024 at 1 and 2 threads: samples/s)
/// through one shared <see cref="Predictor"/>. Per-call percentiles (p50, p99) and I3 come from the latency
/// harness (LatencyHarness), which times calls one by one.
/// </summary>
public class InferenceBenchmarks
{
    private Predictor _predictor = null!;
    private float[] _inputs = null!, _outputs = null!;

    public static IEnumerable<InferenceModel> Models => [InferenceModel.T1, InferenceModel.T2];

    [ParamsSource(nameof(Models))]
    public InferenceModel Model { get; set; } = null!;

    [Params(1, 1024)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _predictor = Model.Build().CreatePredictor();
        var rng = new Random(1);
        _inputs = new float[Batch * Model.Widths[0]];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = (float)rng.NextDouble();
        _outputs = new float[Batch * Model.Widths[^1]];
    }

    [GlobalCleanup]
    public void Cleanup() => _predictor.Dispose();

    [Benchmark]
    public void Predict()
    {
        if (Batch == 1) _predictor.Predict(_inputs, _outputs);   // the batch-1 path never uses threads
        else _predictor.PredictBatch(_inputs, _outputs, Threads);
    }
}

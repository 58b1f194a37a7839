using FastNet.Inference;

namespace FastNet.Serving;

/// <summary>How <see cref="ModelHost"/> loads, warms up, watches and batches a model.</summary>
public sealed class FastNetServingOptions
{
    /// <summary>The model file: a FastNet model (.fnet, any other extension) or an ONNX model (.onnx).</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Reload when the file is replaced or written (a file watch, debounced); <see cref="ModelHost.Reload"/> works either way.</summary>
    public bool WatchForChanges { get; set; } = true;

    /// <summary>Quiet time after the last change event before a watched reload starts (writers often touch a file several times).</summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Batch-1 and batch predictions run on every core before a model serves (and before a reload swaps it in).</summary>
    public int WarmupCalls { get; set; } = 2_000;

    /// <summary>Options of every predictor the host creates.</summary>
    public PredictorOptions PredictorOptions { get; set; } = PredictorOptions.Default;

    /// <summary>Micro-batching of concurrent requests (<see cref="MicroBatcher"/>), or null (the default) for none.</summary>
    public MicroBatchingOptions? Batching { get; set; }
}

/// <summary>Bounds of <see cref="MicroBatcher"/>: no batch larger than <see cref="MaxBatchSize"/>, no request held longer than <see cref="MaxWait"/>.</summary>
public sealed class MicroBatchingOptions
{
    /// <summary>Requests per batch at most.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>
    /// How long a batch may wait for more requests, and only for callers already on their way into the queue (a
    /// brief spin): a lone request never waits, and requests still being received are not waited for.
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Threads of a batch's GEMMs (-1: every core).</summary>
    public int MaxThreads { get; set; } = 1;
}

using System.Numerics.Tensors;
using FastNet.Kernels;

namespace FastNet.Inference;

/// <summary>
/// Runs a network's forward pass for services: an immutable snapshot of the weights, safe to call from any
/// number of threads at once, with no allocation per call.
/// </summary>
/// <remarks>
/// <para>
/// The predictor copies the parameters when it is created: training the source network afterwards does not
/// change its results (create a new predictor to pick the new weights up).
/// </para>
/// <para>
/// Each calling thread gets its own small workspace on its first call (that call allocates it); every later
/// call on that thread allocates nothing. <see cref="Predict"/> is the batch-1 path: one matrix-vector
/// product per layer with bias and activation fused, no packing and no threads.
/// <see cref="PredictBatch"/> runs blocks of rows through the multi-threaded GEMM.
/// </para>
/// <para>
/// Results: a batch-1 prediction and the same row inside a batch go through different summation orders
/// (GEMV versus the blocked GEMM), so they agree to float rounding (a few ulps), not bit for bit. Each path on
/// its own is deterministic: the same input gives the same bits on any thread, at any thread count.
/// </para>
/// </remarks>
public sealed class Predictor : IDisposable
{
    /// <summary>Rows per block in <see cref="PredictBatch"/>: large enough for the GEMM to use every core.</summary>
    public const int BatchBlock = 256;

    private readonly Network _network;
    private readonly ThreadLocal<Workspace> _single;
    private readonly ThreadLocal<Workspace> _batch;

    internal Predictor(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network = network.Clone();
        _network.Freeze();   // private and never written again: layers may precompute (a GRU's transposed weights)
        _single = new ThreadLocal<Workspace>(() => new Workspace(_network, 1, forTraining: false));
        _batch = new ThreadLocal<Workspace>(() => new Workspace(_network, BatchBlock, forTraining: false));
    }

    /// <summary>Loads a model file into a predictor.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid model.</exception>
    public static Predictor Load(string path) => new(Network.Load(path));

    /// <summary>Features per input.</summary>
    public int InputSize => _network.InputSize;

    /// <summary>Values per output.</summary>
    public int OutputSize => _network.OutputSize;

    /// <summary>Forward pass of one input.</summary>
    /// <param name="input">InputSize features.</param>
    /// <param name="output">Receives OutputSize values (the last layer's output, e.g. logits).</param>
    public void Predict(ReadOnlySpan<float> input, Span<float> output)
    {
        Guard.SameLength(input.Length, InputSize, nameof(input), nameof(InputSize));
        Guard.SameLength(output.Length, OutputSize, nameof(output), nameof(OutputSize));
        _network.Forward(_single.Value!, input, 1, maxThreads: 1).CopyTo(output);
    }

    /// <summary>The index of the largest output for one input (the predicted class).</summary>
    public int PredictClass(ReadOnlySpan<float> input)
    {
        Guard.SameLength(input.Length, InputSize, nameof(input), nameof(InputSize));
        return TensorPrimitives.IndexOfMax(_network.Forward(_single.Value!, input, 1, maxThreads: 1));
    }

    /// <summary>Softmax of the outputs for one input: class probabilities when the last layer gives logits.</summary>
    public void PredictProbabilities(ReadOnlySpan<float> input, Span<float> probabilities)
    {
        Predict(input, probabilities);
        Softmax.Forward(probabilities, probabilities, 1, OutputSize);
    }

    /// <summary>
    /// Forward pass of many inputs, [count x InputSize] row-major into [count x OutputSize], in blocks of
    /// <see cref="BatchBlock"/> rows whose GEMMs use up to <paramref name="maxThreads"/> threads (-1: every core).
    /// </summary>
    public void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs, int maxThreads = -1)
    {
        int d = InputSize, o = OutputSize;
        if (inputs.Length % d != 0)
            throw new ArgumentException($"'{nameof(inputs)}' has {inputs.Length} values: not a whole number of inputs of {d}.", nameof(inputs));
        int count = inputs.Length / d;
        Guard.SameLength(outputs.Length, count * o, nameof(outputs), "inputs x OutputSize");
        Guard.MaxThreads(maxThreads);
        Workspace workspace = _batch.Value!;
        for (int first = 0; first < count; first += BatchBlock)
        {
            int rows = Math.Min(BatchBlock, count - first);
            _network.Forward(workspace, inputs.Slice(first * d, rows * d), rows, maxThreads).CopyTo(outputs.Slice(first * o, rows * o));
        }
    }

    /// <summary>Releases the per-thread workspaces.</summary>
    public void Dispose()
    {
        _single.Dispose();
        _batch.Dispose();
    }
}

using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// Every per-batch buffer a forward and backward pass of one network needs, allocated once for a maximum
/// batch size: each layer's output and output gradient, [batch x OutputSize] row-major, and whatever else a
/// layer keeps between its passes (a GRU's gates and hidden states). Smaller batches use the leading rows.
/// Not thread-safe: one workspace per concurrent caller.
/// </summary>
internal sealed class Workspace
{
    private readonly AlignedBuffer[] _outputs;
    private readonly AlignedBuffer[] _outputGradients;
    private readonly object?[] _scratch;
    private readonly int[] _widths;

    public Workspace(Network network, int maxBatch, bool forTraining)
    {
        Guard.Positive(maxBatch);
        MaxBatch = maxBatch;
        int layers = network.Layers.Count;
        _widths = new int[layers];
        _outputs = new AlignedBuffer[layers];
        _outputGradients = new AlignedBuffer[layers];
        _scratch = new object?[layers];
        for (int l = 0; l < layers; l++)
        {
            int width = network.Layers[l].OutputSize;
            _widths[l] = width;
            _outputs[l] = new AlignedBuffer((long)maxBatch * width);
            _outputGradients[l] = new AlignedBuffer(forTraining ? (long)maxBatch * width : 0);
            _scratch[l] = network.Layers[l].CreateScratch(maxBatch, forTraining);
        }
    }

    /// <summary>Floats per sample of the batch that a workspace for <paramref name="network"/> holds.</summary>
    public static long FloatsPerSample(Network network, bool forTraining)
    {
        long floats = 0;
        foreach (Layer layer in network.Layers)
            floats += (forTraining ? 2L : 1L) * layer.OutputSize + layer.ScratchFloatsPerSample(forTraining);
        return floats;
    }

    /// <summary>Largest batch the buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary>Output of layer <paramref name="layer"/> for the first <paramref name="batch"/> rows.</summary>
    public Span<float> Output(int layer, int batch) => _outputs[layer].Slice(0, batch * _widths[layer]);

    /// <summary>dLoss/dOutput of layer <paramref name="layer"/> for the first <paramref name="batch"/> rows.</summary>
    public Span<float> OutputGradient(int layer, int batch) => _outputGradients[layer].Slice(0, batch * _widths[layer]);

    /// <summary>The layer's own buffers (null for layers that need none).</summary>
    public object? Scratch(int layer) => _scratch[layer];
}

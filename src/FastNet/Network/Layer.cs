namespace FastNet;

/// <summary>
/// One layer of a <see cref="Network"/>: a view of its slice of the network's parameter vector, and its
/// forward and backward passes. Every sample enters a layer as <see cref="InputSize"/> floats and leaves it as
/// <see cref="OutputSize"/> floats (a sequence [steps x features] is stored flat, step by step).
/// </summary>
/// <remarks>Concrete layers: <see cref="DenseLayer"/> and <see cref="GruLayer"/>.</remarks>
public abstract class Layer
{
    private readonly Memory<float> _parameters;   // the whole network's vector

    private protected Layer(int index, int inputSize, Memory<float> parameters, int offset)
    {
        Index = index;
        InputSize = inputSize;
        _parameters = parameters;
        ParameterOffset = offset;
    }

    /// <summary>Position of the layer in the network, from 0.</summary>
    public int Index { get; }

    /// <summary>Floats per sample entering the layer.</summary>
    public int InputSize { get; }

    /// <summary>Floats per sample leaving the layer.</summary>
    public abstract int OutputSize { get; }

    /// <summary>Number of parameters of the layer.</summary>
    public abstract int ParameterCount { get; }

    /// <summary>All parameters of the layer, in the order its documentation gives; writing through the span changes the network.</summary>
    public Span<float> Parameters => _parameters.Span.Slice(ParameterOffset, ParameterCount);

    /// <summary>Offset of <see cref="Parameters"/> in the network's parameter vector.</summary>
    internal int ParameterOffset { get; }

    /// <summary>The layer's description without its parameters (for cloning and model files).</summary>
    internal abstract LayerSpec Spec { get; }

    /// <summary>A slice of the network's parameter vector.</summary>
    private protected Span<float> Slice(int start, int length) => _parameters.Span.Slice(ParameterOffset + start, length);

    /// <summary>Draws initial parameters.</summary>
    internal abstract void Initialize(Random rng);

    /// <summary>Per-layer buffers beyond its output and output gradient (null when none), for batches up to <paramref name="maxBatch"/>.</summary>
    internal virtual object? CreateScratch(int maxBatch, bool forTraining) => null;

    /// <summary>Floats per sample of the batch in <see cref="CreateScratch"/>'s buffers (for sizing a workspace up front).</summary>
    internal virtual long ScratchFloatsPerSample(bool forTraining) => 0;

    /// <summary>Prepares an immutable copy of the network for repeated inference (a predictor's snapshot).</summary>
    internal virtual void Freeze() { }

    /// <summary>y = layer(x) for <paramref name="batch"/> samples.</summary>
    internal abstract void Forward(object? scratch, ReadOnlySpan<float> x, Span<float> y, int batch, int maxThreads);

    /// <summary>
    /// Backpropagation, first pass, after <see cref="Forward"/>: turns dLoss/dY (<paramref name="dy"/>, which the
    /// layer may overwrite with its own deltas) into dLoss/dX (<paramref name="dx"/>; empty when nobody needs it),
    /// with the current parameters. Returns false, before writing <paramref name="dx"/>, when a delta is NaN or infinite.
    /// </summary>
    internal abstract bool Backward(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy, Span<float> dx, int batch, int maxThreads);

    /// <summary>Backpropagation, second pass: dLoss/dParameters into <paramref name="gradients"/> (this layer's slice, laid out like <see cref="Parameters"/>).</summary>
    internal abstract void ParameterGradients(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> gradients, int batch, int maxThreads);

    /// <summary>The second pass with a plain SGD update (parameters -= learningRate x gradients); layers may fuse the two.</summary>
    internal virtual void ApplySgd(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float learningRate, Span<float> gradients, int batch, int maxThreads)
    {
        ParameterGradients(scratch, x, dy, gradients, batch, maxThreads);
        Span<float> parameters = Parameters;
        Kernels.Axpy.Run(-learningRate, gradients, parameters);
    }
}

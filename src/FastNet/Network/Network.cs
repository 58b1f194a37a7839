using System.Runtime.CompilerServices;
using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// A feed-forward stack of layers (dense, GRU) and its parameters, stored in one contiguous vector, layer
/// after layer (see each layer's <see cref="Layer.Parameters"/> for its own order). The network holds no
/// per-batch state: trainers and predictors bring their own <see cref="Workspace"/>, so one network can be
/// evaluated from several threads at once.
/// </summary>
public sealed partial class Network
{
    private readonly AlignedBuffer _parameters;   // cache-line aligned: GEMMs split weight matrices over threads
    private readonly Layer[] _layers;

    internal Network(int inputSize, IReadOnlyList<LayerSpec> specs)
    {
        if (specs.Count == 0) throw new ArgumentException("A network needs at least one layer.", nameof(specs));
        Guard.Positive(inputSize);
        long total = 0;
        long width = inputSize;
        for (int i = 0; i < specs.Count; i++)
        {
            if (width > Array.MaxLength) throw new ArgumentException($"Layer {i} would take {width} inputs per sample, too many.", nameof(specs));
            if (specs[i].Problem((int)width) is string problem) throw new ArgumentException($"Layer {i}: {problem}", nameof(specs));
            total += specs[i].ParameterCount((int)width);
            width = specs[i].OutputSize((int)width);
        }

        if (total > Array.MaxLength) throw new ArgumentException($"The network would have {total} parameters, more than an array can hold.", nameof(specs));
        if (width > Array.MaxLength) throw new ArgumentException($"The network would give {width} outputs per sample, too many.", nameof(specs));
        _parameters = new AlignedBuffer(total);
        _layers = new Layer[specs.Count];
        int offset = 0, inputs = inputSize;
        for (int i = 0; i < specs.Count; i++)
        {
            _layers[i] = specs[i].Create(i, inputs, _parameters.Memory, offset);
            offset += _layers[i].ParameterCount;
            inputs = _layers[i].OutputSize;
        }
    }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Floats per input sample.</summary>
    public int InputSize => _layers[0].InputSize;

    /// <summary>Floats per output sample.</summary>
    public int OutputSize => _layers[^1].OutputSize;

    /// <summary>All parameters in one vector, layer after layer.</summary>
    public Span<float> Parameters => _parameters.Span;

    /// <summary>Number of parameters.</summary>
    public int ParameterCount => _parameters.Length;

    /// <summary>
    /// Names, class labels, input normalization and output transform that travel with the network (model files,
    /// ONNX, predictors); <see cref="ModelMetadata.Empty"/> unless set.
    /// </summary>
    /// <exception cref="ArgumentException">The labels or the normalization do not fit the network's sizes.</exception>
    public ModelMetadata Metadata
    {
        get => _metadata;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Problem(InputSize, OutputSize) is string problem) throw new ArgumentException($"The metadata does not fit this network: {problem}", nameof(value));
            _metadata = value;
        }
    }

    private ModelMetadata _metadata = ModelMetadata.Empty;

    /// <summary>The descriptions of the layers (for clones and model files).</summary>
    internal IEnumerable<LayerSpec> Specs => _layers.Select(l => l.Spec);

    /// <summary>A deep copy: same layers and metadata, its own copy of the parameters.</summary>
    public Network Clone()
    {
        var copy = new Network(InputSize, Specs.ToList()) { _metadata = _metadata };
        _parameters.Span.CopyTo(copy._parameters.Span);
        return copy;
    }

    /// <summary>Creates a thread-safe predictor from a snapshot of the current parameters.</summary>
    public Inference.Predictor CreatePredictor() => new(this);

    /// <summary>A thread-safe predictor over a copy of the current parameters, with <paramref name="options"/>.</summary>
    public Inference.Predictor CreatePredictor(Inference.PredictorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(this, options);
    }

    /// <summary>Each layer draws its initial parameters from one seeded generator, in layer order.</summary>
    internal void Initialize(int seed)
    {
        var rng = new Random(seed);
        foreach (Layer layer in _layers) layer.Initialize(rng);
    }

    /// <summary>Lets layers precompute what only an immutable network allows (see <see cref="Layer.Freeze"/>).</summary>
    internal void Freeze()
    {
        foreach (Layer layer in _layers) layer.Freeze();
    }

    /// <summary>
    /// Runs the forward pass of <paramref name="batch"/> rows of <paramref name="input"/> and returns the
    /// last layer's output (a view into the workspace, valid until its next use).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal ReadOnlySpan<float> Forward(Workspace workspace, ReadOnlySpan<float> input, int batch, int maxThreads)
        => ForwardFrom(0, workspace, input[..(batch * InputSize)], batch, maxThreads);

    /// <summary>
    /// <see cref="Forward"/> of a network whose first layer is dense, which also sets *<paramref name="nonFiniteFlag"/> to
    /// 1 when that layer's X W holds NaN or infinity: always so when the input does (see <see cref="GemmEpilogue"/>), and
    /// so a check of the input that costs no pass over it.
    /// </summary>
    internal unsafe ReadOnlySpan<float> ForwardFlaggingNonFinite(Workspace workspace, ReadOnlySpan<float> input, int batch, int maxThreads,
        int* nonFiniteFlag)
    {
        Span<float> y = workspace.Output(0, batch);
        ((DenseLayer)_layers[0]).Forward(input[..(batch * InputSize)], y, batch, maxThreads, nonFiniteFlag);
        return ForwardFrom(1, workspace, y, batch, maxThreads);
    }

    /// <summary>Runs layers <paramref name="first"/> onwards on <paramref name="x"/>, that layer's input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private ReadOnlySpan<float> ForwardFrom(int first, Workspace workspace, ReadOnlySpan<float> x, int batch, int maxThreads)
    {
        for (int l = first; l < _layers.Length; l++)
        {
            Span<float> y = workspace.Output(l, batch);
            _layers[l].Forward(workspace.Scratch(l), x, y, batch, maxThreads);
            x = y;
        }

        return x;
    }

    /// <summary>
    /// <see cref="Forward"/> of the samples <paramref name="rows"/> of <paramref name="data"/> (row-major, InputSize
    /// wide), when the first layer is dense: it reads them where they lie, so a shuffled mini-batch of a large
    /// dataset streams in from memory during the first GEMM instead of being copied in front of it. Returns false
    /// (computing nothing) for other first layers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal bool TryForwardRows(Workspace workspace, ReadOnlySpan<float> data, ReadOnlySpan<int> rows, int maxThreads, out ReadOnlySpan<float> output)
    {
        output = default;
        if (_layers[0] is not DenseLayer first) return false;
        Span<float> y = workspace.Output(0, rows.Length);
        first.ForwardRows(data, rows, y, maxThreads);
        output = ForwardFrom(1, workspace, y, rows.Length, maxThreads);
        return true;
    }

    /// <summary>
    /// Backpropagation, first pass, after <see cref="Forward"/> on the same workspace: on entry the last
    /// layer's output gradient holds dLoss/dOutput; on exit every layer holds its deltas (dense layers: dLoss/dZ
    /// in their output-gradient buffer), computed with the current parameters. Returns false, early, at the first
    /// delta that holds a NaN or an infinity: nothing has been changed but workspace buffers.
    /// </summary>
    /// <remarks>
    /// With <paramref name="inputRows"/> (after <see cref="TryForwardRows"/>), the input is those rows of
    /// <paramref name="input"/>; the dense first layer's deltas do not read it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal bool BackwardDeltas(Workspace workspace, ReadOnlySpan<float> input, int batch, int maxThreads, ReadOnlySpan<int> inputRows = default)
    {
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            // The first layer's input gradient is never needed.
            Span<float> dx = l > 0 ? workspace.OutputGradient(l - 1, batch) : Span<float>.Empty;
            ReadOnlySpan<float> x = l == 0 && !inputRows.IsEmpty ? default : LayerInput(workspace, input, l, batch);
            if (!_layers[l].Backward(workspace.Scratch(l), x, workspace.Output(l, batch), workspace.OutputGradient(l, batch), dx, batch, maxThreads))
                return false;
        }

        return true;
    }

    /// <summary>
    /// Backpropagation, second pass, after <see cref="BackwardDeltas"/>: every layer's dLoss/dParameters into
    /// <paramref name="gradients"/> (laid out like <see cref="Parameters"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void ParameterGradients(Workspace workspace, ReadOnlySpan<float> input, int batch, Span<float> gradients, int maxThreads,
        ReadOnlySpan<int> inputRows = default)
    {
        foreach (Layer layer in _layers)
        {
            Span<float> g = gradients.Slice(layer.ParameterOffset, layer.ParameterCount);
            ReadOnlySpan<float> dy = workspace.OutputGradient(layer.Index, batch);
            if (layer.Index == 0 && !inputRows.IsEmpty)
                ((DenseLayer)layer).ParameterGradients(input, inputRows, dy, g, batch, maxThreads);
            else
                layer.ParameterGradients(workspace.Scratch(layer.Index), LayerInput(workspace, input, layer.Index, batch), dy, g, batch, maxThreads);
        }
    }

    /// <summary>
    /// The second pass fused with a plain SGD update where a layer can (dense: W -= lr X^T dZ is one GEMM), so
    /// weight gradients need not be written out and read back; <paramref name="gradients"/> is scratch on the way.
    /// <paramref name="inputRows"/> as in <see cref="BackwardDeltas"/> (and <see cref="ParameterGradients"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void ApplySgd(Workspace workspace, ReadOnlySpan<float> input, int batch, float learningRate, Span<float> gradients, int maxThreads,
        ReadOnlySpan<int> inputRows = default)
    {
        foreach (Layer layer in _layers)
        {
            Span<float> g = gradients.Slice(layer.ParameterOffset, layer.ParameterCount);
            ReadOnlySpan<float> dy = workspace.OutputGradient(layer.Index, batch);
            if (layer.Index == 0 && !inputRows.IsEmpty)
                ((DenseLayer)layer).ApplySgd(input, inputRows, dy, learningRate, g, batch, maxThreads);
            else
                layer.ApplySgd(workspace.Scratch(layer.Index), LayerInput(workspace, input, layer.Index, batch), dy, learningRate, g, batch, maxThreads);
        }
    }

    private ReadOnlySpan<float> LayerInput(Workspace workspace, ReadOnlySpan<float> input, int layer, int batch)
        => layer == 0 ? input[..(batch * InputSize)] : workspace.Output(layer - 1, batch);
}

public sealed partial class Network
{
    /// <summary>Saves the network to a model file atomically (see <see cref="Serialization.ModelFile"/>).</summary>
    public void Save(string path) => Serialization.ModelFile.Save(this, path);

    /// <summary>Loads a network from a model file.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupted, of a newer version or not a model.</exception>
    public static Network Load(string path) => Serialization.ModelFile.Load(path);
}

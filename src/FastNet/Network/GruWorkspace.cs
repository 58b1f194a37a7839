using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// Buffers of one <see cref="GruLayer"/> for batches up to <see cref="MaxBatch"/>: the input projections of every
/// step, the hidden states, the gate values the backward pass needs, and its gradients. Allocated once; forward
/// and backward passes then allocate nothing. Not thread-safe: one workspace per concurrent caller.
/// </summary>
public sealed class GruWorkspace
{
    // Cache-line aligned: GEMMs split over threads write these side by side (see AlignedBuffer).
    private readonly AlignedBuffer _projectionsAndDeltas;
    private readonly AlignedBuffer _hiddenStates;
    private readonly AlignedBuffer _gates;
    private readonly AlignedBuffer _recurrent;
    private readonly AlignedBuffer _recurrentDeltas;
    private readonly AlignedBuffer _stateGradient;
    private readonly AlignedBuffer _previousStateGradient;
    private readonly AlignedBuffer _inputWeightsTransposed;
    private readonly AlignedBuffer _recurrentWeightsTransposed;
    private readonly AlignedBuffer _foldedBias;
    private readonly AlignedBuffer _gradientTransposed;

    internal GruWorkspace(GruLayer layer, int maxBatch, bool forTraining)
    {
        Guard.Positive(maxBatch);
        int t = layer.Steps, h = layer.HiddenSize, g = 3 * h;
        Layer = layer;
        MaxBatch = maxBatch;
        ForTraining = forTraining;
        _projectionsAndDeltas = new AlignedBuffer((long)maxBatch * t * g);
        _hiddenStates = new AlignedBuffer((long)(t + 1) * maxBatch * h);
        _gates = new AlignedBuffer((long)(forTraining ? t : 1) * maxBatch * 4 * h);
        _recurrent = new AlignedBuffer((long)maxBatch * g);
        _recurrentDeltas = new AlignedBuffer(forTraining ? (long)t * maxBatch * g : 0);
        _stateGradient = new AlignedBuffer(forTraining ? (long)maxBatch * h : 0);
        _previousStateGradient = new AlignedBuffer(forTraining ? (long)maxBatch * h : 0);
        // A frozen layer (a predictor's snapshot) brings its own transposed weights.
        _inputWeightsTransposed = new AlignedBuffer(layer.IsFrozen ? 0 : (long)layer.Features * g);
        _recurrentWeightsTransposed = new AlignedBuffer(layer.IsFrozen ? 0 : (long)h * g);
        _foldedBias = new AlignedBuffer(g);
        _gradientTransposed = new AlignedBuffer(forTraining ? (long)Math.Max(layer.Features, h) * g : 0);
        TimeLoop = new GruTimeLoopJob(layer, this);
    }

    /// <summary>Floats per sample of the batch in the buffers the constructor allocates (those that grow with the batch).</summary>
    internal static long FloatsPerSample(GruLayer layer, bool forTraining)
    {
        long t = layer.Steps, h = layer.HiddenSize, g = 3 * h;
        long floats = t * g + (t + 1) * h + (forTraining ? t : 1) * 4 * h + g;
        return forTraining ? floats + t * g + 2 * h : floats;
    }

    /// <summary>The layer the buffers are shaped for.</summary>
    public GruLayer Layer { get; }

    /// <summary>Largest batch the buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary>Whether the backward pass can run (gates of every step kept, gradient buffers present).</summary>
    public bool ForTraining { get; }

    /// <summary>
    /// Forward: W_ih x + b_ih for every (sample, step), rows in input order (sample-major), [batch*steps x 3H].
    /// Backward: the same rows become dLoss/d(W_ih x + b_ih).
    /// </summary>
    internal Span<float> ProjectionsAndDeltas => _projectionsAndDeltas.Span;

    /// <summary>h_0 .. h_T, step-major: [(steps+1) x batch x H].</summary>
    internal Span<float> HiddenStates => _hiddenStates.Span;

    /// <summary>Per step (or one step when not training): r, z, n and W_hn h + b_hn of each row, [steps x batch x 4H].</summary>
    internal Span<float> Gates => _gates.Span;

    /// <summary>One step's W_hh h (its bias is added elsewhere, see <see cref="FoldedBias"/>), [batch x 3H].</summary>
    internal Span<float> Recurrent => _recurrent.Span;

    /// <summary>dLoss/d(W_hh h_{t-1} + b_hh) of every step, step-major: [steps x batch x 3H].</summary>
    internal Span<float> RecurrentDeltas => _recurrentDeltas.Span;

    /// <summary>dLoss/dh_t and dLoss/dh_{t-1} while stepping back, [batch x H] each.</summary>
    internal Span<float> StateGradient => _stateGradient.Span;

    internal Span<float> PreviousStateGradient => _previousStateGradient.Span;

    /// <summary>W_ih^T [F x 3H] and W_hh^T [H x 3H]: row-major right operands the GEMM reads in place, without packing.</summary>
    internal Span<float> InputWeightsTransposed => _inputWeightsTransposed.Span;

    internal Span<float> RecurrentWeightsTransposed => _recurrentWeightsTransposed.Span;

    /// <summary>The input projection's bias with the recurrent r and z biases folded in: [b_ir + b_hr, b_iz + b_hz, b_in].</summary>
    internal Span<float> FoldedBias => _foldedBias.Span;

    /// <summary>A weight gradient as computed, transposed: [max(F, H) x 3H].</summary>
    internal Span<float> GradientTransposed => _gradientTransposed.Span;

    /// <summary>Runs the time loops of this workspace's passes over blocks of sequences on several threads.</summary>
    internal GruTimeLoopJob TimeLoop { get; }

    /// <summary>The batch size of the last forward pass (the backward pass must use the same).</summary>
    internal int LastBatch { get; set; }
}

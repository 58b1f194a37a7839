namespace FastNet;

/// <summary>
/// Buffers of one <see cref="GruLayer"/> for batches up to <see cref="MaxBatch"/>: the input projections of every
/// step, the hidden states, the gate values the backward pass needs, and its gradients. Allocated once; forward
/// and backward passes then allocate nothing. Not thread-safe: one workspace per concurrent caller.
/// </summary>
public sealed class GruWorkspace
{
    internal GruWorkspace(GruLayer layer, int maxBatch, bool forTraining)
    {
        Guard.Positive(maxBatch);
        int t = layer.Steps, h = layer.HiddenSize, g = 3 * h;
        Layer = layer;
        MaxBatch = maxBatch;
        ForTraining = forTraining;
        ProjectionsAndDeltas = new float[(long)maxBatch * t * g];
        HiddenStates = new float[(long)(t + 1) * maxBatch * h];
        Gates = new float[(long)(forTraining ? t : 1) * maxBatch * 4 * h];
        Recurrent = new float[(long)maxBatch * g];
        RecurrentDeltas = forTraining ? new float[(long)t * maxBatch * g] : [];
        StateGradient = forTraining ? new float[(long)maxBatch * h] : [];
        PreviousStateGradient = forTraining ? new float[(long)maxBatch * h] : [];
        // A frozen layer (a predictor's snapshot) brings its own transposed weights.
        InputWeightsTransposed = layer.IsFrozen ? [] : new float[(long)layer.Features * g];
        RecurrentWeightsTransposed = layer.IsFrozen ? [] : new float[(long)h * g];
        FoldedBias = new float[g];
        GradientTransposed = forTraining ? new float[(long)Math.Max(layer.Features, h) * g] : [];
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
    internal float[] ProjectionsAndDeltas { get; }

    /// <summary>h_0 .. h_T, step-major: [(steps+1) x batch x H].</summary>
    internal float[] HiddenStates { get; }

    /// <summary>Per step (or one step when not training): r, z, n and W_hn h + b_hn of each row, [steps x batch x 4H].</summary>
    internal float[] Gates { get; }

    /// <summary>One step's W_hh h (its bias is added elsewhere, see <see cref="FoldedBias"/>), [batch x 3H].</summary>
    internal float[] Recurrent { get; }

    /// <summary>dLoss/d(W_hh h_{t-1} + b_hh) of every step, step-major: [steps x batch x 3H].</summary>
    internal float[] RecurrentDeltas { get; }

    /// <summary>dLoss/dh_t and dLoss/dh_{t-1} while stepping back, [batch x H] each.</summary>
    internal float[] StateGradient { get; }

    internal float[] PreviousStateGradient { get; }

    /// <summary>W_ih^T [F x 3H] and W_hh^T [H x 3H]: row-major right operands the GEMM reads in place, without packing.</summary>
    internal float[] InputWeightsTransposed { get; }

    internal float[] RecurrentWeightsTransposed { get; }

    /// <summary>The input projection's bias with the recurrent r and z biases folded in: [b_ir + b_hr, b_iz + b_hz, b_in].</summary>
    internal float[] FoldedBias { get; }

    /// <summary>A weight gradient as computed, transposed: [max(F, H) x 3H].</summary>
    internal float[] GradientTransposed { get; }

    /// <summary>The batch size of the last forward pass (the backward pass must use the same).</summary>
    internal int LastBatch { get; set; }
}

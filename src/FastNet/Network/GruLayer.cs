using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// A gated recurrent unit over a fixed number of steps, with PyTorch's equations and weight layout
/// (<c>torch.nn.GRU</c>, one layer, batch_first):
/// <code>
/// r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
/// z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
/// n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
/// h_t = (1 - z_t) * n_t + z_t * h_{t-1}
/// </code>
/// The reset gate multiplies the recurrent part including its bias, which is Keras's <c>reset_after=True</c>
/// (its default), so Keras GRU weights map here too.
/// </summary>
/// <remarks>
/// <para>
/// Input: each sample is a sequence [<see cref="Steps"/> x <see cref="Features"/>], stored flat, step by step
/// (so [batch x steps x features] row-major for a batch). Output: the last state h_T [<see cref="HiddenSize"/>],
/// or every state [steps x hidden] with <see cref="ReturnSequences"/>. Inside a network the initial state is 0;
/// <see cref="Forward(GruWorkspace, ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float}, int)"/> takes
/// one.
/// </para>
/// <para>
/// Parameters, in <see cref="Layer.Parameters"/> order, exactly PyTorch's tensors row-major:
/// <see cref="InputWeights"/> = weight_ih_l0 [3H x F], <see cref="RecurrentWeights"/> = weight_hh_l0 [3H x H],
/// <see cref="InputBiases"/> = bias_ih_l0 [3H], <see cref="RecurrentBiases"/> = bias_hh_l0 [3H]; the 3H rows are
/// the gates in the order r, z, n. (Keras stores kernels transposed, [F x 3H], with its gates in the order z, r, h.)
/// </para>
/// <para>
/// Computation: the input projections of all steps are one GEMM; each step is one GEMM [batch x H] x [H x 3H]
/// for the recurrent part, then the gate arithmetic over spans. Backpropagation through time keeps every step's
/// gates, so the weight gradients are two large GEMMs over all steps at once. On several threads the time loops run
/// in blocks of sequences, one per thread through all steps (<see cref="TimeLoopTasks"/>), with one thread's bits.
/// </para>
/// </remarks>
public sealed class GruLayer : Layer
{
    internal GruLayer(int index, int features, int hiddenSize, int steps, bool returnSequences, Memory<float> parameters, int offset)
        : base(index, checked(features * steps), parameters, offset)
    {
        Features = features;
        HiddenSize = hiddenSize;
        Steps = steps;
        ReturnSequences = returnSequences;
    }

    /// <summary>Features per step (F).</summary>
    public int Features { get; }

    /// <summary>Width of the hidden state (H).</summary>
    public int HiddenSize { get; }

    /// <summary>Steps per sequence (T).</summary>
    public int Steps { get; }

    /// <summary>Whether the output is every state h_1 .. h_T rather than h_T alone.</summary>
    public bool ReturnSequences { get; }

    /// <inheritdoc/>
    public override int OutputSize => ReturnSequences ? Steps * HiddenSize : HiddenSize;

    /// <summary>3H x (F + H + 2): weight_ih, weight_hh, bias_ih, bias_hh.</summary>
    public override int ParameterCount => 3 * HiddenSize * (Features + HiddenSize + 2);

    /// <summary>W_ir, W_iz, W_in stacked: [3H x F] row-major (PyTorch's weight_ih_l0).</summary>
    public Span<float> InputWeights => Slice(0, 3 * HiddenSize * Features);

    /// <summary>W_hr, W_hz, W_hn stacked: [3H x H] row-major (PyTorch's weight_hh_l0).</summary>
    public Span<float> RecurrentWeights => Slice(3 * HiddenSize * Features, 3 * HiddenSize * HiddenSize);

    /// <summary>b_ir, b_iz, b_in: [3H] (PyTorch's bias_ih_l0).</summary>
    public Span<float> InputBiases => Slice(3 * HiddenSize * (Features + HiddenSize), 3 * HiddenSize);

    /// <summary>b_hr, b_hz, b_hn: [3H] (PyTorch's bias_hh_l0).</summary>
    public Span<float> RecurrentBiases => Slice(3 * HiddenSize * (Features + HiddenSize + 1), 3 * HiddenSize);

    internal override LayerSpec Spec => new GruSpec(HiddenSize, Steps, ReturnSequences);

    private int Gates3 => 3 * HiddenSize;

    /// <summary>Buffers for forward (and, with <paramref name="forTraining"/>, backward) passes of up to <paramref name="maxBatch"/> sequences.</summary>
    public GruWorkspace CreateWorkspace(int maxBatch, bool forTraining = true) => new(this, maxBatch, forTraining);

    /// <summary>PyTorch's initialization: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).</summary>
    internal override void Initialize(Random rng)
    {
        double limit = 1.0 / Math.Sqrt(HiddenSize);
        Span<float> all = Parameters;
        for (int i = 0; i < all.Length; i++) all[i] = (float)(limit * (2 * rng.NextDouble() - 1));
    }

    internal override object CreateScratch(int maxBatch, bool forTraining) => new GruWorkspace(this, maxBatch, forTraining);

    /// <inheritdoc/>
    internal override long ScratchFloatsPerSample(bool forTraining) => GruWorkspace.FloatsPerSample(this, forTraining);

    private float[]? _frozenInputWeightsTransposed;
    private float[]? _frozenRecurrentWeightsTransposed;

    /// <summary>Whether <see cref="Freeze"/> made the transposed weights once for all forward passes.</summary>
    internal bool IsFrozen => _frozenRecurrentWeightsTransposed is not null;

    /// <summary>An immutable network's transposed weights are made once here, not on every forward pass.</summary>
    internal override void Freeze()
    {
        _frozenInputWeightsTransposed = new float[Features * Gates3];
        _frozenRecurrentWeightsTransposed = new float[HiddenSize * Gates3];
        TransposeInto(InputWeights, Gates3, Features, _frozenInputWeightsTransposed);
        TransposeInto(RecurrentWeights, Gates3, HiddenSize, _frozenRecurrentWeightsTransposed);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override void Forward(object? scratch, ReadOnlySpan<float> x, Span<float> y, int batch, int maxThreads)
        => Run((GruWorkspace)scratch!, x, batch, y, ReadOnlySpan<float>.Empty, maxThreads);

    /// <summary>Runs the layer over <paramref name="batch"/> sequences.</summary>
    /// <param name="workspace">From <see cref="CreateWorkspace"/>; keeps what the backward pass needs.</param>
    /// <param name="input">[batch x Steps x Features].</param>
    /// <param name="batch">Sequences (at most the workspace's MaxBatch).</param>
    /// <param name="output">[batch x OutputSize]: h_T, or h_1 .. h_T with <see cref="ReturnSequences"/>.</param>
    /// <param name="initialState">h_0, [batch x H]; empty for zeros.</param>
    /// <param name="maxThreads">Most threads per GEMM; -1 for every core.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public void Forward(GruWorkspace workspace, ReadOnlySpan<float> input, int batch, Span<float> output,
        ReadOnlySpan<float> initialState = default, int maxThreads = -1)
    {
        CheckCall(workspace, batch, maxThreads);
        Guard.SameLength(input.Length, batch * InputSize, nameof(input), "batch x Steps x Features");
        Guard.SameLength(output.Length, batch * OutputSize, nameof(output), "batch x OutputSize");
        if (!initialState.IsEmpty) Guard.SameLength(initialState.Length, batch * HiddenSize, nameof(initialState), "batch x HiddenSize");
        Run(workspace, input, batch, output, initialState, maxThreads);
    }

    /// <summary>
    /// Backpropagation through time after <see cref="Forward(GruWorkspace, ReadOnlySpan{float}, int, Span{float}, ReadOnlySpan{float}, int)"/>
    /// on the same workspace, input and batch: gradients of the loss with respect to every parameter, the input
    /// sequence and the initial state, from its gradient with respect to the output.
    /// </summary>
    /// <param name="workspace">The workspace of the forward pass (created for training).</param>
    /// <param name="input">The forward pass's input.</param>
    /// <param name="batch">The forward pass's batch.</param>
    /// <param name="outputGradient">dLoss/dOutput, [batch x OutputSize].</param>
    /// <param name="parameterGradients">Receives dLoss/dParameters, laid out like <see cref="Layer.Parameters"/>.</param>
    /// <param name="inputGradient">Receives dLoss/dInput [batch x Steps x Features]; empty to skip.</param>
    /// <param name="initialStateGradient">Receives dLoss/dh_0 [batch x H]; empty to skip.</param>
    /// <param name="maxThreads">Most threads per GEMM; -1 for every core.</param>
    /// <returns>False when a gradient is NaN or infinite (the outputs are then not all written).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public bool Backward(GruWorkspace workspace, ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> outputGradient,
        Span<float> parameterGradients, Span<float> inputGradient = default, Span<float> initialStateGradient = default, int maxThreads = -1)
    {
        CheckCall(workspace, batch, maxThreads);
        if (!workspace.ForTraining) throw new ArgumentException("The workspace was created without training buffers.", nameof(workspace));
        if (workspace.LastBatch != batch) throw new InvalidOperationException($"The last forward pass on this workspace had batch {workspace.LastBatch}, not {batch}.");
        Guard.SameLength(input.Length, batch * InputSize, nameof(input), "batch x Steps x Features");
        Guard.SameLength(outputGradient.Length, batch * OutputSize, nameof(outputGradient), "batch x OutputSize");
        Guard.SameLength(parameterGradients.Length, ParameterCount, nameof(parameterGradients), nameof(ParameterCount));
        if (!inputGradient.IsEmpty) Guard.SameLength(inputGradient.Length, batch * InputSize, nameof(inputGradient), "batch x Steps x Features");
        if (!initialStateGradient.IsEmpty) Guard.SameLength(initialStateGradient.Length, batch * HiddenSize, nameof(initialStateGradient), "batch x HiddenSize");
        if (!BackThroughTime(workspace, outputGradient, inputGradient, initialStateGradient, batch, maxThreads)) return false;
        ParameterGradients(workspace, input, parameterGradients, batch, maxThreads);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override bool Backward(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy, Span<float> dx, int batch, int maxThreads)
        => BackThroughTime((GruWorkspace)scratch!, dy, dx, Span<float>.Empty, batch, maxThreads);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override void ParameterGradients(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> gradients, int batch, int maxThreads)
        => ParameterGradients((GruWorkspace)scratch!, x, gradients, batch, maxThreads);

    private void CheckCall(GruWorkspace workspace, int batch, int maxThreads)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.Layer != this) throw new ArgumentException("The workspace belongs to another layer.", nameof(workspace));
        if (batch < 1 || batch > workspace.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"The batch must be from 1 to the workspace's {workspace.MaxBatch}.");
        Guard.MaxThreads(maxThreads);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void Run(GruWorkspace ws, ReadOnlySpan<float> x, int batch, Span<float> y, ReadOnlySpan<float> h0, int maxThreads)
    {
        int t = Steps, f = Features, g = Gates3;
        ReadOnlySpan<float> wihT = _frozenInputWeightsTransposed ?? TransposeInto(InputWeights, g, f, ws.InputWeightsTransposed);
        Span<float> bias = ws.FoldedBias;
        FoldBiases(bias);

        // Input projections of every step at once: [batch*T x F] x [F x 3H] + bias.
        Span<float> projections = InputProjections(ws, batch);
        Gemm.Multiply(x, f, wihT, g, projections, g, batch * t, g, f, epilogue: new GemmEpilogue(bias), maxThreads: maxThreads);
        Recur(ws, batch, y, h0, maxThreads);
    }

    /// <summary>
    /// The bias of the input projections with the recurrent r and z biases folded in: [b_ir + b_hr, b_iz + b_hz, b_in],
    /// [3H]. b_hr and b_hz only ever appear added to b_ir and b_iz, so they join the input projection's bias; b_hn sits
    /// inside r * (W_hn h + b_hn) and is added by the gate pass. The per-step GEMM then needs no bias pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void FoldBiases(Span<float> bias)
    {
        int h = HiddenSize;
        InputBiases.CopyTo(bias);
        Axpy.Run(1f, RecurrentBiases[..(2 * h)], bias[..(2 * h)]);   // exactly b_i + b_h: 1 x b_h is b_h
    }

    /// <summary>W_ih^T [F x 3H] row-major, a new array: the input projection as a right operand (x W_ih^T).</summary>
    internal float[] TransposedInputWeights()
    {
        var transposed = new float[Features * Gates3];
        TransposeInto(InputWeights, Gates3, Features, transposed);
        return transposed;
    }

    /// <summary>W_hh^T [H x 3H] row-major, a new array: the recurrent product as a right operand (h W_hh^T).</summary>
    internal float[] TransposedRecurrentWeights()
    {
        var transposed = new float[HiddenSize * Gates3];
        TransposeInto(RecurrentWeights, Gates3, HiddenSize, transposed);
        return transposed;
    }

    /// <summary>
    /// recurrent = h W_hh^T for <paramref name="rows"/> states [rows x H] into [rows x 3H], on up to
    /// <paramref name="maxThreads"/> threads: a predictor's own product over lower-precision weights.
    /// </summary>
    internal delegate void RecurrentProduct(ReadOnlySpan<float> states, Span<float> recurrent, int rows, int maxThreads);

    /// <summary>Where <see cref="Recur"/> reads the input projections x_t W_ih^T + folded bias of each (sample, step): [batch*T x 3H], sample-major.</summary>
    internal Span<float> InputProjections(GruWorkspace ws, int batch) => ws.ProjectionsAndDeltas.Slice(0, batch * Steps * Gates3);

    /// <summary>
    /// The recurrence, once <see cref="InputProjections"/> hold x_t W_ih^T + <see cref="FoldBiases"/> for every step
    /// (computed in float32 by the forward pass, or in lower precision by a predictor): each step one GEMM
    /// [batch x H] x [H x 3H], then the gate arithmetic.
    /// </summary>
    /// <param name="ws">The workspace, its input projections filled.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="y">The layer's output.</param>
    /// <param name="h0">The initial state, or empty for zeros.</param>
    /// <param name="maxThreads">Most threads per GEMM.</param>
    /// <param name="product">Computes W_hh h instead of the float32 GEMM (null: the GEMM).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void Recur(GruWorkspace ws, int batch, Span<float> y, ReadOnlySpan<float> h0, int maxThreads, RecurrentProduct? product = null)
    {
        int h = HiddenSize;
        ws.LastBatch = batch;
        if (_frozenRecurrentWeightsTransposed is null) TransposeInto(RecurrentWeights, Gates3, h, ws.RecurrentWeightsTransposed);
        Span<float> states = ws.HiddenStates;
        if (h0.IsEmpty) states[..(batch * h)].Clear();
        else h0.CopyTo(states);
        int tasks = product is null ? TimeLoopTasks(batch, maxThreads) : 1;
        if (tasks == 1) RecurSequences(ws, batch, 0, batch, y, maxThreads, product);
        else ws.TimeLoop.Forward(batch, tasks, y);
    }

    /// <summary>
    /// Sequences one task of a time loop takes at least (<see cref="TimeLoopTasks"/>): more than the GEMV path's rows
    /// (<see cref="GemmBlocking.GemvMaxRows"/>), so that each block's per-step products run the blocked GEMM as the whole
    /// batch's do, which gives every row the same bits whatever rows share its call; and a whole micro-panel of the widest
    /// kernel (MR = 6), so that a block's GEMM is not all edge.
    /// </summary>
    internal const int MinSequencesPerTask = 6;

    /// <summary>
    /// How many blocks of sequences the time loops run in parallel: sequences are independent of one another, so each task
    /// steps its own block through all T steps (the per-step GEMM on that block's rows, one thread, then its gates) and the
    /// threads meet once per pass instead of once per step (each step's GEMM split over columns, then its gates on one
    /// thread while the others waited). One task (the per-step GEMM split over <paramref name="maxThreads"/>) below two
    /// blocks' worth.
    /// </summary>
    internal static int TimeLoopTasks(int batch, int maxThreads) =>
        Math.Clamp(batch / MinSequencesPerTask, 1, maxThreads == -1 ? Environment.ProcessorCount : maxThreads);

    /// <summary>
    /// <see cref="Recur"/>'s time loop for sequences <paramref name="first"/> .. <paramref name="first"/> +
    /// <paramref name="count"/> - 1 of the batch: their rows of every buffer, each step's GEMM on up to
    /// <paramref name="maxThreads"/> threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void RecurSequences(GruWorkspace ws, int batch, int first, int count, Span<float> y, int maxThreads, RecurrentProduct? product)
    {
        int t = Steps, h = HiddenSize, g = Gates3;
        ReadOnlySpan<float> whhT = _frozenRecurrentWeightsTransposed ?? ws.RecurrentWeightsTransposed[..(h * g)];   // made by Recur
        ReadOnlySpan<float> recurrentBiasN = RecurrentBiases[(2 * h)..];
        // Sample b's projection for step s is row b*T + s: this block's start at row first*T, rows T*3H apart.
        ReadOnlySpan<float> projections = InputProjections(ws, batch)[(first * t * g)..];
        Span<float> states = ws.HiddenStates;
        Span<float> recurrent = ws.Recurrent.Slice(first * g, count * g);
        for (int step = 0; step < t; step++)
        {
            ReadOnlySpan<float> previous = states.Slice((step * batch + first) * h, count * h);
            Span<float> next = states.Slice(((step + 1) * batch + first) * h, count * h);
            // W_hh h_{t-1} for the block: [count x H] x [H x 3H].
            if (product is not null) product(previous, recurrent, count, maxThreads);
            else Gemm.Multiply(previous, h, whhT, g, recurrent, g, count, g, h, maxThreads: maxThreads);
            Span<float> gates = ws.Gates.Slice(((ws.ForTraining ? step : 0) * batch + first) * 4 * h, count * 4 * h);
            GruGates.Forward(projections[(step * g)..], t * g, recurrent, recurrentBiasN, previous, next, gates, count, h);
            if (ReturnSequences)
                for (int b = 0; b < count; b++) next.Slice(b * h, h).CopyTo(y.Slice(((first + b) * t + step) * h, h));
        }

        if (!ReturnSequences) states.Slice((t * batch + first) * h, count * h).CopyTo(y.Slice(first * h, count * h));
    }

    /// <summary>
    /// Steps back from T to 1, turning dLoss/dh_t into the deltas of both projections (kept for the parameter
    /// gradients) and dLoss/dh_{t-1}; then dLoss/dx = dProjections W_ih for all steps at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private bool BackThroughTime(GruWorkspace ws, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dh0, int batch, int maxThreads)
    {
        int t = Steps, h = HiddenSize, g = Gates3;
        int tasks = TimeLoopTasks(batch, maxThreads);
        if (tasks == 1) BackSequences(ws, dy, batch, 0, batch, maxThreads);
        else ws.TimeLoop.Backward(dy, batch, tasks);
        Span<float> deltas = ws.ProjectionsAndDeltas.Slice(0, batch * t * g);
        // dLoss/dh_0: the two state-gradient buffers swap roles every step, so after T steps it is in this one.
        Span<float> dh = (t % 2 == 0 ? ws.StateGradient : ws.PreviousStateGradient).Slice(0, batch * h);

        // Every delta reaches dLoss/dh_0: each input-projection delta is a recurrent one (or r times it), and each
        // recurrent delta is multiplied into dh_{t-1} by W_hh, where NaN x w and inf x 0 are NaN. So one NaN or
        // infinity anywhere leaves dh_0 non-finite, and checking it checks them all.
        if (!NonFinite.AllFinite(dh)) return false;
        if (!dh0.IsEmpty) dh.CopyTo(dh0);
        if (!dx.IsEmpty)
        {
            // dLoss/dx = dProjections W_ih: [batch*T x 3H] x [3H x F].
            Gemm.Multiply(deltas, g, InputWeights, Features, dx, Features, batch * t, Features, g, maxThreads: maxThreads);
        }

        return true;
    }

    /// <summary>
    /// <see cref="BackThroughTime"/>'s time loop for sequences <paramref name="first"/> .. <paramref name="first"/> +
    /// <paramref name="count"/> - 1: from dLoss/dh_T (or the output gradient of every step) to their deltas of both
    /// projections and dLoss/dh_0, each step's GEMM on up to <paramref name="maxThreads"/> threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void BackSequences(GruWorkspace ws, ReadOnlySpan<float> dy, int batch, int first, int count, int maxThreads)
    {
        int t = Steps, h = HiddenSize, g = Gates3;
        Span<float> deltas = ws.ProjectionsAndDeltas.Slice(first * t * g, count * t * g);   // the projections are no longer needed
        Span<float> dh = ws.StateGradient.Slice(first * h, count * h), dhPrevious = ws.PreviousStateGradient.Slice(first * h, count * h);
        ReadOnlySpan<float> whh = RecurrentWeights;
        if (ReturnSequences) dh.Clear();
        else dy.Slice(first * h, count * h).CopyTo(dh);
        for (int step = t - 1; step >= 0; step--)
        {
            ReadOnlySpan<float> previous = ws.HiddenStates.Slice((step * batch + first) * h, count * h);
            ReadOnlySpan<float> gates = ws.Gates.Slice((step * batch + first) * 4 * h, count * 4 * h);
            Span<float> recurrentDeltas = ws.RecurrentDeltas.Slice((step * batch + first) * g, count * g);
            if (ReturnSequences)
            {
                for (int b = 0; b < count; b++)
                {
                    Span<float> dhRow = dh.Slice(b * h, h);
                    Axpy.Run(1f, dy.Slice(((first + b) * t + step) * h, h), dhRow);   // dh += dy, exactly
                }
            }

            GruGates.Backward(dh, previous, gates, deltas[(step * g)..], t * g, recurrentDeltas, dhPrevious, count, h);

            // dLoss/dh_{t-1} = dh_t * z (set above) + dRecurrent W_hh: [count x 3H] x [3H x H].
            Gemm.Multiply(recurrentDeltas, g, whh, h, dhPrevious, h, count, h, g, beta: 1f, maxThreads: maxThreads);
            Span<float> swap = dh;
            dh = dhPrevious;
            dhPrevious = swap;
        }
    }

    /// <summary>
    /// dW_ih = dProjections^T X over every (sample, step) row; dW_hh = dRecurrent^T H_prev over every (step, sample)
    /// row; the bias gradients are the column sums of the deltas.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void ParameterGradients(GruWorkspace ws, ReadOnlySpan<float> x, Span<float> gradients, int batch, int maxThreads)
    {
        int t = Steps, f = Features, h = HiddenSize, g = Gates3, rows = batch * t;
        ReadOnlySpan<float> deltas = ws.ProjectionsAndDeltas.Slice(0, rows * g);
        ReadOnlySpan<float> recurrentDeltas = ws.RecurrentDeltas.Slice(0, rows * g);
        Span<float> dWih = gradients[..(g * f)], dWhh = gradients.Slice(g * f, g * h);
        Span<float> dbih = gradients.Slice(g * (f + h), g), dbhh = gradients.Slice(g * (f + h + 1), g);
        // Computed transposed, X^T dProjections [F x 3H], then transposed into place: that way the GEMM packs only the
        // narrow X^T and reads the wide deltas in place, where dProjections^T X would pack all the deltas and
        // produce a 28-wide C that fills half of each micro-tile.
        Span<float> transposed = ws.GradientTransposed;
        Gemm.Multiply(x, f, deltas, g, transposed, g, f, g, rows, transA: Transpose.Transposed, maxThreads: maxThreads);
        TransposeInto(transposed[..(f * g)], f, g, dWih);
        // h_0 .. h_{T-1} are the first T blocks of the step-major states, the same (step, sample) order as the deltas.
        Gemm.Multiply(ws.HiddenStates.Slice(0, rows * h), h, recurrentDeltas, g, transposed, g, h, g, rows, transA: Transpose.Transposed, maxThreads: maxThreads);
        TransposeInto(transposed[..(h * g)], h, g, dWhh);
        Bias.Gradient(deltas, dbih, rows, g);
        Bias.Gradient(recurrentDeltas, dbhh, rows, g);
    }

    /// <summary>Writes the transpose of a row-major [rows x cols] matrix into <paramref name="transposed"/> [cols x rows] and returns it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static ReadOnlySpan<float> TransposeInto(ReadOnlySpan<float> matrix, int rows, int cols, Span<float> transposed)
    {
        if (matrix.Length < rows * cols || transposed.Length < rows * cols) throw new ArgumentException("The matrices are smaller than their shape.");
        ref float source = ref MemoryMarshal.GetReference(matrix), target = ref MemoryMarshal.GetReference(transposed);
        // Blocks of 16 rows: each source row is read once, front to back, and each target row gets 16
        // consecutive values from the block, so both sides' cache lines are used whole.
        const int block = 16;
        for (int i0 = 0; i0 < rows; i0 += block)
        {
            int i1 = Math.Min(rows, i0 + block);
            for (int j = 0; j < cols; j++)
                for (int i = i0; i < i1; i++)
                    Unsafe.Add(ref target, (nint)j * rows + i) = Unsafe.Add(ref source, (nint)i * cols + j);
        }

        return transposed[..(rows * cols)];
    }

    /// <inheritdoc/>
    public override string ToString() => $"GRU {Features} -> {HiddenSize} over {Steps} steps{(ReturnSequences ? ", sequences" : "")}";
}

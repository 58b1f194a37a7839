using System.Runtime.CompilerServices;
using System.Diagnostics;
using FastNet.Data;
using FastNet.Kernels;

namespace FastNet.Training;

/// <summary>
/// Trains a <see cref="Network"/> with mini-batch gradient descent. Every buffer a step needs (layer
/// outputs and their gradients, parameter gradients, the gathered batch) is allocated here once, for
/// <see cref="BatchSize"/>; a step then allocates nothing.
/// </summary>
/// <remarks>
/// Threads: the GEMMs of a step split their output over up to <see cref="MaxThreads"/> threads, never the
/// sums, so the trained weights are bitwise the same for any thread count. Not thread-safe: one trainer
/// per thread.
/// </remarks>
public sealed class Trainer
{

    private readonly Workspace _workspace;
    private readonly AlignedBuffer _gradients;     // written by GEMMs split over threads: cache-line aligned
    private readonly AlignedBuffer _batchInputs;
    private readonly int[] _batchLabels;
    private readonly float[] _batchTargets;
    private float[]? _lastGood;   // parameters the last public Step started from (allocated by the first Step)
    private long _lastGoodSteps;

    /// <summary>Creates a trainer and its workspace.</summary>
    /// <param name="network">The network to train (its parameters are updated in place).</param>
    /// <param name="loss">Loss to minimise, on the last layer's output.</param>
    /// <param name="optimizer">Update rule; its state is sized to this network on the first step.</param>
    /// <param name="batchSize">Largest batch; a step may take fewer samples (the last partial batch).</param>
    /// <param name="maxThreads">Most threads per GEMM; -1 for every core.</param>
    /// <param name="seed">Seed of the per-epoch shuffles in <see cref="Fit"/>.</param>
    public Trainer(Network network, Loss loss, Optimizer optimizer, int batchSize, int maxThreads = -1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!Enum.IsDefined(loss)) throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss.");
        Guard.Positive(batchSize);
        Guard.MaxThreads(maxThreads);
        CheckWorkspaceSize(network, batchSize);
        Network = network;
        Loss = loss;
        Optimizer = optimizer;
        BatchSize = batchSize;
        MaxThreads = maxThreads;
        Seed = seed;
        _workspace = new Workspace(network, batchSize, forTraining: true);
        _gradients = new AlignedBuffer(network.ParameterCount);
        // Fit reads a dense first layer's batches where they lie; only other first layers need a gathered copy.
        _batchInputs = new AlignedBuffer(network.Layers[0] is DenseLayer ? 0 : (long)batchSize * network.InputSize);
        _batchLabels = new int[batchSize];
        _batchTargets = new float[(long)batchSize * network.OutputSize];
    }

    private static long s_workspaceLimitBytes = 2L << 30;

    /// <summary>
    /// The most bytes of per-batch buffers a trainer may allocate (default 2 GiB): a batch size that needs more fails in
    /// the constructor with an <see cref="ArgumentOutOfRangeException"/> that says how many bytes it would take, rather
    /// than reserving gigabytes unasked. Raise it for a deliberately huge batch.
    /// </summary>
    public static long WorkspaceLimitBytes
    {
        get => Volatile.Read(ref s_workspaceLimitBytes);
        set
        {
            if (value <= 0) throw new ArgumentOutOfRangeException(nameof(WorkspaceLimitBytes), value, "The limit must be positive.");
            Volatile.Write(ref s_workspaceLimitBytes, value);
        }
    }

    /// <summary>Bytes of per-batch buffers a trainer of <paramref name="network"/> allocates for <paramref name="batchSize"/> samples.</summary>
    public static long WorkspaceBytes(Network network, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        Guard.Positive(batchSize);
        long floatsPerSample = Workspace.FloatsPerSample(network, forTraining: true)
                               + (network.Layers[0] is DenseLayer ? 0 : network.InputSize)   // the gathered batch (see Fit)
                               + network.OutputSize;                                             // float targets
        return batchSize * (floatsPerSample * sizeof(float) + sizeof(int));                      // + labels
    }

    private static void CheckWorkspaceSize(Network network, int batchSize)
    {
        long bytes = WorkspaceBytes(network, batchSize), limit = WorkspaceLimitBytes;
        if (bytes > limit)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize,
                $"A batch of {batchSize:N0} samples needs {bytes:N0} bytes ({bytes / (double)(1L << 30):F2} GiB) of training buffers for this network, " +
                $"more than {nameof(Trainer)}.{nameof(WorkspaceLimitBytes)} ({limit:N0} bytes). Use a smaller batch, or raise the limit if this is intended.");
    }

    /// <summary>The network being trained.</summary>
    public Network Network { get; }

    /// <summary>The loss minimised.</summary>
    public Loss Loss { get; }

    /// <summary>The update rule.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Largest batch of a step.</summary>
    public int BatchSize { get; }

    /// <summary>Most threads a GEMM of a step uses (-1: every core).</summary>
    public int MaxThreads { get; }

    /// <summary>Seed of the shuffles in <see cref="Fit"/>.</summary>
    public int Seed { get; }

    /// <summary>Optional learning-rate schedule applied by <see cref="Fit"/> at the start of each epoch.</summary>
    public LearningRateSchedule? Schedule { get; set; }

    /// <summary>Optional early stopping of <see cref="Fit"/> on the validation loss (needs a validation set).</summary>
    public EarlyStopping? EarlyStopping { get; set; }

    /// <summary>Whether <see cref="Fit"/> skips the last batch of an epoch when it is smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLastPartialBatch { get; set; }

    /// <summary>
    /// dLoss/dParameters of the last <see cref="ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int})"/> (or
    /// step, except the weight part after a plain-SGD step, whose update is fused), laid out like
    /// <see cref="Network.Parameters"/>.
    /// </summary>
    public ReadOnlySpan<float> Gradients => _gradients.Span;

    /// <summary>The part of <see cref="Gradients"/> for one layer, laid out like its <see cref="Layer.Parameters"/>.</summary>
    public ReadOnlySpan<float> LayerGradients(int layer)
    {
        Layer l = Network.Layers[layer];
        return _gradients.Slice(l.ParameterOffset, l.ParameterCount);
    }

    /// <summary>The weight part of <see cref="Gradients"/> for a dense layer, [inputs x outputs] like its weights.</summary>
    public ReadOnlySpan<float> WeightGradients(int layer)
    {
        DenseLayer l = DenseAt(layer);
        return LayerGradients(layer)[..(l.Inputs * l.Outputs)];
    }

    /// <summary>The bias part of <see cref="Gradients"/> for a dense layer.</summary>
    public ReadOnlySpan<float> BiasGradients(int layer)
    {
        DenseLayer l = DenseAt(layer);
        return LayerGradients(layer).Slice(l.Inputs * l.Outputs, l.Outputs);
    }

    private DenseLayer DenseAt(int layer) => Network.Layers[layer] as DenseLayer
        ?? throw new ArgumentException($"Layer {layer} is a {Network.Layers[layer].GetType().Name}, not a dense layer; use {nameof(LayerGradients)}.", nameof(layer));

    /// <summary>One step on a batch with class labels: forward, loss, backward, update. Returns the loss before the update.</summary>
    /// <param name="inputs">Row-major [batch x InputSize]; the batch is inputs.Length / InputSize.</param>
    /// <param name="labels">One class index per sample (softmax cross-entropy).</param>
    /// <exception cref="ArgumentException">A length is wrong, or the inputs hold NaN or infinity (nothing was changed).</exception>
    /// <exception cref="TrainingDivergedException">
    /// The loss or a backpropagated error is NaN or infinite: nothing was updated, and the network holds the parameters
    /// that gave the previous step's finite loss (the optimizer's state stays that of the last update).
    /// </exception>
    /// <remarks>
    /// With plain <see cref="Sgd"/> (no momentum, no weight decay) the update is fused into the weight-gradient
    /// GEMM (W -= lr X^T dZ in one pass), so <see cref="Gradients"/> then holds only the bias gradients;
    /// <see cref="ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int})"/> always fills it all.
    /// The inputs are scanned for NaN and infinity first (one vectorized pass). Divergence is detected before any
    /// update, from the loss and from every layer's dLoss/dZ. To return to the parameters before a diverging step,
    /// each step keeps a copy of the parameters it starts from (one copy of the parameter vector per step;
    /// <see cref="Fit"/> does without it).
    /// </remarks>
    public float Step(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        CheckInputsFinite(inputs);
        float loss;
        int batch;
        try { loss = LossAndDeltas(inputs, labels, out batch); }
        catch (TrainingDivergedException e) { throw StepDiverged(e); }
        KeepLastGood();
        Update(inputs, batch);
        return loss;
    }

    /// <summary>One step on a batch with float target rows [batch x OutputSize]. Returns the loss before the update.</summary>
    /// <exception cref="ArgumentException">A length is wrong, or the inputs or targets hold NaN or infinity (nothing was changed).</exception>
    /// <exception cref="TrainingDivergedException">As for the labelled <see cref="Step(ReadOnlySpan{float}, ReadOnlySpan{int})"/>.</exception>
    public float Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        CheckInputsFinite(inputs);
        NonFinite.ThrowIfAny(targets, Network.OutputSize, nameof(targets), "target");
        float loss;
        int batch;
        try { loss = LossAndDeltas(inputs, targets, out batch); }
        catch (TrainingDivergedException e) { throw StepDiverged(e); }
        KeepLastGood();
        Update(inputs, batch);
        return loss;
    }

    /// <summary>
    /// A public step diverged: puts back the parameters the previous step started from (they gave a finite loss) when
    /// exactly that one update has happened since, and says what the network now holds.
    /// </summary>
    private TrainingDivergedException StepDiverged(TrainingDivergedException e)
    {
        if (_lastGood is null || _lastGoodSteps != Optimizer.Steps - 1)
            return new TrainingDivergedException($"{e.Message} Nothing was updated.");
        _lastGood.CopyTo(Network.Parameters);
        return new TrainingDivergedException($"{e.Message} The network holds the parameters the previous step started from " +
                                             $"(their loss was finite): update {Optimizer.Steps} was undone.");
    }

    /// <summary>Copies the parameters that just gave a finite loss, before the update changes them (see Step).</summary>
    private void KeepLastGood()
    {
        _lastGood ??= new float[Network.ParameterCount];
        Network.Parameters.CopyTo(_lastGood);
        _lastGoodSteps = Optimizer.Steps;
    }

    private void CheckInputsFinite(ReadOnlySpan<float> inputs) => NonFinite.ThrowIfAny(inputs, Network.InputSize, nameof(inputs), "feature");

    /// <summary>Forward, loss and backward without an update: fills <see cref="Gradients"/> and returns the loss.</summary>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        CheckInputsFinite(inputs);
        float loss = LossAndDeltas(inputs, labels, out int batch);
        Network.ParameterGradients(_workspace, inputs, batch, _gradients.Span, MaxThreads);
        return loss;
    }

    /// <summary>Forward, loss and backward without an update, with float target rows.</summary>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        CheckInputsFinite(inputs);
        NonFinite.ThrowIfAny(targets, Network.OutputSize, nameof(targets), "target");
        float loss = LossAndDeltas(inputs, targets, out int batch);
        Network.ParameterGradients(_workspace, inputs, batch, _gradients.Span, MaxThreads);
        return loss;
    }

    private float LossAndDeltas(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, out int batch)
    {
        batch = BatchOf(inputs);
        Guard.SameLength(labels.Length, batch, nameof(labels), "batch");
        if (Loss != Loss.SoftmaxCrossEntropy)
            throw new InvalidOperationException($"Integer labels go with {Loss.SoftmaxCrossEntropy}; {Loss} needs float target rows.");
        ReadOnlySpan<float> output = Network.Forward(_workspace, inputs, batch, MaxThreads);
        return LossAndDeltas(inputs, output, labels, default, batch);
    }

    private float LossAndDeltas(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, out int batch)
    {
        batch = BatchOf(inputs);
        Guard.SameLength(targets.Length, batch * Network.OutputSize, nameof(targets), "batch x OutputSize");
        ReadOnlySpan<float> output = Network.Forward(_workspace, inputs, batch, MaxThreads);
        return LossAndDeltas(inputs, output, default, targets, batch);
    }

    /// <summary>The loss of a forward <paramref name="output"/> against labels (when given) or target rows, then the deltas.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private float LossAndDeltas(ReadOnlySpan<float> inputs, ReadOnlySpan<float> output, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batch,
        ReadOnlySpan<int> rows = default)
    {
        float loss = targets.IsEmpty
            ? Losses.SoftmaxCrossEntropy(output, labels, LastOutputGradient(batch), batch, Network.OutputSize)
            : LossOf(output, targets, LastOutputGradient(batch), batch);
        return Deltas(inputs, batch, loss, rows);
    }

    /// <summary>
    /// <see cref="Step(ReadOnlySpan{float}, ReadOnlySpan{int})"/> on the samples <paramref name="indices"/> of a dataset
    /// (checked by <see cref="Fit"/>), with the same result. A dense first layer reads them where they lie, in its
    /// forward GEMM and in its weight-gradient GEMM: rows of a shuffled large dataset then stream in from memory while
    /// the GEMM computes (the hardware prefetchers follow each row), rather than stalling a copy in front of it, and
    /// no copy is written that the other cores would have to fetch. Other first layers get a gathered copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private float StepOnRows(Dataset data, ReadOnlySpan<int> indices)
    {
        int batch = indices.Length, d = data.FeatureCount, t = data.TargetCount;
        for (int r = 0; r < batch; r++)
        {
            int i = indices[r];
            if (data.HasLabels) _batchLabels[r] = data.Labels[i];
            else data.Targets.Slice(i * t, t).CopyTo(_batchTargets.AsSpan(r * t, t));
        }

        ReadOnlySpan<float> inputs = data.Features;
        ReadOnlySpan<int> rows = indices;
        if (!Network.TryForwardRows(_workspace, data.Features, indices, MaxThreads, out ReadOnlySpan<float> output))
        {
            Span<float> gathered = _batchInputs.Slice(0, batch * d);
            for (int r = 0; r < batch; r++) data.Features.Slice(indices[r] * d, d).CopyTo(gathered.Slice(r * d, d));
            inputs = gathered;
            rows = default;
            output = Network.Forward(_workspace, inputs, batch, MaxThreads);
        }

        float loss = data.HasLabels
            ? LossAndDeltas(inputs, output, _batchLabels.AsSpan(0, batch), default, batch, rows)
            : LossAndDeltas(inputs, output, default, _batchTargets.AsSpan(0, batch * t), batch, rows);
        Update(inputs, batch, rows);
        return loss;
    }

    /// <summary>Checks the loss, then backpropagates dLoss/dZ through every layer, checking each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private float Deltas(ReadOnlySpan<float> inputs, int batch, float loss, ReadOnlySpan<int> rows = default)
    {
        if (!float.IsFinite(loss))
            throw new TrainingDivergedException($"The loss is {loss} after {Optimizer.Steps} updates. Try a smaller learning rate.");
        if (!Network.BackwardDeltas(_workspace, inputs, batch, MaxThreads, rows))
            throw new TrainingDivergedException($"A backpropagated error is NaN or infinite after {Optimizer.Steps} updates (loss {loss}). Try a smaller learning rate.");
        return loss;
    }

    /// <summary>The update after the deltas; the input is <paramref name="inputs"/>'s first rows, or its rows <paramref name="rows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void Update(ReadOnlySpan<float> inputs, int batch, ReadOnlySpan<int> rows = default)
    {
        if (Optimizer is Sgd { IsPlain: true } sgd)
        {
            Network.ApplySgd(_workspace, inputs, batch, sgd.LearningRate, _gradients.Span, MaxThreads, rows);
            sgd.CountFusedStep();
        }
        else
        {
            Network.ParameterGradients(_workspace, inputs, batch, _gradients.Span, MaxThreads, rows);
            Optimizer.Update(Network.Parameters, _gradients.Span);
        }
    }

    private float LossOf(ReadOnlySpan<float> output, ReadOnlySpan<float> targets, Span<float> gradient, int batch)
    {
        int cols = Network.OutputSize;
        return Loss switch
        {
            Loss.SoftmaxCrossEntropy => Losses.SoftmaxCrossEntropy(output, targets, gradient, batch, cols),
            Loss.HalfSquaredError => Losses.HalfSquaredError(output, targets, gradient, batch, cols),
            Loss.MeanSquaredError => Losses.MeanSquaredError(output, targets, gradient, batch, cols),
            _ => Losses.BinaryCrossEntropyWithLogits(output, targets, gradient, batch, cols),
        };
    }

    private Span<float> LastOutputGradient(int batch) => _workspace.OutputGradient(Network.Layers.Count - 1, batch);

    private int BatchOf(ReadOnlySpan<float> inputs)
    {
        int d = Network.InputSize;
        if (inputs.Length == 0 || inputs.Length % d != 0)
            throw new ArgumentException($"'{nameof(inputs)}' has {inputs.Length} values: not a whole number of samples of {d} features.", nameof(inputs));
        int batch = inputs.Length / d;
        if (batch > BatchSize)
            throw new ArgumentException($"'{nameof(inputs)}' holds {batch} samples but this trainer's batch size is {BatchSize}.", nameof(inputs));
        return batch;
    }

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs: each epoch sets the learning rate from <see cref="Schedule"/>
    /// (if any), then visits the samples in a fresh permutation (one <c>new Random(Seed)</c> per call, shuffling again each epoch),
    /// in batches: a dense first layer reads a batch where its samples lie, and a preallocated buffer receives the copy
    /// the backward pass needs, so no batch allocates. After each epoch the validation set (if any) is evaluated
    /// and an <see cref="EpochReport"/> goes to <paramref name="progress"/>; after each batch a
    /// <see cref="BatchProgress"/> goes to <paramref name="batchProgress"/>, on this thread. Cancellation is checked
    /// between batches: training then stops, the partial epoch is reported, and the history says it was cancelled.
    /// With <see cref="EarlyStopping"/>, training stops once the validation loss has not improved for its patience.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Both datasets are scanned for NaN and infinity first (one vectorized pass over each, a few milliseconds for
    /// Fashion-MNIST's 47 million values), the first time each is used: a <see cref="Dataset"/> remembers a clean scan,
    /// so calling Fit one epoch at a time does not read the whole set again each call (see the Dataset remarks for
    /// arrays changed afterwards). A bad value is reported as an <see cref="ArgumentException"/> naming the sample,
    /// never as a divergence.
    /// </para>
    /// <para>
    /// Divergence: when a step's loss or backpropagated error is NaN or infinite, Fit throws a
    /// <see cref="TrainingDivergedException"/> and leaves the network with the last parameters that were finite and
    /// gave a finite loss: those of the step before, with the optimizer's state of that moment. No copy is made per
    /// step: Fit keeps a checkpoint of the parameters and optimizer state from the start of this epoch and the one
    /// before, and on divergence restores the right one and repeats the batches up to that step, which gives the same
    /// bits (training is deterministic). That repetition costs at most an epoch, once.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">A dataset does not fit the network or holds NaN or infinity; early stopping without a validation set.</exception>
    /// <exception cref="TrainingDivergedException">Training diverged; the network holds the last good parameters (see remarks).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public TrainingHistory Fit(Dataset train, int epochs, Dataset? validation = null, IProgress<EpochReport>? progress = null,
        IProgress<BatchProgress>? batchProgress = null, CancellationToken cancellationToken = default)
    {
        CheckDataset(train, nameof(train));
        if (validation is not null) CheckDataset(validation, nameof(validation));
        Guard.Positive(epochs);
        EarlyStopping? stopping = EarlyStopping;
        if (stopping is not null && validation is null)
            throw new ArgumentException($"{nameof(EarlyStopping)} watches the validation loss: give Fit a validation set.", nameof(validation));
        CheckFinite(train, nameof(train));
        if (validation is not null) CheckFinite(validation, nameof(validation));

        var reports = new List<EpochReport>(epochs);
        var order = new int[train.Count];
        var previousOrder = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new Random(Seed);
        bool classification = Loss == Loss.SoftmaxCrossEntropy;
        float initialRate = Optimizer.LearningRate;
        int partial = train.Count % BatchSize;
        int samplesInEpoch = DropLastPartialBatch && train.Count > BatchSize ? train.Count - partial : train.Count;
        var checkpoint = new TrainingCheckpoint(Network.ParameterCount);
        var previousCheckpoint = new TrainingCheckpoint(Network.ParameterCount);
        int previousBatches = 0;
        float[]? bestParameters = stopping is { RestoreBestWeights: true } ? new float[Network.ParameterCount] : null;
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, epochsSinceBest = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            long start = Stopwatch.GetTimestamp();
            if (Schedule is not null) Optimizer.LearningRate = Schedule.RateAt(epoch, initialRate);
            order.CopyTo(previousOrder, 0);   // the last epoch's permutation, to repeat its batches after a divergence
            rng.Shuffle(order);
            (checkpoint, previousCheckpoint) = (previousCheckpoint, checkpoint);
            checkpoint.Capture(Network, Optimizer);
            double lossSum = 0;
            long seen = 0, correct = 0;
            int batches = 0;
            bool cancelled = false;
            for (int first = 0; first < order.Length; first += BatchSize)
            {
                int batch = Math.Min(BatchSize, order.Length - first);
                if (batch < BatchSize && DropLastPartialBatch && first > 0) break;
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                float loss;
                try
                {
                    loss = StepOnRows(train, order.AsSpan(first, batch));
                }
                catch (TrainingDivergedException e)
                {
                    throw RollBack(e, train, batches, order, checkpoint, previousOrder, previousBatches, previousCheckpoint);
                }

                batches++;
                lossSum += (double)loss * batch;
                seen += batch;
                batchProgress?.Report(new BatchProgress(epoch, (int)seen, samplesInEpoch, loss, Stopwatch.GetElapsedTime(start)));
                if (classification)
                {
                    ReadOnlySpan<float> output = _workspace.Output(Network.Layers.Count - 1, batch);   // the step's forward output
                    correct += train.HasLabels
                        ? CountCorrect(output, Network.OutputSize, _batchLabels.AsSpan(0, batch), default)
                        : CountCorrect(output, Network.OutputSize, default, _batchTargets.AsSpan(0, batch * train.TargetCount));
                }
            }

            previousBatches = batches;
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (seen == 0) return Finish(reports, cancelled: true, stoppedEarly: false, bestEpoch, bestParameters);
            var (validationLoss, validationAccuracy) = validation is null ? (double.NaN, double.NaN) : EvaluateFinite(validation);
            var report = new EpochReport(epoch, lossSum / seen, classification ? (double)correct / seen : double.NaN,
                validationLoss, validationAccuracy, seen / seconds, Stopwatch.GetElapsedTime(start));
            reports.Add(report);
            progress?.Report(report);
            if (cancelled) return Finish(reports, cancelled: true, stoppedEarly: false, bestEpoch, bestParameters);
            if (stopping is null) continue;
            if (validationLoss < bestLoss - stopping.MinDelta)
            {
                bestLoss = validationLoss;
                bestEpoch = epoch;
                epochsSinceBest = 0;
                if (bestParameters is not null) Network.Parameters.CopyTo(bestParameters);
            }
            else if (++epochsSinceBest >= stopping.Patience && epoch < epochs)
            {
                return Finish(reports, cancelled: false, stoppedEarly: true, bestEpoch, bestParameters);
            }
        }

        return Finish(reports, cancelled: false, stoppedEarly: false, bestEpoch, bestParameters);
    }

    /// <summary>The history of a Fit call; with early stopping's best weights kept, the network gets them back first.</summary>
    private TrainingHistory Finish(List<EpochReport> reports, bool cancelled, bool stoppedEarly, int bestEpoch, float[]? bestParameters)
    {
        if (bestParameters is not null && bestEpoch > 0 && bestEpoch != reports[^1].Epoch)
            bestParameters.CopyTo(Network.Parameters);
        return new TrainingHistory(reports, cancelled) { StoppedEarly = stoppedEarly, BestEpoch = bestEpoch };
    }

    /// <summary>
    /// Batch <paramref name="failedBatch"/> (0-based) of this epoch diverged: its parameters gave a non-finite loss. The
    /// last good ones are those batch failedBatch - 1 started from. They are rebuilt from this epoch's checkpoint by
    /// repeating its batches before that one, or, when the epoch's first batch failed, from the previous epoch's
    /// checkpoint by repeating all of its batches but the last. Training is deterministic, so the bits are those
    /// the step had. When the very first step of the call diverged there is nothing before it: the checkpoint is the
    /// state Fit started from.
    /// </summary>
    private TrainingDivergedException RollBack(TrainingDivergedException e, Dataset train, int failedBatch,
        int[] order, TrainingCheckpoint checkpoint, int[] previousOrder, int previousBatches, TrainingCheckpoint previousCheckpoint)
    {
        if (failedBatch == 0 && !previousCheckpoint.IsSet)
        {
            checkpoint.Restore(Network, Optimizer);
            return new TrainingDivergedException($"{e.Message} It was the first step: the parameters are those training started from, " +
                                                 "and they already give a non-finite loss (check the initial weights too).");
        }

        (int[] batchOrder, int repeat, TrainingCheckpoint from) = failedBatch > 0
            ? (order, failedBatch - 1, checkpoint)
            : (previousOrder, previousBatches - 1, previousCheckpoint);
        from.Restore(Network, Optimizer);
        for (int b = 0; b < repeat; b++)
        {
            int first = b * BatchSize;
            StepOnRows(train, batchOrder.AsSpan(first, Math.Min(BatchSize, batchOrder.Length - first)));
        }

        return new TrainingDivergedException($"{e.Message} The network holds the last parameters that were finite and gave a finite loss " +
                                             $"(after update {Optimizer.Steps}).");
    }

    /// <summary>Mean loss and (for softmax cross-entropy) accuracy over a dataset, in batches, without changing the network.</summary>
    /// <exception cref="ArgumentException">The dataset does not fit the network, or holds NaN or infinity.</exception>
    public (double Loss, double Accuracy) Evaluate(Dataset data)
    {
        CheckDataset(data, nameof(data));
        CheckFinite(data, nameof(data));
        return EvaluateFinite(data);
    }

    /// <summary><see cref="Evaluate"/> of a dataset already checked (Fit checks its validation set once, not every epoch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private (double Loss, double Accuracy) EvaluateFinite(Dataset data)
    {
        double lossSum = 0;
        long correct = 0;
        int cols = Network.OutputSize;
        for (int first = 0; first < data.Count; first += BatchSize)
        {
            int batch = Math.Min(BatchSize, data.Count - first);
            ReadOnlySpan<float> inputs = data.Features.Slice(first * data.FeatureCount, batch * data.FeatureCount);
            ReadOnlySpan<float> output = Network.Forward(_workspace, inputs, batch, MaxThreads);
            float loss = data.HasLabels
                ? Losses.SoftmaxCrossEntropy(output, data.Labels.Slice(first, batch), Span<float>.Empty, batch, cols)
                : LossOf(output, data.Targets.Slice(first * cols, batch * cols), Span<float>.Empty, batch);
            lossSum += (double)loss * batch;
            if (Loss == Loss.SoftmaxCrossEntropy)
            {
                correct += data.HasLabels
                    ? CountCorrect(output, cols, data.Labels.Slice(first, batch), default)
                    : CountCorrect(output, cols, default, data.Targets.Slice(first * cols, batch * cols));
            }
        }

        return (lossSum / data.Count, Loss == Loss.SoftmaxCrossEntropy ? (double)correct / data.Count : double.NaN);
    }

    /// <summary>
    /// Rows of <paramref name="output"/> whose largest value is at the target class: the label, or the largest
    /// value of the target row when there are no labels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static int CountCorrect(ReadOnlySpan<float> output, int cols, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets)
    {
        int rows = output.Length / cols, correct = 0;
        for (int r = 0; r < rows; r++)
        {
            int predicted = IndexOfMax(output.Slice(r * cols, cols));
            int actual = labels.IsEmpty ? IndexOfMax(targets.Slice(r * cols, cols)) : labels[r];
            if (predicted == actual) correct++;
        }

        return correct;
    }

    /// <summary>
    /// The index of the largest value: the first of equal ones, +0 above -0, the first NaN if there is one (the rules
    /// of TensorPrimitives.IndexOfMax). A loop over a row of class scores, compiled optimized with its caller: the
    /// generic TensorPrimitives version ran unoptimized through the first evaluations and was compiled twice more
    /// while training ran (see <see cref="Kernels.Axpy"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int IndexOfMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return -1;
        int best = 0;
        for (int i = 0; i < values.Length; i++)
        {
            float x = values[i], max = values[best];
            if (float.IsNaN(x)) return i;
            if (x > max || (x == max && float.IsNegative(max) && !float.IsNegative(x))) best = i;
        }

        return best;
    }

    /// <summary>
    /// NaN or infinity anywhere in a dataset's features or float targets is reported before training on it. A dataset
    /// is read once: after a clean scan it remembers (<see cref="Dataset.ValuesChecked"/>), and later calls skip it.
    /// </summary>
    private static void CheckFinite(Dataset data, string name)
    {
        if (data.ValuesChecked) return;
        NonFinite.ThrowIfAny(data.Features, data.FeatureCount, name, "feature");
        if (!data.HasLabels) NonFinite.ThrowIfAny(data.Targets, data.TargetCount, name, "target");
        data.ValuesChecked = true;
    }

    private void CheckDataset(Dataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        if (data.FeatureCount != Network.InputSize)
            throw new ArgumentException($"'{name}' has {data.FeatureCount} features per sample but the network takes {Network.InputSize}.", name);
        if (data.TargetCount != Network.OutputSize)
            throw new ArgumentException($"'{name}' has {data.TargetCount} {(data.HasLabels ? "classes" : "targets")} but the network gives {Network.OutputSize} outputs.", name);
        if (data.HasLabels && Loss != Loss.SoftmaxCrossEntropy)
            throw new ArgumentException($"'{name}' has integer labels, which go with {Loss.SoftmaxCrossEntropy}, not {Loss}.", name);
        if (data.Count == 0) throw new ArgumentException($"'{name}' is empty.", name);
    }
}

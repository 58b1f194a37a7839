using System.Numerics.Tensors;
using FastNet.Kernels;
using FastNet.Serialization;

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
/// <see cref="PredictBatch"/> cuts its rows into blocks of <see cref="BatchBlock"/>. With at least as many blocks as
/// threads, each thread takes whole blocks through every layer on its own (a worker thread gets its own workspace on its
/// first block, as a calling thread does: per predictor, up to one per core besides the callers'); fewer blocks run one
/// after the other through the multi-threaded GEMM. The outputs are the same bits either way. Its first call also packs the
/// weights of every dense layer wider than one GEMM column block (<see cref="Kernels.GemmConfiguration.ColumnBlock"/>)
/// into the GEMM's panels, once for the predictor's life, instead of on every block of every call: as much memory again
/// as those layers' weights, allocated only by a predictor that runs batches.
/// </para>
/// <para>
/// Non-finite numbers never pass as an answer: inputs are checked for NaN and infinity (an
/// <see cref="ArgumentException"/> names the first bad value; <see cref="PredictorOptions.CheckInputs"/> turns that off;
/// in float32 with a dense first layer the check is that layer's GEMM looking at its product, tile by tile in L1, before
/// bias and activation: any NaN or infinity in a row makes that row's product non-finite, and only then are the inputs
/// scanned, to name the value; the bfloat16 batch-1 path and a GRU first layer scan their inputs first;
/// with <see cref="Precision.Int8"/> the scan runs only when an output is not finite, since the first layer's
/// quantization already finds any NaN or infinity and turns its row's outputs to NaN),
/// and a prediction whose outputs are not finite (parameters that overflow on this input) throws an
/// <see cref="ArithmeticException"/> instead of returning, say, class 0.
/// </para>
/// <para>
/// Results: a batch-1 prediction and the same row inside a batch go through different summation orders
/// (GEMV versus the blocked GEMM), so they agree to float rounding (a few ulps), not bit for bit (except with
/// <see cref="Precision.Int8"/>, below). Each path on
/// its own is deterministic: the same input gives the same bits on any thread, at any thread count.
/// </para>
/// <para>
/// The model's metadata applies to every call: raw inputs are normalized (<see cref="ModelMetadata.InputNormalization"/>)
/// and outputs transformed (<see cref="ModelMetadata.OutputTransform"/>). With <see cref="Precision.BFloat16"/> the
/// weights are rounded to bfloat16 once, here; both paths then compute with those rounded values. With
/// <see cref="Precision.Int8"/> they are quantized once, here, and both paths run the same per-row integer arithmetic:
/// a row of a batch gets exactly the bits of its batch-1 call.
/// </para>
/// </remarks>
public sealed partial class Predictor : IDisposable
{
    /// <summary>
    /// Rows per block in <see cref="PredictBatch"/>: large enough for the GEMM to use every core, and the unit one thread
    /// takes whole when a call has at least as many blocks as threads.
    /// </summary>
    public const int BatchBlock = 256;

    private readonly Network _network;
    private readonly ThreadLocal<ThreadState> _single;
    private readonly ThreadLocal<ThreadState> _batch;
    private readonly bool _checkInputs;
    private readonly bool _checksInputsInFirstLayer;   // the float32 input check is the first dense layer's flag, not a pass (see Forward)
    private readonly InputNormalization? _normalization;
    private readonly OutputTransform _outputTransform;
    private readonly Bf16Dense[]? _bf16;   // with Precision.BFloat16: each dense layer's weights (a GRU's input projection) in bfloat16
    private readonly Int8Dense[]? _int8;   // with Precision.Int8: each dense layer (a GRU's input projection) quantized
    private volatile bool _disposed;

    /// <summary>
    /// A dense layer for the bfloat16 batch-1 path: weights [inputs x outputs] in bfloat16 (<see cref="BFloat16.PackRows"/>),
    /// the rest as trained. For a GRU, its input projection: W_ih^T [F x 3H], the folded biases, no activation; and
    /// <paramref name="Recurrent"/>, the product h W_hh^T over W_hh^T in bfloat16.
    /// </summary>
    private sealed record Bf16Dense(ushort[] Weights, int Inputs, int Outputs, float[] Biases, Activation Activation, GruLayer.RecurrentProduct? Recurrent = null);

    /// <summary>
    /// What one thread uses for calls of up to <c>rows</c> inputs: a workspace, a normalized copy of the inputs, a row of
    /// scratch, and with Int8 layers the job that runs them (each task quantizes its rows into its own buffer) and, per
    /// GRU layer, its recurrent product on that job.
    /// </summary>
    private sealed class ThreadState
    {
        public readonly Workspace Workspace;
        public readonly float[] NormalizedInputs;
        public readonly float[] Row;
        public readonly Int8BatchJob? Int8;

        /// <summary>The job that spreads a batch call's blocks over the threads (made on the first call that does).</summary>
        public BlockJob? Blocks;

        /// <summary>Per Int8 GRU layer, its recurrent product run by this thread's job (made once: a call allocates nothing).</summary>
        public readonly GruLayer.RecurrentProduct?[] Int8Recurrent = [];

        public ThreadState(Network network, int rows, bool normalizes, Int8Dense[]? int8)
        {
            Workspace = new Workspace(network, rows, forTraining: false);
            NormalizedInputs = normalizes ? new float[rows * network.InputSize] : [];
            Row = new float[network.OutputSize];
            if (int8 is null) return;
            Int8BatchJob job = new(rows == 1 ? 1 : Environment.ProcessorCount,
                int8.Max(layer => Math.Max(layer.QuantizedRowBytes, layer.Recurrent?.QuantizedRowBytes ?? 0)));
            Int8 = job;
            Int8Recurrent = Array.ConvertAll(int8, layer => layer.Recurrent is not { } recurrent ? null
                : new GruLayer.RecurrentProduct((states, product, count, maxThreads) => job.Run(recurrent, states, product, count, maxThreads)));
        }
    }

    internal Predictor(Network network, PredictorOptions? options = null)
        : this(network, options, quantized: null)
    {
    }

    /// <param name="network">The model; copied.</param>
    /// <param name="options">The options.</param>
    /// <param name="quantized">With Int8, the layers as a model file stored them (the network's weights are their dequantized values); null to quantize the network's weights.</param>
    private Predictor(Network network, PredictorOptions? options, Int8Dense[]? quantized)
    {
        ArgumentNullException.ThrowIfNull(network);
        Options = options ?? PredictorOptions.Default;
        _checkInputs = Options.CheckInputs;
        _network = network.Clone();
        if (!Enum.IsDefined(Options.Precision)) throw new ArgumentOutOfRangeException(nameof(options), Options.Precision, "Unknown precision.");
        if (Options.Precision == Precision.BFloat16) _bf16 = RoundToBFloat16(_network);
        if (Options.Precision == Precision.Int8) _int8 = quantized ?? QuantizeToInt8(_network);
        _network.Freeze();   // private and never written again: layers may precompute (a GRU's transposed weights)
        _checksInputsInFirstLayer = _checkInputs && _int8 is null && _network.Layers[0] is DenseLayer;
        _normalization = _network.Metadata.InputNormalization;
        _outputTransform = _network.Metadata.OutputTransform;
        _single = new ThreadLocal<ThreadState>(() => new ThreadState(_network, 1, _normalization is not null, _int8));
        _batch = new ThreadLocal<ThreadState>(() => new ThreadState(_network, BatchBlock, _normalization is not null, _int8));
    }

    /// <summary>
    /// The bfloat16 copy of every dense layer's weights and of both weight matrices of every GRU; the network's own weights
    /// are set to the same rounded values, so batch calls (float32 GEMM) compute with exactly the weights the batch-1 path
    /// reads. A GRU's recurrent product is most of its batch-1 call (a step's W_hh, 196 KB for H = 128, streams from L2
    /// every step): in bfloat16 it streams half the bytes.
    /// </summary>
    private static Bf16Dense[] RoundToBFloat16(Network network)
    {
        var layers = new Bf16Dense[network.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            switch (network.Layers[l])
            {
                case DenseLayer dense:
                    RoundInPlace(dense.Weights);
                    layers[l] = new Bf16Dense(BFloat16.PackRows(dense.Weights, dense.Inputs, dense.Outputs), dense.Inputs, dense.Outputs, dense.Biases.ToArray(), dense.Activation);
                    break;
                case GruLayer gru:
                    RoundInPlace(gru.InputWeights);
                    RoundInPlace(gru.RecurrentWeights);
                    var bias = new float[3 * gru.HiddenSize];
                    gru.FoldBiases(bias);
                    int hidden = gru.HiddenSize;
                    ushort[] recurrent = BFloat16.PackRows(gru.TransposedRecurrentWeights(), hidden, bias.Length);
                    layers[l] = new Bf16Dense(BFloat16.PackRows(gru.TransposedInputWeights(), gru.Features, bias.Length), gru.Features, bias.Length, bias, Activation.None,
                        (state, product, _, _) => BFloat16.MultiplyRow(state, recurrent, hidden, 3 * hidden, product));   // batch 1 only
                    break;
                default:
                    throw new NotSupportedException($"Precision.BFloat16 covers dense and GRU layers; layer {l} is a {network.Layers[l].GetType().Name}. Use Precision.Float32 for this network.");
            }
        }

        return layers;

        static void RoundInPlace(Span<float> weights)
        {
            for (int i = 0; i < weights.Length; i++) weights[i] = BFloat16.ToSingle(BFloat16.FromSingle(weights[i]));
        }
    }

    /// <summary>
    /// Every dense layer, and every GRU's input projection and recurrent product, quantized to int8 (<see cref="Int8Dense"/>);
    /// the network's float32 weights stay as they are, unused there (a GRU's gate arithmetic stays float32).
    /// </summary>
    private static Int8Dense[] QuantizeToInt8(Network network)
    {
        var layers = new Int8Dense[network.Layers.Count];
        for (int l = 0; l < layers.Length; l++)
        {
            layers[l] = network.Layers[l] switch
            {
                DenseLayer dense => Int8Dense.Quantize(dense),
                GruLayer gru => Int8Dense.QuantizeInputProjection(gru),
                Layer other => throw new NotSupportedException($"Precision.Int8 covers dense and GRU layers; layer {l} is a {other.GetType().Name}. Use Precision.Float32 for this network."),
            };
        }

        return layers;
    }

    /// <summary>
    /// Loads a model file into a predictor: a float32 model computes in float32; a file saved by a bfloat16 or int8
    /// predictor (<see cref="Save"/>, <see cref="ModelFile.Quantize"/>) gives a predictor of that precision, with the
    /// results of the one that saved it.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a valid model.</exception>
    public static Predictor Load(string path) => FromStored(ModelFile.LoadStored(path), PredictorOptions.Default);

    /// <summary>
    /// Loads a model file into a predictor with <paramref name="options"/>. A float32 model is rounded or quantized to
    /// <see cref="PredictorOptions.Precision"/> here; a file in bfloat16 or int8 keeps its precision (the predictor's
    /// <see cref="Options"/> say so), and asking it for another one than float32, the default, is an error.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a valid model.</exception>
    /// <exception cref="ArgumentException">The file holds weights of another precision than the options ask for.</exception>
    public static Predictor Load(string path, PredictorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return FromStored(ModelFile.LoadStored(path), options);
    }

    /// <summary>Reads a model (the model-file format) from a stream into a predictor, as <see cref="Load(string)"/> does.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid model.</exception>
    public static Predictor Read(Stream stream) => FromStored(ModelFile.ReadStored(stream), PredictorOptions.Default);

    /// <summary>Reads a model (the model-file format) from a stream into a predictor, as <see cref="Load(string, PredictorOptions)"/> does.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid model.</exception>
    /// <exception cref="ArgumentException">The data holds weights of another precision than the options ask for.</exception>
    public static Predictor Read(Stream stream, PredictorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return FromStored(ModelFile.ReadStored(stream), options);
    }

    private static Predictor FromStored(ModelFile.StoredModel stored, PredictorOptions options)
    {
        if (stored.Precision == Precision.Float32) return new Predictor(stored.Network, options);
        if (options.Precision != Precision.Float32 && options.Precision != stored.Precision)
        {
            throw new ArgumentException(
                $"The model holds {stored.Precision} weights: it loads as a {stored.Precision} predictor, not {options.Precision} (round or quantize the float32 model instead).", nameof(options));
        }

        return new Predictor(stored.Network, options with { Precision = stored.Precision }, stored.Int8);
    }

    /// <summary>
    /// Saves the model as this predictor computes with it (atomically, see <see cref="AtomicFile"/>): float32 weights
    /// as they are; with <see cref="Precision.BFloat16"/> or <see cref="Precision.Int8"/> the rounded or quantized weights
    /// (int8 values and their scales), which take a half or about a quarter of the bytes, the rest float32; the
    /// metadata too. <see cref="Load(string)"/> gives back a predictor with bitwise the same results. The model-file
    /// checks (sizes, checksum) cover every section. A bfloat16 or int8 file loads only as a predictor: keep the
    /// float32 model to train further or to export.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ObjectDisposedException.ThrowIf(_disposed, this);
        AtomicFile.Write(path, Write, "the model");
    }

    /// <summary>Writes what <see cref="Save"/> saves to a stream.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ModelFile.Write(_network, Options.Precision, _int8, stream);
    }

    /// <summary>The options this predictor was created with.</summary>
    public PredictorOptions Options { get; }

    /// <summary>
    /// The model's names, class labels, input normalization (applied by every call) and output transform (applied by
    /// <see cref="Predict"/> and <see cref="PredictBatch"/>).
    /// </summary>
    public ModelMetadata Metadata => _network.Metadata;

    /// <summary>Features per input.</summary>
    public int InputSize => _network.InputSize;

    /// <summary>Values per output.</summary>
    public int OutputSize => _network.OutputSize;

    /// <summary>Forward pass of one input.</summary>
    /// <param name="input">InputSize features (raw: the model's <see cref="ModelMetadata.InputNormalization"/>, if any, is applied here).</param>
    /// <param name="output">Receives OutputSize values: the last layer's outputs (e.g. logits), after the model's <see cref="ModelMetadata.OutputTransform"/>.</param>
    /// <exception cref="ArgumentException">A length is wrong, or (with <see cref="PredictorOptions.CheckInputs"/>) the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The outputs are not finite.</exception>
    public void Predict(ReadOnlySpan<float> input, Span<float> output)
    {
        Guard.SameLength(output.Length, OutputSize, nameof(output), nameof(OutputSize));
        ThreadState state = SingleState();
        ForwardOne(state, input).CopyTo(output);
        TransformOutputs(output, 1, state.Row);
    }

    /// <summary>The index of the largest output for one input (the predicted class; no output transform changes which).</summary>
    /// <exception cref="ArgumentException">The length is wrong, or (with <see cref="PredictorOptions.CheckInputs"/>) the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The outputs are not finite, so no class is the largest.</exception>
    public int PredictClass(ReadOnlySpan<float> input) => TensorPrimitives.IndexOfMax(ForwardOne(SingleState(), input));

    /// <summary>The label of the predicted class (<see cref="PredictClass"/>) from <see cref="ModelMetadata.ClassLabels"/>.</summary>
    /// <exception cref="InvalidOperationException">The model has no class labels.</exception>
    /// <exception cref="ArgumentException">The length is wrong, or (with <see cref="PredictorOptions.CheckInputs"/>) the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The outputs are not finite, so no class is the largest.</exception>
    public string PredictLabel(ReadOnlySpan<float> input)
    {
        IReadOnlyList<string> labels = Metadata.ClassLabels
            ?? throw new InvalidOperationException("The model has no class labels (set Network.Metadata's ClassLabels before saving or creating the predictor).");
        return labels[PredictClass(input)];
    }

    /// <summary>This thread's batch-1 state, after the check that the predictor is not disposed (which ThreadLocal would report under its own name).</summary>
    private ThreadState SingleState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _single.Value!;
    }

    /// <summary>The batch-1 forward pass with the checks: input length and values, normalization, then output values.</summary>
    private ReadOnlySpan<float> ForwardOne(ThreadState state, ReadOnlySpan<float> input)
    {
        Guard.SameLength(input.Length, InputSize, nameof(input), nameof(InputSize));
        // A dense first layer in float32 checks the input by its flag (see Forward); the bfloat16 row product and a GRU
        // first layer have none, and their input is scanned first (784 floats in L1: about 15 ns).
        if (_checkInputs && _int8 is null && (_bf16 is not null || !_checksInputsInFirstLayer))
            NonFinite.ThrowIfAny(input, InputSize, nameof(input), "feature");
        ReadOnlySpan<float> normalized = Normalize(state, input);
        bool suspect = false;
        ReadOnlySpan<float> output = _bf16 is null ? Forward(state, normalized, 1, maxThreads: 1, out suspect) : ForwardBFloat16(state.Workspace, normalized);
        CheckOutputs(output, 0, input, nameof(input), suspect);
        return output;
    }

    /// <summary>
    /// The forward pass of <paramref name="rows"/> normalized inputs in float32 or, for Int8, layer by layer through the
    /// thread's job. <paramref name="inputSuspect"/>: whether the first layer's product held NaN or infinity, which any
    /// NaN or infinity in the input makes it (always false without <see cref="_checksInputsInFirstLayer"/>). That flag is
    /// the float32 input check: the GEMM's epilogue looks at each tile while it is in L1, where a scan of the inputs
    /// before the GEMM cost 2.5% of a 1,024-row T1 batch on one Zen 5 thread, 6.9% on two (it ran on the calling thread
    /// alone; bench/results/zen5-avx512/input-check-flag.md).
    /// </summary>
    private unsafe ReadOnlySpan<float> Forward(ThreadState state, ReadOnlySpan<float> x, int rows, int maxThreads, out bool inputSuspect)
    {
        inputSuspect = false;
        if (_int8 is null)
        {
            if (!_checksInputsInFirstLayer) return _network.Forward(state.Workspace, x, rows, maxThreads);
            int nonFinite = 0;   // set by whichever thread's tile finds a value; read after the GEMM has joined them
            ReadOnlySpan<float> output = _network.ForwardFlaggingNonFinite(state.Workspace, x, rows, maxThreads, &nonFinite);
            inputSuspect = nonFinite != 0;
            return output;
        }

        for (int l = 0; l < _int8.Length; l++)
        {
            Span<float> y = state.Workspace.Output(l, rows);
            if (_network.Layers[l] is GruLayer gru)
            {
                // Every (sample, step) row of F features is one row of the input projection.
                var scratch = (GruWorkspace)state.Workspace.Scratch(l)!;
                state.Int8!.Run(_int8[l], x, gru.InputProjections(scratch, rows), rows * gru.Steps, maxThreads);
                gru.Recur(scratch, rows, y, default, maxThreads, state.Int8Recurrent[l]);
            }
            else
            {
                state.Int8!.Run(_int8[l], x, y, rows, maxThreads);
            }

            x = y;
        }

        return x;
    }

    /// <summary>
    /// The batch-1 forward pass over bfloat16 weights: per dense layer y = act(x W + b), into the workspace's outputs; per
    /// GRU the input projection of each step, x_t W_ih^T + b, then the recurrence with h W_hh^T over bfloat16 W_hh.
    /// </summary>
    private ReadOnlySpan<float> ForwardBFloat16(Workspace workspace, ReadOnlySpan<float> x)
    {
        Bf16Dense[] layers = _bf16!;
        for (int l = 0; l < layers.Length; l++)
        {
            Bf16Dense layer = layers[l];
            Span<float> y = workspace.Output(l, 1);
            if (_network.Layers[l] is GruLayer gru)
            {
                var scratch = (GruWorkspace)workspace.Scratch(l)!;
                Span<float> projections = gru.InputProjections(scratch, 1);
                for (int step = 0; step < gru.Steps; step++)
                    MultiplyAdd(layer, x.Slice(step * layer.Inputs, layer.Inputs), projections.Slice(step * layer.Outputs, layer.Outputs));
                gru.Recur(scratch, 1, y, default, maxThreads: 1, layer.Recurrent);
            }
            else
            {
                MultiplyAdd(layer, x, y);
                if (layer.Activation != Activation.None) Activations.Forward(layer.Activation, y, y);
            }

            x = y;
        }

        return x;

        static void MultiplyAdd(Bf16Dense layer, ReadOnlySpan<float> x, Span<float> y)
        {
            BFloat16.MultiplyRow(x, layer.Weights, layer.Inputs, layer.Outputs, y);
            TensorPrimitives.Add(y, layer.Biases, y);
        }
    }

    /// <summary>The inputs, normalized into the thread's buffer when the model has a normalization.</summary>
    private ReadOnlySpan<float> Normalize(ThreadState state, ReadOnlySpan<float> inputs)
    {
        if (_normalization is null) return inputs;
        Span<float> normalized = state.NormalizedInputs.AsSpan(0, inputs.Length);
        _normalization.Apply(inputs, normalized, InputSize);
        return normalized;
    }

    /// <summary>The model's output transform, in place, over <paramref name="rows"/> output rows.</summary>
    private void TransformOutputs(Span<float> outputs, int rows, Span<float> scratch)
    {
        if (_outputTransform == OutputTransform.Softmax) Softmax.Forward(outputs, outputs, rows, OutputSize);
        else if (_outputTransform == OutputTransform.LogSoftmax) Softmax.LogForward(outputs, outputs, rows, OutputSize, scratch);
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the bad input when the first layer found its product not finite
    /// (<paramref name="inputSuspect"/>; the inputs are then scanned: <paramref name="inputs"/>, the raw rows, under the
    /// caller's <paramref name="name"/>), and when an output is not finite: the same where Int8 deferred the input scan to
    /// this moment, else an <see cref="ArithmeticException"/>. One scan of the outputs on the path where all is well.
    /// </summary>
    private void CheckOutputs(ReadOnlySpan<float> outputs, int firstRow, ReadOnlySpan<float> inputs, string name, bool inputSuspect = false)
    {
        // A suspect product from clean inputs is an overflow: the outputs decide, as for any overflow.
        if (inputSuspect) NonFinite.ThrowIfAny(inputs, InputSize, name, "feature", firstRow);
        int i = NonFinite.IndexOf(outputs);
        if (i < 0) return;
        if (_checkInputs && _int8 is not null) NonFinite.ThrowIfAny(inputs, InputSize, name, "feature", firstRow);
        throw new ArithmeticException(
            $"The prediction for input {firstRow + i / OutputSize} is not finite (output {i % OutputSize} is {outputs[i]}): the model's " +
            $"parameters overflow on this input{(_checkInputs ? "" : ", or the input itself holds NaN or infinity (input checks are off)")}.");
    }

    /// <summary>
    /// Softmax of the last layer's outputs for one input: class probabilities when that layer gives logits. The
    /// model's output transform is not applied first (softmax of a softmax would flatten them): a model whose
    /// transform is Softmax gets the same values as from <see cref="Predict"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong, or (with <see cref="PredictorOptions.CheckInputs"/>) the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The outputs are not finite.</exception>
    public void PredictProbabilities(ReadOnlySpan<float> input, Span<float> probabilities)
    {
        Guard.SameLength(probabilities.Length, OutputSize, nameof(probabilities), nameof(OutputSize));
        ForwardOne(SingleState(), input).CopyTo(probabilities);
        Softmax.Forward(probabilities, probabilities, 1, OutputSize);
    }

    /// <summary>
    /// Forward pass of many inputs, [count x InputSize] row-major into [count x OutputSize] (normalized and
    /// transformed as in <see cref="Predict"/>), in blocks of <see cref="BatchBlock"/> rows on up to
    /// <paramref name="maxThreads"/> threads (-1: every core): whole rounds of blocks one per thread, the rest with each
    /// layer's GEMM split across the threads. Any thread count gives the same bits.
    /// </summary>
    /// <remarks>
    /// Why whole blocks per thread: threads then meet once per call rather than once per layer of every block, and the
    /// small layers (T1's 10-wide output layer), the checks and the output transform run on every thread instead of on
    /// the caller alone while the others wait. 1,024-row batches on two Zen 5 threads ran 16% (T1) and 7% (T2) faster
    /// than with each GEMM split, in 6 of 6 alternating rounds (bench/results/zen5-avx512/spread-blocks.md).
    /// </remarks>
    /// <exception cref="ArgumentException">A length is wrong, or (with <see cref="PredictorOptions.CheckInputs"/>) an input holds NaN or infinity: the first such input is named, and the outputs of the blocks before its block are written (on several threads, some after it may be too).</exception>
    /// <exception cref="ArithmeticException">An input's outputs are not finite: the first such input is named, and the outputs of the blocks before its block are written (on several threads, some after it may be too).</exception>
    public void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs, int maxThreads = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int d = InputSize, o = OutputSize;
        if (inputs.Length % d != 0)
            throw new ArgumentException($"'{nameof(inputs)}' has {inputs.Length} values: not a whole number of inputs of {d}.", nameof(inputs));
        int count = inputs.Length / d;
        Guard.SameLength(outputs.Length, count * o, nameof(outputs), "inputs x OutputSize");
        Guard.MaxThreads(maxThreads);
        ThreadState state = _batch.Value!;
        int blocks = (count + BatchBlock - 1) / BatchBlock;
        int threads = Math.Min(maxThreads == -1 ? Environment.ProcessorCount : maxThreads, Environment.ProcessorCount);
        // Whole rounds of blocks go one per thread (BlockJob); the rest, fewer blocks than threads, one after the other
        // with each layer's GEMM split across the threads.
        int spread = threads > 1 ? blocks / threads * threads : 0;
        if (spread > 0) (state.Blocks ??= new BlockJob(this)).Run(inputs, outputs, count, spread, threads);
        for (int block = spread; block < blocks; block++) RunBlock(state, inputs, outputs, block * BatchBlock, maxThreads);
    }

    /// <summary>
    /// One block of <see cref="PredictBatch"/>: rows [<paramref name="first"/>, + <see cref="BatchBlock"/>) of the call
    /// through the network, checked, into <paramref name="outputs"/>, transformed.
    /// </summary>
    private void RunBlock(ThreadState state, ReadOnlySpan<float> inputs, Span<float> outputs, int first, int maxThreads)
    {
        int d = InputSize, o = OutputSize;
        int rows = Math.Min(BatchBlock, inputs.Length / d - first);
        ReadOnlySpan<float> blockInputs = inputs.Slice(first * d, rows * d);
        // A dense first layer checks the inputs by its flag (see Forward); a GRU's are scanned first.
        if (_checkInputs && _int8 is null && !_checksInputsInFirstLayer) NonFinite.ThrowIfAny(blockInputs, d, nameof(inputs), "feature", first);
        ReadOnlySpan<float> block = Forward(state, Normalize(state, blockInputs), rows, maxThreads, out bool suspect);
        CheckOutputs(block, first, blockInputs, nameof(inputs), suspect);
        Span<float> blockOutputs = outputs.Slice(first * o, rows * o);
        block.CopyTo(blockOutputs);
        TransformOutputs(blockOutputs, rows, state.Row);
    }

    /// <summary>Releases the per-thread workspaces.</summary>
    /// <remarks>Any call after this throws an <see cref="ObjectDisposedException"/> naming the predictor.</remarks>
    public void Dispose()
    {
        _disposed = true;
        _single.Dispose();
        _batch.Dispose();
    }
}

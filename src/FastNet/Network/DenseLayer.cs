using System.Runtime.CompilerServices;
using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// A fully connected layer y = act(x W + b) of a <see cref="Network"/>: a view of its parameters.
/// </summary>
/// <remarks>
/// <see cref="Weights"/> is row-major [<see cref="Inputs"/> x <see cref="Outputs"/>]: the weight from
/// input i to output j is <c>Weights[i * Outputs + j]</c>, so a batch X [batch x inputs] times W gives
/// the outputs [batch x outputs] directly. (A textbook matrix that maps inputs to outputs as W x, of shape
/// [outputs x inputs], is the transpose of this.) <see cref="Layer.Parameters"/> is the weights, then the
/// biases. Writing through the spans changes the network.
/// </remarks>
public sealed class DenseLayer : Layer
{
    internal DenseLayer(int index, int inputs, int outputs, Activation activation, Memory<float> parameters, int offset)
        : base(index, inputs, parameters, offset)
    {
        Outputs = outputs;
        Activation = activation;
    }

    /// <summary>Width of the layer's input (<see cref="Layer.InputSize"/>).</summary>
    public int Inputs => InputSize;

    /// <summary>Width of the layer's output.</summary>
    public int Outputs { get; }

    /// <inheritdoc/>
    public override int OutputSize => Outputs;

    /// <summary>Activation applied after the affine map.</summary>
    public Activation Activation { get; }

    /// <summary>Weights, row-major [Inputs x Outputs].</summary>
    public Span<float> Weights => Slice(0, Inputs * Outputs);

    /// <summary>Biases, one per output.</summary>
    public Span<float> Biases => Slice(Inputs * Outputs, Outputs);

    /// <summary>Number of parameters: Inputs * Outputs + Outputs.</summary>
    public override int ParameterCount => Inputs * Outputs + Outputs;

    internal override LayerSpec Spec => new DenseSpec(Outputs, Activation);

    private bool _frozen;
    private PrepackedB? _packedWeights;

    /// <summary>A predictor's snapshot: the weights never change again, so batch products may use them packed once.</summary>
    internal override void Freeze() => _frozen = true;

    /// <summary>
    /// Once frozen, the weights packed for this process's GEMM kernel (<see cref="PrepackedB"/>), made by the first batch
    /// product that needs them: a predictor that only ever runs batch 1 (GEMV, which reads the weights as they are) never
    /// pays their memory. Two first calls at once may both pack; one packing is kept, and both hold the same values.
    /// Null while the layer can still be trained, and for weights the GEMM reads in place (no wider than a column block,
    /// <see cref="GemmBlocking.NB"/>): packed once, T1's ran its batches no faster (0.4-0.9% slower in the medians of
    /// bench/results/zen5-avx512/prepacked-narrow.md), and they would cost their memory again.
    /// </summary>
    private PrepackedB? PackedWeights
    {
        get
        {
            if (!_frozen || !(Outputs > GemmBlocking.NB || GemmBlocking.PacksRowMajorB)) return null;
            return _packedWeights
                ?? Interlocked.CompareExchange(ref _packedWeights, PrepackedB.Pack(Weights, Outputs, transposed: false, Inputs, Outputs, Gemm.DefaultPath), null)
                ?? _packedWeights;
        }
    }

    /// <summary>He-normal N(0, 2 / inputs) for ReLU and leaky ReLU, Glorot-uniform U(+-sqrt(6 / (inputs + outputs))) otherwise; zero biases.</summary>
    internal override void Initialize(Random rng)
    {
        Span<float> w = Weights;
        if (Activation is Activation.Relu or Activation.LeakyRelu)
        {
            double std = Math.Sqrt(2.0 / Inputs);
            for (int i = 0; i < w.Length; i++) w[i] = (float)(std * Initializers.StandardNormal(rng));
        }
        else
        {
            double limit = Math.Sqrt(6.0 / (Inputs + Outputs));
            for (int i = 0; i < w.Length; i++) w[i] = (float)(limit * (2 * rng.NextDouble() - 1));
        }

        Biases.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override unsafe void Forward(object? scratch, ReadOnlySpan<float> x, Span<float> y, int batch, int maxThreads)
        => Forward(x, y, batch, maxThreads, nonFiniteFlag: null);

    /// <summary>
    /// The forward pass; with <paramref name="nonFiniteFlag"/>, *flag becomes 1 when a value of X W is NaN or infinite,
    /// which any NaN or infinity in X makes it (see <see cref="GemmEpilogue"/>'s internal constructor).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, int maxThreads, int* nonFiniteFlag)
    {
        // Y = act(X W + b): bias and activation fused into the GEMM's final write; a frozen layer's W packed once.
        Gemm.MultiplyCore(x, Inputs, Weights, Outputs, y, Outputs, batch, Outputs, Inputs, Transpose.None, Transpose.None, 1f, 0f,
            new GemmEpilogue(Biases, Activation, nonFiniteFlag), maxThreads, Gemm.DefaultPath,
            packedB: batch > GemmBlocking.GemvMaxRows ? PackedWeights : null);
    }

    /// <summary>
    /// <see cref="Forward(object, ReadOnlySpan{float}, Span{float}, int, int)"/> on rows <paramref name="rows"/> of <paramref name="data"/> (row-major, <see cref="Inputs"/>
    /// wide), read where they lie: the same bits as gathering them first, without the copy in front of the GEMM.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void ForwardRows(ReadOnlySpan<float> data, ReadOnlySpan<int> rows, Span<float> y, int maxThreads)
        => Gemm.MultiplyRows(data, Inputs, rows, Weights, Outputs, y, Outputs, rows.Length, Outputs, Inputs,
            epilogue: new GemmEpilogue(Biases, Activation), maxThreads: maxThreads);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override bool Backward(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dy, Span<float> dx, int batch, int maxThreads)
    {
        // dZ = dY * act'(Z), in place, with act' written in terms of the output Y.
        Activations.Backward(Activation, y, dy, dy);
        if (!NonFinite.AllFinite(dy)) return false;
        if (!dx.IsEmpty)
        {
            // dX = dZ W^T [batch x inputs].
            Gemm.Multiply(dy, Outputs, Weights, Outputs, dx, Inputs, batch, Inputs, Outputs, transB: Transpose.Transposed, maxThreads: maxThreads);
        }

        return true;
    }

    /// <summary>dW = X^T dZ [inputs x outputs], db = column sums of dZ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override void ParameterGradients(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> gradients, int batch, int maxThreads)
        => ParameterGradients(x, default, dy, gradients, batch, maxThreads);

    /// <summary>
    /// As <see cref="ParameterGradients(object?, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int)"/>, with
    /// the input given as rows <paramref name="rows"/> of <paramref name="x"/> when they are not empty (see <see cref="ForwardRows"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void ParameterGradients(ReadOnlySpan<float> x, ReadOnlySpan<int> rows, ReadOnlySpan<float> dy, Span<float> gradients, int batch, int maxThreads)
    {
        WeightProduct(x, rows, dy, gradients[..(Inputs * Outputs)], 1f, 0f, batch, maxThreads);
        Bias.Gradient(dy, gradients.Slice(Inputs * Outputs, Outputs), batch, Outputs);
    }

    /// <summary>
    /// W = W - lr X^T dZ as one GEMM (alpha = -lr, beta = 1): the weight gradient is never written out and read
    /// back. The bias gradient goes through its slot in <paramref name="gradients"/> on the way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal override void ApplySgd(object? scratch, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float learningRate, Span<float> gradients, int batch, int maxThreads)
        => ApplySgd(x, default, dy, learningRate, gradients, batch, maxThreads);

    /// <summary>As the override, with the input given as rows <paramref name="rows"/> of <paramref name="x"/> when they are not empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal void ApplySgd(ReadOnlySpan<float> x, ReadOnlySpan<int> rows, ReadOnlySpan<float> dy, float learningRate, Span<float> gradients, int batch, int maxThreads)
    {
        WeightProduct(x, rows, dy, Weights, -learningRate, 1f, batch, maxThreads);
        Span<float> db = gradients.Slice(Inputs * Outputs, Outputs);
        Bias.Gradient(dy, db, batch, Outputs);
        Axpy.Run(-learningRate, db, Biases);
    }

    /// <summary>C = alpha X^T dZ + beta C [inputs x outputs], X being the first batch rows of x, or its rows <paramref name="rows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void WeightProduct(ReadOnlySpan<float> x, ReadOnlySpan<int> rows, ReadOnlySpan<float> dy, Span<float> c, float alpha, float beta, int batch, int maxThreads)
    {
        if (rows.IsEmpty)
        {
            Gemm.Multiply(x, Inputs, dy, Outputs, c, Outputs, Inputs, Outputs, batch,
                transA: Transpose.Transposed, alpha: alpha, beta: beta, maxThreads: maxThreads);
        }
        else
        {
            Gemm.MultiplyRows(x, Inputs, rows, dy, Outputs, c, Outputs, Inputs, Outputs, batch,
                transA: Transpose.Transposed, alpha: alpha, beta: beta, maxThreads: maxThreads);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"Dense {Inputs} -> {Outputs}, {Activation}";
}

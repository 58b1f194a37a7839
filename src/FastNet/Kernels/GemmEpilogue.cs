using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;

namespace FastNet.Kernels;

/// <summary>
/// Work fused into a GEMM's final write of C, while each tile is still in L1:
/// C = act(alpha * op(A) * op(B) + beta * C + bias), with bias a row vector of length N added to every row.
/// This is a dense layer's forward pass in one sweep over memory.
/// </summary>
public readonly unsafe ref struct GemmEpilogue
{
    /// <summary>Creates an epilogue.</summary>
    /// <param name="bias">Row vector of length N added to every row of C, or empty for none.</param>
    /// <param name="activation">Applied element-wise after the bias.</param>
    public GemmEpilogue(ReadOnlySpan<float> bias, Activation activation = Activation.None)
    {
        Bias = bias;
        Activation = activation;
    }

    /// <summary>
    /// An epilogue that also reports whether any value of the product, before bias and activation, is NaN or infinite
    /// (it sets <c>*nonFiniteFlag</c> to 1, from whichever thread finds one; it never clears it). Every element of a
    /// row of A meets every column of B, and NaN or infinity times anything (0 included) is NaN or infinite, a value no
    /// finite addend brings back: so a non-finite value in row i of A makes all of row i of the product non-finite, and
    /// the flag finds bad inputs from the first layer's output, which is in L1 anyway, instead of a pass over the
    /// inputs (<see cref="Inference.Predictor"/>). A finite A can set it too, where the product overflows.
    /// </summary>
    internal GemmEpilogue(ReadOnlySpan<float> bias, Activation activation, int* nonFiniteFlag)
        : this(bias, activation)
    {
        NonFiniteFlag = nonFiniteFlag;
    }

    /// <summary>Where a non-finite product is reported (see the internal constructor), or null.</summary>
    internal int* NonFiniteFlag { get; }

    /// <summary>Row vector added to every row of C (empty: no bias).</summary>
    public ReadOnlySpan<float> Bias { get; }

    /// <summary>Activation applied after the bias.</summary>
    public Activation Activation { get; }

    /// <summary>
    /// Applies bias and activation to rows x cols of C at <paramref name="c"/>. Always called on whole
    /// micro-kernel tiles (or the matrix edge), so each element sees the same vector lane layout whichever
    /// thread computed it. With <paramref name="nonFinite"/>, first looks for NaN and infinity in the tile as the
    /// product left it (see the internal constructor).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal static unsafe void Apply(float* c, nint ldc, int rows, int cols, float* bias, Activation activation, int* nonFinite = null)
    {
        if (nonFinite != null && !NonFinite.AllFinite(c, ldc, rows, cols)) *nonFinite = 1;
        for (int r = 0; r < rows; r++, c += ldc)
        {
            if (activation is Activation.None or Activation.Relu)
            {
                // One pass for the common case (tile rows are short: a call per primitive costs more than the math).
                AddBiasThenRelu(c, bias, cols, activation == Activation.Relu);
                continue;
            }

            var row = new Span<float>(c, cols);
            if (bias != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(bias, cols), row);
            if (activation == Activation.Sigmoid) TensorPrimitives.Sigmoid(row, row);
            else if (activation == Activation.Tanh) TensorPrimitives.Tanh(row, row);
            else Activations.LeakyRelu(row, row);
        }
    }

    /// <summary>row = max(row + bias, 0) (or just row + bias). Vector.Max propagates NaN, as ReLU must for divergence checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static unsafe void AddBiasThenRelu(float* row, float* bias, int cols, bool relu)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; j + Vector<float>.Count <= cols; j += Vector<float>.Count)
            {
                Vector<float> v = Vector.Load(row + j);
                if (bias != null) v += Vector.Load(bias + j);
                if (relu) v = Vector.Max(v, Vector<float>.Zero);
                Vector.Store(v, row + j);
            }
        }

        for (; j < cols; j++)
        {
            float v = bias != null ? row[j] + bias[j] : row[j];
            row[j] = relu ? MathF.Max(v, 0f) : v;
        }
    }
}

using System.Numerics.Tensors;

namespace FastNet.Kernels;

/// <summary>Softmax over each row of a row-major [rows x cols] matrix, forward beside backward.</summary>
public static class Softmax
{
    /// <summary>
    /// y[r, j] = exp(x[r, j] - max_r) / sum_k exp(x[r, k] - max_r). Subtracting the row maximum keeps every
    /// exponent &lt;= 0, so logits of any finite size give finite probabilities (exp(100) alone overflows float).
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        Guard.Matrix(x.Length, rows, cols, nameof(x));
        Guard.Matrix(y.Length, rows, cols, nameof(y));
        if (cols == 0) return;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * cols, cols);
            Span<float> yr = y.Slice(r * cols, cols);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Exp(yr, yr);
            float sum = TensorPrimitives.Sum(yr);   // >= 1: the maximum contributes exp(0)
            TensorPrimitives.Multiply(yr, 1f / sum, yr);
        }
    }

    /// <summary>
    /// y[r, j] = x[r, j] - max_r - log(sum_k exp(x[r, k] - max_r)): the log of <see cref="Forward"/>, without
    /// its underflow (a probability of 1e-50 is 0 in float; its log, -115, is not). <paramref name="x"/> and
    /// <paramref name="y"/> may be the same span; <paramref name="scratch"/> takes one row (cols floats).
    /// </summary>
    public static void LogForward(ReadOnlySpan<float> x, Span<float> y, int rows, int cols, Span<float> scratch)
    {
        Guard.Matrix(x.Length, rows, cols, nameof(x));
        Guard.Matrix(y.Length, rows, cols, nameof(y));
        Guard.MinLength(scratch.Length, cols, nameof(scratch));
        if (cols == 0) return;
        Span<float> exps = scratch[..cols];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * cols, cols);
            Span<float> yr = y.Slice(r * cols, cols);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, exps);
            TensorPrimitives.Exp(exps, exps);
            float logSum = MathF.Log(TensorPrimitives.Sum(exps));   // sum >= 1: finite
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Subtract(yr, logSum, yr);
        }
    }

    /// <summary>
    /// Jacobian-vector product of softmax: dx[j] = y[j] * (dy[j] - sum_k dy[k] * y[k]), row by row.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
    {
        Guard.Matrix(y.Length, rows, cols, nameof(y));
        Guard.Matrix(dy.Length, rows, cols, nameof(dy));
        Guard.Matrix(dx.Length, rows, cols, nameof(dx));
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> yr = y.Slice(r * cols, cols);
            ReadOnlySpan<float> dyr = dy.Slice(r * cols, cols);
            Span<float> dxr = dx.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, dot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }
}

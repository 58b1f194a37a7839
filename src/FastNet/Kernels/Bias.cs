using System.Numerics.Tensors;

namespace FastNet.Kernels;

/// <summary>Bias of a dense layer: a row vector added to every row, and its gradient.</summary>
public static class Bias
{
    /// <summary>y[r, j] += bias[j] for every row r of the row-major [rows x cols] matrix y.</summary>
    public static void Add(Span<float> y, ReadOnlySpan<float> bias, int rows, int cols)
    {
        Guard.Matrix(y.Length, rows, cols, nameof(y));
        Guard.MinLength(bias.Length, cols, nameof(bias));
        bias = bias[..cols];
        for (int r = 0; r < rows; r++)
        {
            Span<float> yr = y.Slice(r * cols, cols);
            TensorPrimitives.Add(yr, bias, yr);
        }
    }

    /// <summary>
    /// dbias[j] = sum over r of dy[r, j] (column sums), overwriting dbias. Rows are added in order, so the
    /// result does not depend on how anything else was scheduled.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> dy, Span<float> dbias, int rows, int cols)
    {
        Guard.Matrix(dy.Length, rows, cols, nameof(dy));
        Guard.MinLength(dbias.Length, cols, nameof(dbias));
        Span<float> sum = dbias[..cols];
        sum.Clear();
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(sum, dy.Slice(r * cols, cols), sum);
    }
}

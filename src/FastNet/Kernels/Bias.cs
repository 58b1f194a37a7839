using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        // Eight vectors of columns at a time in registers, down all the rows (each row contributes 512 contiguous
        // bytes per pass): the same additions in the same order as adding row after row into dbias, without
        // storing and reloading the sums for every row.
        ref float first = ref MemoryMarshal.GetReference(dy);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            const int width = 8 * 16;
            for (; j <= cols - width; j += width)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                for (int r = 0; r < rows; r++)
                {
                    ref float row = ref Unsafe.Add(ref first, (nint)r * cols + j);
                    s0 += Vector512.LoadUnsafe(ref row, 0);
                    s1 += Vector512.LoadUnsafe(ref row, 16);
                    s2 += Vector512.LoadUnsafe(ref row, 32);
                    s3 += Vector512.LoadUnsafe(ref row, 48);
                    s4 += Vector512.LoadUnsafe(ref row, 64);
                    s5 += Vector512.LoadUnsafe(ref row, 80);
                    s6 += Vector512.LoadUnsafe(ref row, 96);
                    s7 += Vector512.LoadUnsafe(ref row, 112);
                }

                Span<float> d = dbias.Slice(j, width);
                s0.CopyTo(d);
                s1.CopyTo(d[16..]);
                s2.CopyTo(d[32..]);
                s3.CopyTo(d[48..]);
                s4.CopyTo(d[64..]);
                s5.CopyTo(d[80..]);
                s6.CopyTo(d[96..]);
                s7.CopyTo(d[112..]);
            }

            for (; j <= cols - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                Vector512<float> sum = Vector512<float>.Zero;
                for (int r = 0; r < rows; r++) sum += Vector512.LoadUnsafe(ref first, (nuint)((long)r * cols + j));
                sum.CopyTo(dbias[j..]);
            }
        }

        for (; j <= cols - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector<float> sum = Vector<float>.Zero;
            for (int r = 0; r < rows; r++) sum += Vector.LoadUnsafe(ref first, (nuint)((long)r * cols + j));
            sum.CopyTo(dbias[j..]);
        }

        for (; j < cols; j++)
        {
            float sum = 0;
            for (int r = 0; r < rows; r++) sum += Unsafe.Add(ref first, (nint)r * cols + j);
            dbias[j] = sum;
        }
    }
}

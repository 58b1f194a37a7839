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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Gradient(ReadOnlySpan<float> dy, Span<float> dbias, int rows, int cols)
    {
        Guard.Matrix(dy.Length, rows, cols, nameof(dy));
        Guard.MinLength(dbias.Length, cols, nameof(dbias));
        Span<float> sum = dbias[..cols];
        // Eight vectors of columns at a time in registers, down a chunk of rows; chunk after chunk, so the chunk's
        // rows (at most 96 KB) stay in cache while every column block passes over them. The sums carry over
        // between chunks through dbias, so every column still adds its rows in order: the same additions as
        // adding row after row into dbias, the same bits.
        ref float first = ref MemoryMarshal.GetReference(dy);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            const int width = 8 * 16;
            int wide = cols / width * width;
            int chunk = Math.Max(1, (96 << 10) / (cols * sizeof(float)));
            sum.Clear();
            for (int r0 = 0; r0 < rows; r0 += chunk)
            {
                int r1 = Math.Min(rows, r0 + chunk);
                for (int jb = 0; jb < wide; jb += width)
                {
                    ref float acc = ref MemoryMarshal.GetReference(sum.Slice(jb, width));
                    Vector512<float> s0 = Vector512.LoadUnsafe(ref acc, 0), s1 = Vector512.LoadUnsafe(ref acc, 16);
                    Vector512<float> s2 = Vector512.LoadUnsafe(ref acc, 32), s3 = Vector512.LoadUnsafe(ref acc, 48);
                    Vector512<float> s4 = Vector512.LoadUnsafe(ref acc, 64), s5 = Vector512.LoadUnsafe(ref acc, 80);
                    Vector512<float> s6 = Vector512.LoadUnsafe(ref acc, 96), s7 = Vector512.LoadUnsafe(ref acc, 112);
                    for (int r = r0; r < r1; r++)
                    {
                        ref float row = ref Unsafe.Add(ref first, (nint)r * cols + jb);
                        s0 += Vector512.LoadUnsafe(ref row, 0);
                        s1 += Vector512.LoadUnsafe(ref row, 16);
                        s2 += Vector512.LoadUnsafe(ref row, 32);
                        s3 += Vector512.LoadUnsafe(ref row, 48);
                        s4 += Vector512.LoadUnsafe(ref row, 64);
                        s5 += Vector512.LoadUnsafe(ref row, 80);
                        s6 += Vector512.LoadUnsafe(ref row, 96);
                        s7 += Vector512.LoadUnsafe(ref row, 112);
                    }

                    s0.StoreUnsafe(ref acc, 0);
                    s1.StoreUnsafe(ref acc, 16);
                    s2.StoreUnsafe(ref acc, 32);
                    s3.StoreUnsafe(ref acc, 48);
                    s4.StoreUnsafe(ref acc, 64);
                    s5.StoreUnsafe(ref acc, 80);
                    s6.StoreUnsafe(ref acc, 96);
                    s7.StoreUnsafe(ref acc, 112);
                }
            }

            j = wide;
            for (; j <= cols - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                Vector512<float> column = Vector512<float>.Zero;
                for (int r = 0; r < rows; r++) column += Vector512.LoadUnsafe(ref first, (nuint)((long)r * cols + j));
                column.CopyTo(dbias[j..]);
            }
        }

        for (; j <= cols - Vector<float>.Count; j += Vector<float>.Count)
        {
            Vector<float> column = Vector<float>.Zero;
            for (int r = 0; r < rows; r++) column += Vector.LoadUnsafe(ref first, (nuint)((long)r * cols + j));
            column.CopyTo(dbias[j..]);
        }

        for (; j < cols; j++)
        {
            float column = 0;
            for (int r = 0; r < rows; r++) column += Unsafe.Add(ref first, (nint)r * cols + j);
            dbias[j] = column;
        }
    }
}

using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        // adding row after row into dbias, the same bits. (One column vector down all the rows instead, as this
        // once did without AVX-512, waits on each add in turn and reads each cache line of dy once per vector of
        // it: several times slower alone; in training a few percent, bench/results/zen5-avx512/emulated-avx2/
        // bias-gradient.md.) Vector<T> (256 bits by default, also on AVX-512 hosts) is as fast here as 512-bit
        // vectors were (bench/results/zen5-avx512/bias-gradient.md): the sums wait on memory, not on the adds.
        ref float first = ref MemoryMarshal.GetReference(dy);
        int w = Vector<float>.Count, width = 8 * w, wide = cols / width * width;
        int chunk = Math.Max(1, (96 << 10) / (cols * sizeof(float)));
        sum[..wide].Clear();
        for (int r0 = 0; r0 < rows; r0 += chunk)
        {
            int r1 = Math.Min(rows, r0 + chunk);
            for (int jb = 0; jb < wide; jb += width)
            {
                ref float acc = ref MemoryMarshal.GetReference(sum.Slice(jb, width));
                Vector<float> s0 = Vector.LoadUnsafe(ref acc), s1 = Vector.LoadUnsafe(ref acc, (nuint)w);
                Vector<float> s2 = Vector.LoadUnsafe(ref acc, (nuint)(2 * w)), s3 = Vector.LoadUnsafe(ref acc, (nuint)(3 * w));
                Vector<float> s4 = Vector.LoadUnsafe(ref acc, (nuint)(4 * w)), s5 = Vector.LoadUnsafe(ref acc, (nuint)(5 * w));
                Vector<float> s6 = Vector.LoadUnsafe(ref acc, (nuint)(6 * w)), s7 = Vector.LoadUnsafe(ref acc, (nuint)(7 * w));
                for (int r = r0; r < r1; r++)
                {
                    ref float row = ref Unsafe.Add(ref first, (nint)r * cols + jb);
                    s0 += Vector.LoadUnsafe(ref row);
                    s1 += Vector.LoadUnsafe(ref row, (nuint)w);
                    s2 += Vector.LoadUnsafe(ref row, (nuint)(2 * w));
                    s3 += Vector.LoadUnsafe(ref row, (nuint)(3 * w));
                    s4 += Vector.LoadUnsafe(ref row, (nuint)(4 * w));
                    s5 += Vector.LoadUnsafe(ref row, (nuint)(5 * w));
                    s6 += Vector.LoadUnsafe(ref row, (nuint)(6 * w));
                    s7 += Vector.LoadUnsafe(ref row, (nuint)(7 * w));
                }

                s0.StoreUnsafe(ref acc);
                s1.StoreUnsafe(ref acc, (nuint)w);
                s2.StoreUnsafe(ref acc, (nuint)(2 * w));
                s3.StoreUnsafe(ref acc, (nuint)(3 * w));
                s4.StoreUnsafe(ref acc, (nuint)(4 * w));
                s5.StoreUnsafe(ref acc, (nuint)(5 * w));
                s6.StoreUnsafe(ref acc, (nuint)(6 * w));
                s7.StoreUnsafe(ref acc, (nuint)(7 * w));
            }
        }

        int j = wide;
        for (; j <= cols - w; j += w)
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

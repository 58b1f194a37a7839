using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// The baseline a newcomer writes: three nested loops, the inner one over contiguous memory
/// (i-p-j for row-major B, a dot product over p for transposed B), no blocking, no explicit SIMD.
/// </summary>
internal static class NaiveGemm
{
    public static void Multiply(float[] a, float[] b, float[] c, GemmShape s)
    {
        int m = s.M, n = s.N, k = s.K;
        bool tA = s.TransA == Transpose.Transposed, tB = s.TransB == Transpose.Transposed;
        for (int i = 0; i < m; i++)
        {
            Span<float> ci = c.AsSpan(i * n, n);
            if (tB)
            {
                for (int j = 0; j < n; j++)
                {
                    float sum = 0;
                    for (int p = 0; p < k; p++) sum += (tA ? a[p * m + i] : a[i * k + p]) * b[j * k + p];
                    ci[j] = sum;
                }
            }
            else
            {
                ci.Clear();
                for (int p = 0; p < k; p++)
                {
                    float aip = tA ? a[p * m + i] : a[i * k + p];
                    ReadOnlySpan<float> bp = b.AsSpan(p * n, n);
                    for (int j = 0; j < n; j++) ci[j] += aip * bp[j];
                }
            }
        }
    }
}

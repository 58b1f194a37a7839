using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>
/// The textbook triple loop in double precision, with the error bound float accumulation must meet.
/// </summary>
internal static class GemmReference
{
    /// <summary>Element (i, j) of op(X) for a stored matrix with row stride ld.</summary>
    public static double Op(float[] x, int ld, bool transposed, int i, int j) => transposed ? x[j * ld + i] : x[i * ld + j];

    /// <summary>
    /// Returns the expected C (in double, before rounding) and, per element, a bound on the error a float
    /// computation may make: (k + 2) * u * (|alpha| * sum_p |a_ip b_pj| + |beta c_ij|) + (|bias| + ...) * u,
    /// the classical forward error bound of a length-k dot product with unit roundoff u = 2^-24.
    /// </summary>
    public static (double[] Expected, double[] Bound) Compute(float[] a, int lda, bool tA, float[] b, int ldb, bool tB,
        float[] c, int ldc, int m, int n, int k, float alpha, float beta, float[]? bias = null, Activation activation = Activation.None)
    {
        const double u = 1.0 / (1 << 24);
        var expected = new double[c.Length];
        var bound = new double[c.Length];
        for (int i = 0; i < c.Length; i++) expected[i] = c[i];   // untouched padding stays as it was
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double t = Op(a, lda, tA, i, p) * Op(b, ldb, tB, p, j);
                    sum += t;
                    magnitude += Math.Abs(t);
                }

                double old = beta == 0 ? 0 : beta * (double)c[i * ldc + j];
                double value = alpha * sum + old + (bias?[j] ?? 0);
                double err = (k + 4) * u * (Math.Abs(alpha) * magnitude + Math.Abs(old) + Math.Abs(bias?[j] ?? 0)) + 1e-30;
                (value, err) = activation switch
                {
                    Activation.Relu => (Math.Max(value, 0), err),
                    Activation.Sigmoid => (1 / (1 + Math.Exp(-value)), err + 4e-7),   // |sigmoid'| <= 1/4, plus a few ulp
                    Activation.Tanh => (Math.Tanh(value), err + 4e-7),
                    Activation.LeakyRelu => (value > 0 ? value : 0.01 * value, err + 1e-9 * Math.Abs(value)),   // 0.01f is not 0.01 exactly
                    _ => (value, err),
                };
                expected[i * ldc + j] = value;
                bound[i * ldc + j] = err;
            }
        }

        return (expected, bound);
    }

    /// <summary>Asserts every element of C lies within its bound of the reference (padding exactly unchanged).</summary>
    public static void AssertClose(float[] actual, double[] expected, double[] bound, string context)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= bound[i]))
                Assert.Fail($"{context}: element {i} is {actual[i]}, expected {expected[i]} (|diff| {diff:E2} > bound {bound[i]:E2})");
        }
    }
}

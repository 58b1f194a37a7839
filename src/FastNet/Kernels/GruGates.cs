using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FastNet.Kernels;

/// <summary>
/// The element-wise part of one GRU step for one sequence, forward beside backward, in one vectorized pass over
/// the hidden units (rather than one pass per operation): the GEMMs give the projections, this gives the gates.
/// The 512- and 256-bit loops are written out twice because .NET has no public interface over vector widths.
/// </summary>
internal static class GruGates
{
    /// <summary>
    /// r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r (h_n + b_hn)), h_t = n + z (h_{t-1} - n),
    /// where x = W_ih x_t + b_ih + [b_hr, b_hz, 0] and h = W_hh h_{t-1} (each [3H]: r, z, n). Keeps r, z, n and
    /// h_n + b_hn in <paramref name="kept"/> for <see cref="Backward"/>. Row by row; rows of the projections may be apart.
    /// </summary>
    /// <param name="projections">Row b at b x <paramref name="projectionStride"/>: x for that sequence at this step [3H].</param>
    /// <param name="projectionStride">Distance between the rows of <paramref name="projections"/>.</param>
    /// <param name="recurrent">[rows x 3H]: W_hh h_{t-1}.</param>
    /// <param name="recurrentBiasN">b_hn [H].</param>
    /// <param name="previous">[rows x H]: h_{t-1}.</param>
    /// <param name="next">[rows x H]: receives h_t.</param>
    /// <param name="kept">[rows x 4H]: receives r, z, n, h_n + b_hn.</param>
    /// <param name="rows">Sequences in the batch.</param>
    /// <param name="hidden">H.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Forward(ReadOnlySpan<float> projections, int projectionStride, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> recurrentBiasN,
        ReadOnlySpan<float> previous, Span<float> next, Span<float> kept, int rows, int hidden)
    {
        int g = 3 * hidden;
        if (rows <= 0) return;
        if (projections.Length < (long)(rows - 1) * projectionStride + g || recurrent.Length < rows * g || recurrentBiasN.Length < hidden
            || previous.Length < rows * hidden || next.Length < rows * hidden || kept.Length < rows * 4 * hidden)
            throw new ArgumentException("A GRU gate buffer is smaller than the batch needs.");
        ref float x0 = ref MemoryMarshal.GetReference(projections), hp0 = ref MemoryMarshal.GetReference(recurrent);
        ref float bn = ref MemoryMarshal.GetReference(recurrentBiasN);
        ref float prev0 = ref MemoryMarshal.GetReference(previous), h0 = ref MemoryMarshal.GetReference(next);
        ref float k0 = ref MemoryMarshal.GetReference(kept);
        for (int b = 0; b < rows; b++)
        {
            ForwardRow(ref Unsafe.Add(ref x0, (nint)b * projectionStride), ref Unsafe.Add(ref hp0, (nint)b * g), ref bn,
                ref Unsafe.Add(ref prev0, (nint)b * hidden), ref Unsafe.Add(ref h0, (nint)b * hidden), ref Unsafe.Add(ref k0, (nint)b * 4 * hidden), hidden);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardRow(ref float x, ref float hp, ref float bn, ref float prev, ref float h, ref float k, int hidden)
    {
        nint n = hidden, h2 = 2 * n, h3 = 3 * n, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> r = Sigmoid(Vector512.LoadUnsafe(ref x, (nuint)i) + Vector512.LoadUnsafe(ref hp, (nuint)i));
                Vector512<float> z = Sigmoid(Vector512.LoadUnsafe(ref x, (nuint)(n + i)) + Vector512.LoadUnsafe(ref hp, (nuint)(n + i)));
                Vector512<float> hn = Vector512.LoadUnsafe(ref hp, (nuint)(h2 + i)) + Vector512.LoadUnsafe(ref bn, (nuint)i);
                Vector512<float> c = Tanh(Vector512.FusedMultiplyAdd(r, hn, Vector512.LoadUnsafe(ref x, (nuint)(h2 + i))));
                Vector512.FusedMultiplyAdd(z, Vector512.LoadUnsafe(ref prev, (nuint)i) - c, c).StoreUnsafe(ref h, (nuint)i);
                r.StoreUnsafe(ref k, (nuint)i);
                z.StoreUnsafe(ref k, (nuint)(n + i));
                c.StoreUnsafe(ref k, (nuint)(h2 + i));
                hn.StoreUnsafe(ref k, (nuint)(h3 + i));
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> r = Sigmoid(Vector256.LoadUnsafe(ref x, (nuint)i) + Vector256.LoadUnsafe(ref hp, (nuint)i));
                Vector256<float> z = Sigmoid(Vector256.LoadUnsafe(ref x, (nuint)(n + i)) + Vector256.LoadUnsafe(ref hp, (nuint)(n + i)));
                Vector256<float> hn = Vector256.LoadUnsafe(ref hp, (nuint)(h2 + i)) + Vector256.LoadUnsafe(ref bn, (nuint)i);
                Vector256<float> c = Tanh(Vector256.FusedMultiplyAdd(r, hn, Vector256.LoadUnsafe(ref x, (nuint)(h2 + i))));
                Vector256.FusedMultiplyAdd(z, Vector256.LoadUnsafe(ref prev, (nuint)i) - c, c).StoreUnsafe(ref h, (nuint)i);
                r.StoreUnsafe(ref k, (nuint)i);
                z.StoreUnsafe(ref k, (nuint)(n + i));
                c.StoreUnsafe(ref k, (nuint)(h2 + i));
                hn.StoreUnsafe(ref k, (nuint)(h3 + i));
            }
        }

        for (; i < n; i++)
        {
            float r = 1f / (1f + MathF.Exp(-(Unsafe.Add(ref x, i) + Unsafe.Add(ref hp, i))));
            float z = 1f / (1f + MathF.Exp(-(Unsafe.Add(ref x, n + i) + Unsafe.Add(ref hp, n + i))));
            float hn = Unsafe.Add(ref hp, h2 + i) + Unsafe.Add(ref bn, i);
            float c = MathF.Tanh(Unsafe.Add(ref x, h2 + i) + r * hn);
            Unsafe.Add(ref h, i) = c + z * (Unsafe.Add(ref prev, i) - c);
            Unsafe.Add(ref k, i) = r;
            Unsafe.Add(ref k, n + i) = z;
            Unsafe.Add(ref k, h2 + i) = c;
            Unsafe.Add(ref k, h3 + i) = hn;
        }
    }

    /// <summary>
    /// From dLoss/dh_t (<paramref name="dh"/>) and what <see cref="Forward"/> kept, with a_r, a_z, a_n the gate
    /// pre-activations: dn = dh (1 - z), dz = dh (h_{t-1} - n), da_n = dn (1 - n^2), da_r = da_n h_n r (1 - r),
    /// da_z = dz z (1 - z). Writes the input projection's deltas (da_r, da_z, da_n), the recurrent projection's
    /// (da_r, da_z, da_n r; r multiplies it), and the direct part of dLoss/dh_{t-1}, dh z.
    /// </summary>
    /// <param name="dh">[rows x H]: dLoss/dh_t.</param>
    /// <param name="previous">[rows x H]: h_{t-1}.</param>
    /// <param name="kept">[rows x 4H]: what the forward pass kept.</param>
    /// <param name="projectionDeltas">Row b at b x <paramref name="projectionStride"/> [3H]: receives the input projection's deltas.</param>
    /// <param name="projectionStride">Distance between the rows of <paramref name="projectionDeltas"/>.</param>
    /// <param name="recurrentDeltas">[rows x 3H]: receives the recurrent projection's deltas.</param>
    /// <param name="dhPrevious">[rows x H]: receives dh z.</param>
    /// <param name="rows">Sequences in the batch.</param>
    /// <param name="hidden">H.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> previous, ReadOnlySpan<float> kept,
        Span<float> projectionDeltas, int projectionStride, Span<float> recurrentDeltas, Span<float> dhPrevious, int rows, int hidden)
    {
        int g = 3 * hidden;
        if (rows <= 0) return;
        if (dh.Length < rows * hidden || previous.Length < rows * hidden || kept.Length < rows * 4 * hidden
            || projectionDeltas.Length < (long)(rows - 1) * projectionStride + g || recurrentDeltas.Length < rows * g || dhPrevious.Length < rows * hidden)
            throw new ArgumentException("A GRU gate buffer is smaller than the batch needs.");
        ref float d0 = ref MemoryMarshal.GetReference(dh), prev0 = ref MemoryMarshal.GetReference(previous);
        ref float k0 = ref MemoryMarshal.GetReference(kept);
        ref float px0 = ref MemoryMarshal.GetReference(projectionDeltas), ph0 = ref MemoryMarshal.GetReference(recurrentDeltas);
        ref float dp0 = ref MemoryMarshal.GetReference(dhPrevious);
        for (int b = 0; b < rows; b++)
        {
            BackwardRow(ref Unsafe.Add(ref d0, (nint)b * hidden), ref Unsafe.Add(ref prev0, (nint)b * hidden), ref Unsafe.Add(ref k0, (nint)b * 4 * hidden),
                ref Unsafe.Add(ref px0, (nint)b * projectionStride), ref Unsafe.Add(ref ph0, (nint)b * g), ref Unsafe.Add(ref dp0, (nint)b * hidden), hidden);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardRow(ref float d, ref float prev, ref float k, ref float px, ref float ph, ref float dp, int hidden)
    {
        nint n = hidden, h2 = 2 * n, h3 = 3 * n, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> one512 = Vector512<float>.One;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> g = Vector512.LoadUnsafe(ref d, (nuint)i), r = Vector512.LoadUnsafe(ref k, (nuint)i);
                Vector512<float> z = Vector512.LoadUnsafe(ref k, (nuint)(n + i)), c = Vector512.LoadUnsafe(ref k, (nuint)(h2 + i));
                Vector512<float> an = g * (one512 - z) * (one512 - c * c);
                Vector512<float> ar = an * Vector512.LoadUnsafe(ref k, (nuint)(h3 + i)) * r * (one512 - r);
                Vector512<float> az = g * (Vector512.LoadUnsafe(ref prev, (nuint)i) - c) * z * (one512 - z);
                ar.StoreUnsafe(ref px, (nuint)i);
                az.StoreUnsafe(ref px, (nuint)(n + i));
                an.StoreUnsafe(ref px, (nuint)(h2 + i));
                ar.StoreUnsafe(ref ph, (nuint)i);
                az.StoreUnsafe(ref ph, (nuint)(n + i));
                (an * r).StoreUnsafe(ref ph, (nuint)(h2 + i));
                (g * z).StoreUnsafe(ref dp, (nuint)i);
            }
        }

        Vector<float> one = Vector<float>.One;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector<float> g = Load(ref d, i), r = Load(ref k, i), z = Load(ref k, n + i), c = Load(ref k, h2 + i);
            Vector<float> an = g * (one - z) * (one - c * c);
            Vector<float> ar = an * Load(ref k, h3 + i) * r * (one - r);
            Vector<float> az = g * (Load(ref prev, i) - c) * z * (one - z);
            Store(ar, ref px, i);
            Store(az, ref px, n + i);
            Store(an, ref px, h2 + i);
            Store(ar, ref ph, i);
            Store(az, ref ph, n + i);
            Store(an * r, ref ph, h2 + i);
            Store(g * z, ref dp, i);
        }

        for (; i < n; i++)
        {
            float g = Unsafe.Add(ref d, i), r = Unsafe.Add(ref k, i), z = Unsafe.Add(ref k, n + i), c = Unsafe.Add(ref k, h2 + i);
            float an = g * (1f - z) * (1f - c * c);
            float ar = an * Unsafe.Add(ref k, h3 + i) * r * (1f - r);
            float az = g * (Unsafe.Add(ref prev, i) - c) * z * (1f - z);
            Unsafe.Add(ref px, i) = ar;
            Unsafe.Add(ref px, n + i) = az;
            Unsafe.Add(ref px, h2 + i) = an;
            Unsafe.Add(ref ph, i) = ar;
            Unsafe.Add(ref ph, n + i) = az;
            Unsafe.Add(ref ph, h2 + i) = an * r;
            Unsafe.Add(ref dp, i) = g * z;
        }
    }

    /// <summary>1 / (1 + e^-x); NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + VectorExp.Exp(-x));

    /// <summary>tanh x = 2 sigmoid(2x) - 1 (absolute error about 1e-7 near 0, where tanh x ~ x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<float> two = Vector512.Create(2f);
        return two / (Vector512<float>.One + VectorExp.Exp(-two * x)) - Vector512<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + VectorExp.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> two = Vector256.Create(2f);
        return two / (Vector256<float>.One + VectorExp.Exp(-two * x)) - Vector256<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float source, nint offset) => Vector.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref destination, (nuint)offset);
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastNet.Kernels;

/// <summary>
/// The element-wise part of one GRU step for one sequence, forward beside backward, in one vectorized pass over
/// the hidden units (rather than one pass per operation): the GEMMs give the projections, this gives the gates.
/// </summary>
internal static class GruGates
{
    /// <summary>
    /// r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r (h_n + b_hn)), h_t = n + z (h_{t-1} - n),
    /// where x = W_ih x_t + b_ih + [b_hr, b_hz, 0] and h = W_hh h_{t-1} (each [3H]: r, z, n). Keeps r, z, n and
    /// h_n + b_hn in <paramref name="kept"/> [4H] for <see cref="Backward"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> projection, ReadOnlySpan<float> recurrent, ReadOnlySpan<float> recurrentBiasN,
        ReadOnlySpan<float> previous, Span<float> next, Span<float> kept, int hidden)
    {
        ref float x = ref MemoryMarshal.GetReference(projection), hp = ref MemoryMarshal.GetReference(recurrent);
        ref float bn = ref MemoryMarshal.GetReference(recurrentBiasN);
        ref float prev = ref MemoryMarshal.GetReference(previous), h = ref MemoryMarshal.GetReference(next);
        ref float k = ref MemoryMarshal.GetReference(kept);
        nint n = hidden, h2 = 2 * n, h3 = 3 * n, i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector<float> r = Sigmoid(Load(ref x, i) + Load(ref hp, i));
            Vector<float> z = Sigmoid(Load(ref x, n + i) + Load(ref hp, n + i));
            Vector<float> hn = Load(ref hp, h2 + i) + Load(ref bn, i);
            Vector<float> c = Tanh(Vector.FusedMultiplyAdd(r, hn, Load(ref x, h2 + i)));
            Store(Vector.FusedMultiplyAdd(z, Load(ref prev, i) - c, c), ref h, i);
            Store(r, ref k, i);
            Store(z, ref k, n + i);
            Store(c, ref k, h2 + i);
            Store(hn, ref k, h3 + i);
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
    public static void Backward(ReadOnlySpan<float> dh, ReadOnlySpan<float> previous, ReadOnlySpan<float> kept,
        Span<float> projectionDeltas, Span<float> recurrentDeltas, Span<float> dhPrevious, int hidden)
    {
        ref float d = ref MemoryMarshal.GetReference(dh), prev = ref MemoryMarshal.GetReference(previous);
        ref float k = ref MemoryMarshal.GetReference(kept);
        ref float px = ref MemoryMarshal.GetReference(projectionDeltas), ph = ref MemoryMarshal.GetReference(recurrentDeltas);
        ref float dp = ref MemoryMarshal.GetReference(dhPrevious);
        nint n = hidden, h2 = 2 * n, h3 = 3 * n, i = 0;
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

    /// <summary>1 / (1 + e^-x): saturates to exactly 0 or 1, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));

    /// <summary>tanh x = 2 sigmoid(2x) - 1 (absolute error about 1e-7 near 0, where tanh x ~ x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Tanh(Vector<float> x)
    {
        Vector<float> two = Vector.Create(2f);
        return two / (Vector<float>.One + Vector.Exp(-two * x)) - Vector<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(ref float source, nint offset) => Vector.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector<float> value, ref float destination, nint offset) => value.StoreUnsafe(ref destination, (nuint)offset);
}

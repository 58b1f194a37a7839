using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FastNet.Kernels;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE float32 (sign, the same 8 exponent bits, 7 mantissa bits). Weights stored
/// so take half the bytes and keep float32's range; arithmetic stays float32: a value widens back by a 16-bit shift.
/// </summary>
public static class BFloat16
{
    /// <summary>The bfloat16 nearest to <paramref name="value"/>, ties to even; NaN stays NaN (quiet), infinities stay.</summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);   // keep the sign, force a quiet NaN
        // Add just under half an ulp of the 16-bit result, plus 1 when the kept part is odd: ties go to even.
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The float32 value of a bfloat16 (exact).</summary>
    public static float ToSingle(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Rounds every value of <paramref name="source"/> to bfloat16 (<see cref="FromSingle(float)"/>).</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        Guard.MinLength(destination.Length, source.Length, nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = FromSingle(source[i]);
    }

    /// <summary>
    /// y = x B for one row x [k] and B [k x n] row-major in bfloat16, accumulated in float32 with fused multiply-adds:
    /// the batch-1 product of a dense layer whose weights are stored in half the bytes. Each output element sums
    /// over p = 0 .. k-1 in order, so results do not depend on the vector width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void MultiplyRow(ReadOnlySpan<float> x, ReadOnlySpan<ushort> b, int k, int n, Span<float> y)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        Guard.MinLength(x.Length, k, nameof(x));
        Guard.MinLength(b.Length, (long)k * n, nameof(b));
        Guard.MinLength(y.Length, n, nameof(y));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref ushort br = ref MemoryMarshal.GetReference(b);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 128 <= n; j += 128) Block512(ref xr, ref br, k, n, j, ref yr);
            for (; j + 32 <= n; j += 32) Chunk512(ref xr, ref br, k, n, j, ref yr);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64) Block256(ref xr, ref br, k, n, j, ref yr);
            for (; j + 16 <= n; j += 16) Chunk256(ref xr, ref br, k, n, j, ref yr);
        }

        for (; j < n; j++)
        {
            float sum = 0f;
            for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, p), ToSingle(Unsafe.Add(ref br, (nint)p * n + j)), sum);
            Unsafe.Add(ref yr, j) = sum;
        }
    }

    /// <summary>The two float vectors of 32 bfloat16 values: each widened to 32 bits and shifted into the upper half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Low, Vector512<float> High) Widen(Vector512<ushort> values)
    {
        (Vector512<uint> low, Vector512<uint> high) = Vector512.Widen(values);
        return (Vector512.ShiftLeft(low, 16).AsSingle(), Vector512.ShiftLeft(high, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Low, Vector256<float> High) Widen(Vector256<ushort> values)
    {
        (Vector256<uint> low, Vector256<uint> high) = Vector256.Widen(values);
        return (Vector256.ShiftLeft(low, 16).AsSingle(), Vector256.ShiftLeft(high, 16).AsSingle());
    }

    /// <summary>128 columns: 8 accumulators of 16 floats, 4 loads of 32 bfloat16 per row of B.</summary>
    private static void Block512(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n + j);
            (Vector512<float> w0, Vector512<float> w1) = Widen(Vector512.LoadUnsafe(ref row));
            (Vector512<float> w2, Vector512<float> w3) = Widen(Vector512.LoadUnsafe(ref row, 32));
            (Vector512<float> w4, Vector512<float> w5) = Widen(Vector512.LoadUnsafe(ref row, 64));
            (Vector512<float> w6, Vector512<float> w7) = Widen(Vector512.LoadUnsafe(ref row, 96));
            a0 = Vector512.FusedMultiplyAdd(xv, w0, a0);
            a1 = Vector512.FusedMultiplyAdd(xv, w1, a1);
            a2 = Vector512.FusedMultiplyAdd(xv, w2, a2);
            a3 = Vector512.FusedMultiplyAdd(xv, w3, a3);
            a4 = Vector512.FusedMultiplyAdd(xv, w4, a4);
            a5 = Vector512.FusedMultiplyAdd(xv, w5, a5);
            a6 = Vector512.FusedMultiplyAdd(xv, w6, a6);
            a7 = Vector512.FusedMultiplyAdd(xv, w7, a7);
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 16); a2.StoreUnsafe(ref out0, 32); a3.StoreUnsafe(ref out0, 48);
        a4.StoreUnsafe(ref out0, 64); a5.StoreUnsafe(ref out0, 80); a6.StoreUnsafe(ref out0, 96); a7.StoreUnsafe(ref out0, 112);
    }

    private static void Chunk512(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector512<float> a0 = default, a1 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            (Vector512<float> w0, Vector512<float> w1) = Widen(Vector512.LoadUnsafe(ref Unsafe.Add(ref b, (nint)p * n + j)));
            a0 = Vector512.FusedMultiplyAdd(xv, w0, a0);
            a1 = Vector512.FusedMultiplyAdd(xv, w1, a1);
        }

        a0.StoreUnsafe(ref Unsafe.Add(ref y, j));
        a1.StoreUnsafe(ref Unsafe.Add(ref y, j), 16);
    }

    /// <summary>64 columns: 8 accumulators of 8 floats (the 16 ymm registers of AVX2 hold them and the loads), 4 loads of 16 bfloat16 per row.</summary>
    private static void Block256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector256.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n + j);
            (Vector256<float> w0, Vector256<float> w1) = Widen(Vector256.LoadUnsafe(ref row));
            (Vector256<float> w2, Vector256<float> w3) = Widen(Vector256.LoadUnsafe(ref row, 16));
            (Vector256<float> w4, Vector256<float> w5) = Widen(Vector256.LoadUnsafe(ref row, 32));
            (Vector256<float> w6, Vector256<float> w7) = Widen(Vector256.LoadUnsafe(ref row, 48));
            a0 = Vector256.FusedMultiplyAdd(xv, w0, a0);
            a1 = Vector256.FusedMultiplyAdd(xv, w1, a1);
            a2 = Vector256.FusedMultiplyAdd(xv, w2, a2);
            a3 = Vector256.FusedMultiplyAdd(xv, w3, a3);
            a4 = Vector256.FusedMultiplyAdd(xv, w4, a4);
            a5 = Vector256.FusedMultiplyAdd(xv, w5, a5);
            a6 = Vector256.FusedMultiplyAdd(xv, w6, a6);
            a7 = Vector256.FusedMultiplyAdd(xv, w7, a7);
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 8); a2.StoreUnsafe(ref out0, 16); a3.StoreUnsafe(ref out0, 24);
        a4.StoreUnsafe(ref out0, 32); a5.StoreUnsafe(ref out0, 40); a6.StoreUnsafe(ref out0, 48); a7.StoreUnsafe(ref out0, 56);
    }

    private static void Chunk256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector256.Create(Unsafe.Add(ref x, p));
            (Vector256<float> w0, Vector256<float> w1) = Widen(Vector256.LoadUnsafe(ref Unsafe.Add(ref b, (nint)p * n + j)));
            a0 = Vector256.FusedMultiplyAdd(xv, w0, a0);
            a1 = Vector256.FusedMultiplyAdd(xv, w1, a1);
        }

        a0.StoreUnsafe(ref Unsafe.Add(ref y, j));
        a1.StoreUnsafe(ref Unsafe.Add(ref y, j), 8);
    }
}

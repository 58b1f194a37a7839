using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// Dynamic quantization of one row of activations to 7 bits: x ~ scale * (q - zeroPoint), q in [0, 127], over the
/// row's own range [min(0, min x), max(0, max x)] (so 0 is exact, and a ReLU output gets zero point 0).
/// </summary>
/// <remarks>
/// Why 7 bits and not 8: the u8 x s8 multiply-add without VNNI (vpmaddubsw) sums two products into a saturating
/// int16; with q &lt;= 127 and |w| &lt;= 127 that sum is at most 2 * 127 * 127 = 32,258 &lt; 32,767, so it can never
/// saturate, and every path (VNNI, AVX-512BW, AVX2, scalar) computes the same exact integers. The weights keep all
/// of int8.
/// </remarks>
internal static class Int8Activations
{
    /// <summary>The largest quantized activation.</summary>
    public const int MaxLevel = 127;

    /// <summary>
    /// Quantizes <paramref name="x"/> into <paramref name="q"/> (x.Length values, then zeros up to q.Length: the padding
    /// of the last quad). A row that is all zero gets scale 1; a row holding NaN or infinity gets scale NaN, so what is
    /// computed from it is NaN too and the predictor's output check reports it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static (float Scale, int ZeroPoint) Quantize(ReadOnlySpan<float> x, Span<byte> q)
    {
        Guard.MinLength(q.Length, x.Length, nameof(q));
        (float low, float high) = Range(x);
        q.Slice(x.Length).Clear();
        if (!float.IsFinite(high - low))
        {
            q.Clear();
            return (float.NaN, 0);
        }

        if (high == low)
        {
            q.Clear();
            return (1f, 0);
        }

        float scale = (high - low) / MaxLevel;
        int zeroPoint = Math.Clamp((int)MathF.Round(-low / scale), 0, MaxLevel);
        float inverse = 1f / scale;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref byte qr = ref MemoryMarshal.GetReference(q);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var inv = Vector256.Create(inverse);
            var zero = Vector256.Create(zeroPoint);
            var max = Vector256.Create(MaxLevel);
            for (; i + 32 <= x.Length; i += 32)
            {
                Vector256<int> q0 = Level(Vector256.LoadUnsafe(ref xr, (nuint)i), inv, zero, max);
                Vector256<int> q1 = Level(Vector256.LoadUnsafe(ref xr, (nuint)i + 8), inv, zero, max);
                Vector256<int> q2 = Level(Vector256.LoadUnsafe(ref xr, (nuint)i + 16), inv, zero, max);
                Vector256<int> q3 = Level(Vector256.LoadUnsafe(ref xr, (nuint)i + 24), inv, zero, max);
                // Values are in [0, 127]: the truncating narrows keep them, and Narrow keeps element order.
                Vector256<byte> bytes = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).AsByte();
                bytes.StoreUnsafe(ref qr, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
            Unsafe.Add(ref qr, i) = (byte)Math.Clamp((int)MathF.Round(Unsafe.Add(ref xr, i) * inverse) + zeroPoint, 0, MaxLevel);
        return (scale, zeroPoint);
    }

    /// <summary>
    /// [min(0, min x), max(0, max x)] in one pass; NaN when x holds NaN (checked apart: the raw min and max instructions
    /// return their second operand when one is NaN, so a NaN could be dropped).
    /// </summary>
    private static (float Low, float High) Range(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        float low = 0f, high = 0f;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            // Four independent chains of each: one chain would wait for the previous min (a few cycles) every 8 values.
            Vector256<float> lo0 = default, lo1 = default, lo2 = default, lo3 = default, hi0 = default, hi1 = default, hi2 = default, hi3 = default;
            Vector256<float> ordered = Vector256<float>.AllBitsSet;   // lanes stay all ones while no NaN passed (NaN != NaN)
            for (; i + 32 <= x.Length; i += 32)
            {
                Vector256<float> v0 = Vector256.LoadUnsafe(ref xr, (nuint)i), v1 = Vector256.LoadUnsafe(ref xr, (nuint)i + 8);
                Vector256<float> v2 = Vector256.LoadUnsafe(ref xr, (nuint)i + 16), v3 = Vector256.LoadUnsafe(ref xr, (nuint)i + 24);
                lo0 = Vector256.MinNative(lo0, v0); lo1 = Vector256.MinNative(lo1, v1); lo2 = Vector256.MinNative(lo2, v2); lo3 = Vector256.MinNative(lo3, v3);
                hi0 = Vector256.MaxNative(hi0, v0); hi1 = Vector256.MaxNative(hi1, v1); hi2 = Vector256.MaxNative(hi2, v2); hi3 = Vector256.MaxNative(hi3, v3);
                ordered &= Vector256.Equals(v0, v0) & Vector256.Equals(v1, v1) & Vector256.Equals(v2, v2) & Vector256.Equals(v3, v3);
            }

            Vector256<float> lo = Vector256.MinNative(Vector256.MinNative(lo0, lo1), Vector256.MinNative(lo2, lo3));
            Vector256<float> hi = Vector256.MaxNative(Vector256.MaxNative(hi0, hi1), Vector256.MaxNative(hi2, hi3));
            if (ordered.AsUInt32() != Vector256<uint>.AllBitsSet) return (float.NaN, float.NaN);   // as bits: all-ones is a NaN float
            (low, high) = AcrossLanes(lo, hi);
        }

        for (; i < x.Length; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            if (float.IsNaN(v)) return (float.NaN, float.NaN);
            low = MathF.Min(low, v);
            high = MathF.Max(high, v);
        }

        return (low, high);   // an infinity makes high - low infinite: the caller's check
    }

    /// <summary>The smallest lane of <paramref name="low"/> and the largest of <paramref name="high"/> (no lane is NaN).</summary>
    private static (float Low, float High) AcrossLanes(Vector256<float> low, Vector256<float> high)
    {
        float min = low.GetElement(0), max = high.GetElement(0);
        for (int i = 1; i < Vector256<float>.Count; i++)
        {
            min = MathF.Min(min, low.GetElement(i));
            max = MathF.Max(max, high.GetElement(i));
        }

        return (min, max);
    }

    /// <summary>round(x * (1 / scale)) + zeroPoint, clamped to [0, 127]: the scalar loop's arithmetic, 8 lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Level(Vector256<float> x, Vector256<float> inverse, Vector256<int> zeroPoint, Vector256<int> max) =>
        Vector256.Min(Vector256.Max(RoundToInt32(x * inverse) + zeroPoint, Vector256<int>.Zero), max);

    /// <summary>
    /// To the nearest integer, ties to even: one vcvtps2dq on x86 (which rounds by MXCSR, nearest-even unless code changes
    /// it, and .NET never does), else a round and a conversion. |x| &lt;= 128 here: nothing overflows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RoundToInt32(Vector256<float> x) =>
        Avx.IsSupported ? Avx.ConvertToVector256Int32(x) : Vector256.ConvertToInt32Native(Vector256.Round(x));
}

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
        if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && x.Length >= 64)   // 512-bit only where .NET prefers it (GemmConfiguration.Avx512NotPreferred)
        {
            var inv = Vector512.Create(inverse);
            var zero = Vector512.Create(zeroPoint);
            for (int i = 0; ; i += 64)   // as below, by 64
            {
                int at = Math.Min(i, x.Length - 64);
                Levels(ref Unsafe.Add(ref xr, at), inv, zero).StoreUnsafe(ref qr, (nuint)at);
                if (at == x.Length - 64) break;
            }

            return (scale, zeroPoint);
        }

        if (Avx2.IsSupported && x.Length >= 32)
        {
            var inv = Vector256.Create(inverse);
            var zero = Vector256.Create(zeroPoint);
            // Blocks of 32; the last block ends at the row's end and overlaps the one before (the overlapping levels
            // are computed twice, the same way): no scalar tail.
            for (int i = 0; ; i += 32)
            {
                int at = Math.Min(i, x.Length - 32);
                Levels(ref Unsafe.Add(ref xr, at), inv, zero).StoreUnsafe(ref qr, (nuint)at);
                if (at == x.Length - 32) break;
            }

            return (scale, zeroPoint);
        }

        for (int i = 0; i < x.Length; i++)
            Unsafe.Add(ref qr, i) = (byte)Math.Clamp((int)MathF.Round(Unsafe.Add(ref xr, i) * inverse) + zeroPoint, 0, MaxLevel);
        return (scale, zeroPoint);
    }

    /// <summary>
    /// The levels of 32 values, clamp(round(x * (1 / scale)) + zeroPoint, 0, 127), in order: the scalar loop's arithmetic.
    /// vcvtps2dq rounds to nearest even (MXCSR's default, which .NET never changes) and cannot overflow (|x / scale| &lt;= 128
    /// here); the saturating packs to int16 and then to [0, 255] are exact on these values and do the clamp at 0, a byte
    /// minimum the clamp at 127; the packs interleave the 128-bit lanes, which one permutation puts back in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Levels(ref float x, Vector256<float> inverse, Vector256<int> zeroPoint)
    {
        Vector256<int> q0 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref x) * inverse) + zeroPoint;
        Vector256<int> q1 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref x, 8) * inverse) + zeroPoint;
        Vector256<int> q2 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref x, 16) * inverse) + zeroPoint;
        Vector256<int> q3 = Avx.ConvertToVector256Int32(Vector256.LoadUnsafe(ref x, 24) * inverse) + zeroPoint;
        // Per 128-bit lane: [q0 lo, q1 lo | q0 hi, q1 hi] as int16, then bytes [q0 lo, q1 lo, q2 lo, q3 lo | q0 hi, q1 hi, q2 hi, q3 hi].
        Vector256<byte> packed = Avx2.PackUnsignedSaturate(Avx2.PackSignedSaturate(q0, q1), Avx2.PackSignedSaturate(q2, q3));
        packed = Avx2.Min(packed, Vector256.Create((byte)MaxLevel));
        // 4-byte groups are now in the order q0 lo, q1 lo, q2 lo, q3 lo, q0 hi, q1 hi, q2 hi, q3 hi: gather 0, 4, 1, 5, 2, 6, 3, 7.
        return Avx2.PermuteVar8x32(packed.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
    }

    /// <summary><see cref="Levels(ref float, Vector256{float}, Vector256{int})"/> of 64 values: the packs interleave four 128-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Levels(ref float x, Vector512<float> inverse, Vector512<int> zeroPoint)
    {
        Vector512<int> q0 = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref x) * inverse) + zeroPoint;
        Vector512<int> q1 = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref x, 16) * inverse) + zeroPoint;
        Vector512<int> q2 = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref x, 32) * inverse) + zeroPoint;
        Vector512<int> q3 = Avx512F.ConvertToVector512Int32(Vector512.LoadUnsafe(ref x, 48) * inverse) + zeroPoint;
        Vector512<byte> packed = Avx512BW.PackUnsignedSaturate(Avx512BW.PackSignedSaturate(q0, q1), Avx512BW.PackSignedSaturate(q2, q3));
        packed = Avx512BW.Min(packed, Vector512.Create((byte)MaxLevel));
        // 4-byte group 4L + m holds vector m's values of lane L; in order, group 4m + L must come first.
        return Avx512F.PermuteVar16x32(packed.AsInt32(), Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)).AsByte();
    }

    /// <summary>
    /// [min(0, min x), max(0, max x)] in one pass; NaN when x holds NaN (checked apart: the raw min and max instructions
    /// return their second operand when one is NaN, so a NaN could be dropped).
    /// </summary>
    private static (float Low, float High) Range(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        float low = 0f, high = 0f;
        if (Vector512.IsHardwareAccelerated && x.Length >= 64)
        {
            // As below, by 64: four chains of 16.
            Vector512<float> lo0 = default, lo1 = default, lo2 = default, lo3 = default, hi0 = default, hi1 = default, hi2 = default, hi3 = default;
            Vector512<float> ordered = Vector512<float>.AllBitsSet;
            for (int i = 0; ; i += 64)
            {
                int at = Math.Min(i, x.Length - 64);
                ref float block = ref Unsafe.Add(ref xr, at);
                Vector512<float> v0 = Vector512.LoadUnsafe(ref block), v1 = Vector512.LoadUnsafe(ref block, 16);
                Vector512<float> v2 = Vector512.LoadUnsafe(ref block, 32), v3 = Vector512.LoadUnsafe(ref block, 48);
                lo0 = Vector512.MinNative(lo0, v0); lo1 = Vector512.MinNative(lo1, v1); lo2 = Vector512.MinNative(lo2, v2); lo3 = Vector512.MinNative(lo3, v3);
                hi0 = Vector512.MaxNative(hi0, v0); hi1 = Vector512.MaxNative(hi1, v1); hi2 = Vector512.MaxNative(hi2, v2); hi3 = Vector512.MaxNative(hi3, v3);
                ordered &= Vector512.Equals(v0, v0) & Vector512.Equals(v1, v1) & Vector512.Equals(v2, v2) & Vector512.Equals(v3, v3);
                if (at == x.Length - 64) break;
            }

            Vector512<float> lo = Vector512.MinNative(Vector512.MinNative(lo0, lo1), Vector512.MinNative(lo2, lo3));
            Vector512<float> hi = Vector512.MaxNative(Vector512.MaxNative(hi0, hi1), Vector512.MaxNative(hi2, hi3));
            if (ordered.AsUInt32() != Vector512<uint>.AllBitsSet) return (float.NaN, float.NaN);
            return AcrossLanes(Vector256.MinNative(lo.GetLower(), lo.GetUpper()), Vector256.MaxNative(hi.GetLower(), hi.GetUpper()));
        }

        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            // Four independent chains of each: one chain would wait for the previous min (a few cycles) every 8 values.
            Vector256<float> lo0 = default, lo1 = default, lo2 = default, lo3 = default, hi0 = default, hi1 = default, hi2 = default, hi3 = default;
            Vector256<float> ordered = Vector256<float>.AllBitsSet;   // lanes stay all ones while no NaN passed (NaN != NaN)
            // Blocks of 32, the last one ending at the row's end (it may overlap the one before: min and max do not mind).
            for (int i = 0; ; i += 32)
            {
                int at = Math.Min(i, x.Length - 32);
                ref float block = ref Unsafe.Add(ref xr, at);
                Vector256<float> v0 = Vector256.LoadUnsafe(ref block), v1 = Vector256.LoadUnsafe(ref block, 8);
                Vector256<float> v2 = Vector256.LoadUnsafe(ref block, 16), v3 = Vector256.LoadUnsafe(ref block, 24);
                lo0 = Vector256.MinNative(lo0, v0); lo1 = Vector256.MinNative(lo1, v1); lo2 = Vector256.MinNative(lo2, v2); lo3 = Vector256.MinNative(lo3, v3);
                hi0 = Vector256.MaxNative(hi0, v0); hi1 = Vector256.MaxNative(hi1, v1); hi2 = Vector256.MaxNative(hi2, v2); hi3 = Vector256.MaxNative(hi3, v3);
                ordered &= Vector256.Equals(v0, v0) & Vector256.Equals(v1, v1) & Vector256.Equals(v2, v2) & Vector256.Equals(v3, v3);
                if (at == x.Length - 32) break;
            }

            Vector256<float> lo = Vector256.MinNative(Vector256.MinNative(lo0, lo1), Vector256.MinNative(lo2, lo3));
            Vector256<float> hi = Vector256.MaxNative(Vector256.MaxNative(hi0, hi1), Vector256.MaxNative(hi2, hi3));
            if (ordered.AsUInt32() != Vector256<uint>.AllBitsSet) return (float.NaN, float.NaN);   // as bits: all-ones is a NaN float
            return AcrossLanes(lo, hi);   // an infinity makes high - low infinite: the caller's check
        }

        for (int i = 0; i < x.Length; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            if (float.IsNaN(v)) return (float.NaN, float.NaN);
            low = MathF.Min(low, v);
            high = MathF.Max(high, v);
        }

        return (low, high);   // an infinity makes high - low infinite: the caller's check
    }

    /// <summary>
    /// The smallest lane of <paramref name="low"/> and the largest of <paramref name="high"/> (no lane is NaN), by halving:
    /// 8 lanes to 4, 2, 1. Where the raw instructions differ from MathF (which of +0 and -0 wins) the range does not change.
    /// </summary>
    private static (float Low, float High) AcrossLanes(Vector256<float> low, Vector256<float> high)
    {
        Vector128<float> lo = Vector128.MinNative(low.GetLower(), low.GetUpper()), hi = Vector128.MaxNative(high.GetLower(), high.GetUpper());
        lo = Vector128.MinNative(lo, Vector128.Shuffle(lo, Vector128.Create(2, 3, 0, 1)));
        hi = Vector128.MaxNative(hi, Vector128.Shuffle(hi, Vector128.Create(2, 3, 0, 1)));
        lo = Vector128.MinNative(lo, Vector128.Shuffle(lo, Vector128.Create(1, 0, 3, 2)));
        hi = Vector128.MaxNative(hi, Vector128.Shuffle(hi, Vector128.Create(1, 0, 3, 2)));
        return (lo.ToScalar(), hi.ToScalar());
    }
}

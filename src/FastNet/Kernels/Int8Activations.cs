using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        float low = MathF.Min(0f, TensorPrimitives.Min(x)), high = MathF.Max(0f, TensorPrimitives.Max(x));
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

    /// <summary>round(x * (1 / scale)) + zeroPoint, clamped to [0, 127]: the scalar loop's arithmetic, 8 lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Level(Vector256<float> x, Vector256<float> inverse, Vector256<int> zeroPoint, Vector256<int> max) =>
        Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(x * inverse)) + zeroPoint, Vector256<int>.Zero), max);
}

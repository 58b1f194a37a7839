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

    /// <summary>Columns of B in one packed group: 32 bfloat16 values, two per 32-bit lane.</summary>
    public const int PackedGroup = 32;

    /// <summary>
    /// B [k x n] row-major, rounded to bfloat16 and packed for <see cref="MultiplyRow"/>: in each row every full group of 32
    /// columns is stored as 16 pairs (column i, column i + 16), so one 32-bit lane widens to two floats with one shift
    /// (the low column) and one mask (the high one), and both land in column order; the last n mod 32 columns stay as
    /// they are.
    /// </summary>
    public static ushort[] PackRows(ReadOnlySpan<float> b, int k, int n)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        Guard.MinLength(b.Length, (long)k * n, nameof(b));
        var packed = new ushort[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) packed[p * n + PackedColumn(j, n)] = FromSingle(b[p * n + j]);
        return packed;
    }

    /// <summary>Where column <paramref name="j"/> of a row of <paramref name="n"/> columns lies in <see cref="PackRows"/>' layout.</summary>
    internal static int PackedColumn(int j, int n)
    {
        int group = j / PackedGroup * PackedGroup;
        if (group + PackedGroup > n) return j;   // the tail keeps its order
        int i = j - group;
        return group + (i < 16 ? 2 * i : 2 * (i - 16) + 1);
    }

    /// <summary>
    /// y = x B for one row x [k] and B [k x n] in bfloat16 as <see cref="PackRows"/> lays it out, accumulated in float32
    /// with fused multiply-adds: the batch-1 product of a dense layer whose weights take half the bytes. Each output
    /// element sums over p = 0 .. k-1 in order, so results do not depend on the vector width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void MultiplyRow(ReadOnlySpan<float> x, ReadOnlySpan<ushort> packed, int k, int n, Span<float> y)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        Guard.MinLength(x.Length, k, nameof(x));
        Guard.MinLength(packed.Length, (long)k * n, nameof(packed));
        Guard.MinLength(y.Length, n, nameof(y));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref ushort br = ref MemoryMarshal.GetReference(packed);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int j = 0;
        if (Vector512.IsHardwareAccelerated && n >= WideColumns)
        {
            j = Wide512(ref xr, ref br, k, n, ref yr);
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 128 <= n; j += 128) Block512(ref xr, ref br, k, n, j, ref yr);
            for (; j + 32 <= n; j += 32) Group512(ref xr, ref br, k, n, j, ref yr);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64) Block256(ref xr, ref br, k, n, j, ref yr);
            for (; j + 32 <= n; j += 32) Group256(ref xr, ref br, k, n, j, ref yr);
        }

        for (; j < n; j++)
        {
            int column = PackedColumn(j, n);
            float sum = 0f;
            for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, p), ToSingle(Unsafe.Add(ref br, (nint)p * n + column)), sum);
            Unsafe.Add(ref yr, j) = sum;
        }
    }

    /// <summary>A packed lane pair as floats: the low 16 bits shifted up (columns i), the high 16 bits masked (columns i + 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Low, Vector512<float> High) Unpack(ref ushort at, nint offset)
    {
        Vector512<uint> pairs = Vector512.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref at, offset)));
        return (Vector512.ShiftLeft(pairs, 16).AsSingle(), (pairs & Vector512.Create(0xFFFF0000u)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Low, Vector256<float> High) Unpack256(ref ushort at, nint offset)
    {
        Vector256<uint> pairs = Vector256.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref at, offset)));
        return (Vector256.ShiftLeft(pairs, 16).AsSingle(), (pairs & Vector256.Create(0xFFFF0000u)).AsSingle());
    }

    /// <summary>From this width on, rows are streamed whole (<see cref="Wide512"/>), as the float32 GEMV does for wide B.</summary>
    private const int WideColumns = 512;

    /// <summary>
    /// For wide B: y += x[p..p+7] B[p..p+7, :] over all full groups, eight whole rows at a time, so B is read front to back
    /// as eight sequential streams the prefetcher follows and y (a few KB) stays in L1; column blocks would walk B with a
    /// stride of one row per step. Eight rather than four: y's load and store per group then serve twice the weights
    /// (T2 batch-1 about 4% faster on Zen 5). The FMAs per element run in the same order (p ascending). Returns the
    /// columns done.
    /// </summary>
    private static int Wide512(ref float x, ref ushort b, int k, int n, ref float y)
    {
        int end = n / PackedGroup * PackedGroup;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var x0 = Vector512.Create(Unsafe.Add(ref x, p));
            var x1 = Vector512.Create(Unsafe.Add(ref x, p + 1));
            var x2 = Vector512.Create(Unsafe.Add(ref x, p + 2));
            var x3 = Vector512.Create(Unsafe.Add(ref x, p + 3));
            var x4 = Vector512.Create(Unsafe.Add(ref x, p + 4));
            var x5 = Vector512.Create(Unsafe.Add(ref x, p + 5));
            var x6 = Vector512.Create(Unsafe.Add(ref x, p + 6));
            var x7 = Vector512.Create(Unsafe.Add(ref x, p + 7));
            ref ushort r0 = ref Unsafe.Add(ref b, (nint)p * n);
            ref ushort r1 = ref Unsafe.Add(ref r0, n), r2 = ref Unsafe.Add(ref r1, n), r3 = ref Unsafe.Add(ref r2, n);
            ref ushort r4 = ref Unsafe.Add(ref r3, n), r5 = ref Unsafe.Add(ref r4, n), r6 = ref Unsafe.Add(ref r5, n), r7 = ref Unsafe.Add(ref r6, n);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref float at = ref Unsafe.Add(ref y, j);
                Vector512<float> low = p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at);
                Vector512<float> high = p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at, 16);
                (Vector512<float> l0, Vector512<float> h0) = Unpack(ref r0, j);
                (Vector512<float> l1, Vector512<float> h1) = Unpack(ref r1, j);
                (Vector512<float> l2, Vector512<float> h2) = Unpack(ref r2, j);
                (Vector512<float> l3, Vector512<float> h3) = Unpack(ref r3, j);
                (Vector512<float> l4, Vector512<float> h4) = Unpack(ref r4, j);
                (Vector512<float> l5, Vector512<float> h5) = Unpack(ref r5, j);
                (Vector512<float> l6, Vector512<float> h6) = Unpack(ref r6, j);
                (Vector512<float> l7, Vector512<float> h7) = Unpack(ref r7, j);
                low = Vector512.FusedMultiplyAdd(x3, l3, Vector512.FusedMultiplyAdd(x2, l2, Vector512.FusedMultiplyAdd(x1, l1, Vector512.FusedMultiplyAdd(x0, l0, low))));
                high = Vector512.FusedMultiplyAdd(x3, h3, Vector512.FusedMultiplyAdd(x2, h2, Vector512.FusedMultiplyAdd(x1, h1, Vector512.FusedMultiplyAdd(x0, h0, high))));
                low = Vector512.FusedMultiplyAdd(x7, l7, Vector512.FusedMultiplyAdd(x6, l6, Vector512.FusedMultiplyAdd(x5, l5, Vector512.FusedMultiplyAdd(x4, l4, low))));
                high = Vector512.FusedMultiplyAdd(x7, h7, Vector512.FusedMultiplyAdd(x6, h6, Vector512.FusedMultiplyAdd(x5, h5, Vector512.FusedMultiplyAdd(x4, h4, high))));
                low.StoreUnsafe(ref at);
                high.StoreUnsafe(ref at, 16);
            }
        }

        for (; p < k; p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref float at = ref Unsafe.Add(ref y, j);
                (Vector512<float> l, Vector512<float> h) = Unpack(ref row, j);
                Vector512.FusedMultiplyAdd(xv, l, p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at)).StoreUnsafe(ref at);
                Vector512.FusedMultiplyAdd(xv, h, p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at, 16)).StoreUnsafe(ref at, 16);
            }
        }

        return end;
    }

    /// <summary>128 columns (4 groups): 8 accumulators of 16 floats.</summary>
    private static void Block512(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n + j);
            (Vector512<float> w0, Vector512<float> w1) = Unpack(ref row, 0);
            (Vector512<float> w2, Vector512<float> w3) = Unpack(ref row, 32);
            (Vector512<float> w4, Vector512<float> w5) = Unpack(ref row, 64);
            (Vector512<float> w6, Vector512<float> w7) = Unpack(ref row, 96);
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

    private static void Group512(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector512<float> a0 = default, a1 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            (Vector512<float> w0, Vector512<float> w1) = Unpack(ref Unsafe.Add(ref b, (nint)p * n + j), 0);
            a0 = Vector512.FusedMultiplyAdd(xv, w0, a0);
            a1 = Vector512.FusedMultiplyAdd(xv, w1, a1);
        }

        a0.StoreUnsafe(ref Unsafe.Add(ref y, j));
        a1.StoreUnsafe(ref Unsafe.Add(ref y, j), 16);
    }

    /// <summary>
    /// 64 columns (2 groups) with 8 accumulators of 8 floats (the 16 ymm registers of AVX2 hold them and the loads). A
    /// group's first 8 lanes hold columns 0-7 and 16-23, its next 8 lanes columns 8-15 and 24-31.
    /// </summary>
    private static void Block256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector256.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n + j);
            (Vector256<float> c0, Vector256<float> c16) = Unpack256(ref row, 0);
            (Vector256<float> c8, Vector256<float> c24) = Unpack256(ref row, 16);
            (Vector256<float> c32, Vector256<float> c48) = Unpack256(ref row, 32);
            (Vector256<float> c40, Vector256<float> c56) = Unpack256(ref row, 48);
            a0 = Vector256.FusedMultiplyAdd(xv, c0, a0);
            a1 = Vector256.FusedMultiplyAdd(xv, c8, a1);
            a2 = Vector256.FusedMultiplyAdd(xv, c16, a2);
            a3 = Vector256.FusedMultiplyAdd(xv, c24, a3);
            a4 = Vector256.FusedMultiplyAdd(xv, c32, a4);
            a5 = Vector256.FusedMultiplyAdd(xv, c40, a5);
            a6 = Vector256.FusedMultiplyAdd(xv, c48, a6);
            a7 = Vector256.FusedMultiplyAdd(xv, c56, a7);
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 8); a2.StoreUnsafe(ref out0, 16); a3.StoreUnsafe(ref out0, 24);
        a4.StoreUnsafe(ref out0, 32); a5.StoreUnsafe(ref out0, 40); a6.StoreUnsafe(ref out0, 48); a7.StoreUnsafe(ref out0, 56);
    }

    private static void Group256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int p = 0; p < k; p++)
        {
            var xv = Vector256.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)p * n + j);
            (Vector256<float> c0, Vector256<float> c16) = Unpack256(ref row, 0);
            (Vector256<float> c8, Vector256<float> c24) = Unpack256(ref row, 16);
            a0 = Vector256.FusedMultiplyAdd(xv, c0, a0);
            a1 = Vector256.FusedMultiplyAdd(xv, c8, a1);
            a2 = Vector256.FusedMultiplyAdd(xv, c16, a2);
            a3 = Vector256.FusedMultiplyAdd(xv, c24, a3);
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 8); a2.StoreUnsafe(ref out0, 16); a3.StoreUnsafe(ref out0, 24);
    }
}

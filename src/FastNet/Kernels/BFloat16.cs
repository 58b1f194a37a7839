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

    /// <summary>Rows of a wide B (n of at least 512) in one packed block: a block's values for one group of columns lie together.</summary>
    public const int PackedRows = 8;

    /// <summary>
    /// B [k x n] row-major, rounded to bfloat16 and packed for <see cref="MultiplyRow"/>. Rows go in blocks: of
    /// <see cref="PackedRows"/> when n is 512 or more (the last block may have fewer), else of one row; a block takes its
    /// rows' values in place. Inside a block, each full group of 32 columns holds the block's rows one after another, and
    /// each row's 32 values as 16 pairs (column i, column i + 16), so one 32-bit lane widens to two floats with one shift
    /// (the low column) and one mask (the high one), both landing in column order; the last n mod 32 columns follow, row by
    /// row, in order. A batch-1 product of a wide B then reads it front to back in one stream, 8 rows at a time (a
    /// narrower B is read a column block at a time down all rows: row by row suits that).
    /// </summary>
    public static ushort[] PackRows(ReadOnlySpan<float> b, int k, int n)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        Guard.MinLength(b.Length, (long)k * n, nameof(b));
        var packed = new ushort[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) packed[PackedIndex(p, j, k, n)] = FromSingle(b[p * n + j]);
        return packed;
    }

    /// <summary>Rows per block of <see cref="PackRows"/>' layout for a B of <paramref name="n"/> columns.</summary>
    private static int BlockRows(int n) => n >= WideColumns ? PackedRows : 1;

    /// <summary>Where B[p, j] lies in <see cref="PackRows"/>' layout.</summary>
    internal static int PackedIndex(int p, int j, int k, int n)
    {
        int height = BlockRows(n), block = p / height * height, rows = Math.Min(height, k - block), r = p - block;
        int full = n / PackedGroup * PackedGroup;
        if (j >= full) return block * n + full * rows + r * (n - full) + (j - full);
        int group = j / PackedGroup * PackedGroup, i = j - group;
        return block * n + group * rows + r * PackedGroup + (i < 16 ? 2 * i : 2 * (i - 16) + 1);
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
        else if (Vector256.IsHardwareAccelerated && n >= WideColumns)
        {
            j = Wide256(ref xr, ref br, k, n, ref yr);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64) Block256(ref xr, ref br, k, n, j, ref yr);
            for (; j + 32 <= n; j += 32) Group256(ref xr, ref br, k, n, j, ref yr);
        }

        // Without vectors (or for groups the vector paths left): column by column through the layout's index.
        for (int full = n / PackedGroup * PackedGroup; j < full; j++)
        {
            float sum = 0f;
            for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, p), ToSingle(Unsafe.Add(ref br, PackedIndex(p, j, k, n))), sum);
            Unsafe.Add(ref yr, j) = sum;
        }

        if (j < n) Tail(ref xr, ref br, k, n, j, ref yr);
    }

    /// <summary>
    /// The last n mod 32 columns, from <paramref name="first"/> (in each block after its full groups, row by row; see
    /// <see cref="PackRows"/>). With vectors, blocks of 8 columns down all rows, the sums in registers, the last block ending
    /// at n (overlapping columns get the same bits twice); else in scalar arithmetic, rows outermost, so the columns' sums
    /// are independent chains (one column at a time would wait out an FMA's latency per row). Either way each sum runs
    /// in order of p with fused multiply-adds: the same bits.
    /// </summary>
    private static void Tail(ref float x, ref ushort b, int k, int n, int first, ref float y)
    {
        int tail = n - first, height = BlockRows(n);
        if (Vector256.IsHardwareAccelerated && tail >= 8)
        {
            // Two blocks of 8 columns per pass: two independent chains hide the FMA latency (one would wait it out per row).
            int last = tail - 8;
            for (int c = 0; ; c += 16)
            {
                int at0 = Math.Min(c, last), at1 = Math.Min(c + 8, last);
                Vector256<float> sum0 = default, sum1 = default;
                for (int block = 0; block < k; block += height)
                {
                    int rows = Math.Min(height, k - block);
                    ref ushort values = ref Unsafe.Add(ref b, (nint)block * n + (nint)first * rows);
                    for (int r = 0; r < rows; r++)
                    {
                        var xp = Vector256.Create(Unsafe.Add(ref x, block + r));
                        ref ushort row = ref Unsafe.Add(ref values, r * tail);
                        sum0 = Vector256.FusedMultiplyAdd(xp, Widen(Vector128.LoadUnsafe(ref Unsafe.Add(ref row, at0))), sum0);
                        sum1 = Vector256.FusedMultiplyAdd(xp, Widen(Vector128.LoadUnsafe(ref Unsafe.Add(ref row, at1))), sum1);
                    }
                }

                sum0.StoreUnsafe(ref Unsafe.Add(ref y, first + at0));
                sum1.StoreUnsafe(ref Unsafe.Add(ref y, first + at1));
                if (at1 == last) return;
            }
        }

        for (int j = first; j < n; j++) Unsafe.Add(ref y, j) = 0f;
        for (int block = 0; block < k; block += height)
        {
            int rows = Math.Min(height, k - block);
            ref ushort values = ref Unsafe.Add(ref b, (nint)block * n + (nint)first * rows);
            for (int r = 0; r < rows; r++)
            {
                float xp = Unsafe.Add(ref x, block + r);
                ref ushort row = ref Unsafe.Add(ref values, r * tail);
                for (int t = 0; t < tail; t++)
                    Unsafe.Add(ref y, first + t) = MathF.FusedMultiplyAdd(xp, ToSingle(Unsafe.Add(ref row, t)), Unsafe.Add(ref y, first + t));
            }
        }
    }

    /// <summary>8 bfloat16 values as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(Vector128<ushort> v) =>
        Vector256.ShiftLeft(Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v)), 16).AsSingle();

    /// <summary>A packed lane pair as floats: the low 16 bits shifted up (columns i), the high 16 bits masked (columns i + 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Low, Vector512<float> High) Unpack(ref ushort at, nint offset)
    {
        Vector512<uint> pairs = Vector512.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref at, offset)));
        return (Vector512.ShiftLeft(pairs, 16).AsSingle(), (pairs & Vector512.Create(0xFFFF0000u)).AsSingle());
    }

    /// <summary>8 packed lane pairs (16 bfloat16 values); <see cref="Low"/> and <see cref="High"/> widen them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Pairs256(ref ushort at, nint offset)
        => Vector256.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref Unsafe.Add(ref at, offset)));

    /// <summary>The low value of each pair as a float (columns i).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Low(Vector256<uint> pairs) => Vector256.ShiftLeft(pairs, 16).AsSingle();

    /// <summary>The high value of each pair as a float (columns i + 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> High(Vector256<uint> pairs) => (pairs & Vector256.Create(0xFFFF0000u)).AsSingle();

    /// <summary>From this width on, B is streamed whole, 8 rows per pass (<see cref="Wide512"/>), as the float32 GEMV does for wide B.</summary>
    private const int WideColumns = 512;

    /// <summary>
    /// For wide B: y += x[p..p+7] B[p..p+7, :] over all full groups, one block of 8 rows per pass, so B is read front to
    /// back in one stream and y (a few KB) stays in L1, each load and store of it serving 8 rows' weights; column blocks
    /// would walk B with a stride of a block per step. The FMAs per element run in the same order (p ascending). Returns
    /// the columns done.
    /// </summary>
    private static int Wide512(ref float x, ref ushort b, int k, int n, ref float y)
    {
        int end = n / PackedGroup * PackedGroup;
        int p = 0;
        for (; p + PackedRows <= k; p += PackedRows)
        {
            var x0 = Vector512.Create(Unsafe.Add(ref x, p));
            var x1 = Vector512.Create(Unsafe.Add(ref x, p + 1));
            var x2 = Vector512.Create(Unsafe.Add(ref x, p + 2));
            var x3 = Vector512.Create(Unsafe.Add(ref x, p + 3));
            var x4 = Vector512.Create(Unsafe.Add(ref x, p + 4));
            var x5 = Vector512.Create(Unsafe.Add(ref x, p + 5));
            var x6 = Vector512.Create(Unsafe.Add(ref x, p + 6));
            var x7 = Vector512.Create(Unsafe.Add(ref x, p + 7));
            ref ushort block = ref Unsafe.Add(ref b, (nint)p * n);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref ushort g = ref Unsafe.Add(ref block, (nint)j * PackedRows);   // the block's 8 rows of this group, 32 values each
                ref float at = ref Unsafe.Add(ref y, j);
                Vector512<float> low = p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at);
                Vector512<float> high = p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at, 16);
                (Vector512<float> l0, Vector512<float> h0) = Unpack(ref g, 0);
                (Vector512<float> l1, Vector512<float> h1) = Unpack(ref g, 32);
                (Vector512<float> l2, Vector512<float> h2) = Unpack(ref g, 64);
                (Vector512<float> l3, Vector512<float> h3) = Unpack(ref g, 96);
                (Vector512<float> l4, Vector512<float> h4) = Unpack(ref g, 128);
                (Vector512<float> l5, Vector512<float> h5) = Unpack(ref g, 160);
                (Vector512<float> l6, Vector512<float> h6) = Unpack(ref g, 192);
                (Vector512<float> l7, Vector512<float> h7) = Unpack(ref g, 224);
                low = Vector512.FusedMultiplyAdd(x3, l3, Vector512.FusedMultiplyAdd(x2, l2, Vector512.FusedMultiplyAdd(x1, l1, Vector512.FusedMultiplyAdd(x0, l0, low))));
                high = Vector512.FusedMultiplyAdd(x3, h3, Vector512.FusedMultiplyAdd(x2, h2, Vector512.FusedMultiplyAdd(x1, h1, Vector512.FusedMultiplyAdd(x0, h0, high))));
                low = Vector512.FusedMultiplyAdd(x7, l7, Vector512.FusedMultiplyAdd(x6, l6, Vector512.FusedMultiplyAdd(x5, l5, Vector512.FusedMultiplyAdd(x4, l4, low))));
                high = Vector512.FusedMultiplyAdd(x7, h7, Vector512.FusedMultiplyAdd(x6, h6, Vector512.FusedMultiplyAdd(x5, h5, Vector512.FusedMultiplyAdd(x4, h4, high))));
                low.StoreUnsafe(ref at);
                high.StoreUnsafe(ref at, 16);
            }
        }

        // The last block's rows, fewer than 8, one at a time.
        int rows = k - p;
        for (int r = 0; r < rows; r++, p++)
        {
            var xv = Vector512.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)(k - rows) * n + r * PackedGroup);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref float at = ref Unsafe.Add(ref y, j);
                (Vector512<float> l, Vector512<float> h) = Unpack(ref row, (nint)j * rows);
                Vector512.FusedMultiplyAdd(xv, l, p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at)).StoreUnsafe(ref at);
                Vector512.FusedMultiplyAdd(xv, h, p == 0 ? Vector512<float>.Zero : Vector512.LoadUnsafe(ref at, 16)).StoreUnsafe(ref at, 16);
            }
        }

        return end;
    }

    /// <summary>
    /// <see cref="Wide512"/> in 256-bit vectors (AVX2): per group of 32 columns four accumulators (columns 0-7, 8-15,
    /// 16-23, 24-31) loaded from y, the block's 8 rows multiplied in, stored back. The same order per element (p
    /// ascending, fused multiply-adds), so the same bits as the column blocks it replaces, which walked a 1024-wide B a
    /// block of rows (16 KB) per step: see bench/results/zen5-avx512/emulated-avx2/bf16-avx2.md. Returns the columns done.
    /// </summary>
    private static int Wide256(ref float x, ref ushort b, int k, int n, ref float y)
    {
        int end = n / PackedGroup * PackedGroup;
        int p = 0;
        for (; p + PackedRows <= k; p += PackedRows)
        {
            ref ushort block = ref Unsafe.Add(ref b, (nint)p * n);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref ushort g = ref Unsafe.Add(ref block, (nint)j * PackedRows);   // the block's 8 rows of this group, 32 values each
                ref float at = ref Unsafe.Add(ref y, j);
                bool first = p == 0;
                Vector256<float> a0 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at);
                Vector256<float> a1 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 8);
                Vector256<float> a2 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 16);
                Vector256<float> a3 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 24);
                for (int r = 0; r < PackedRows; r++)
                {
                    var xv = Vector256.Create(Unsafe.Add(ref x, p + r));
                    Vector256<uint> pairs = Pairs256(ref g, r * PackedGroup);
                    a0 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a0);
                    a2 = Vector256.FusedMultiplyAdd(xv, High(pairs), a2);
                    pairs = Pairs256(ref g, r * PackedGroup + 16);
                    a1 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a1);
                    a3 = Vector256.FusedMultiplyAdd(xv, High(pairs), a3);
                }

                a0.StoreUnsafe(ref at); a1.StoreUnsafe(ref at, 8); a2.StoreUnsafe(ref at, 16); a3.StoreUnsafe(ref at, 24);
            }
        }

        // The last block's rows, fewer than 8, one at a time.
        int rows = k - p;
        for (int r = 0; r < rows; r++, p++)
        {
            var xv = Vector256.Create(Unsafe.Add(ref x, p));
            ref ushort row = ref Unsafe.Add(ref b, (nint)(k - rows) * n + r * PackedGroup);
            for (int j = 0; j < end; j += PackedGroup)
            {
                ref float at = ref Unsafe.Add(ref y, j);
                bool first = p == 0;
                Vector256<uint> pairs = Pairs256(ref row, (nint)j * rows);
                Vector256.FusedMultiplyAdd(xv, Low(pairs), first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at)).StoreUnsafe(ref at);
                Vector256.FusedMultiplyAdd(xv, High(pairs), first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 16)).StoreUnsafe(ref at, 16);
                pairs = Pairs256(ref row, (nint)j * rows + 16);
                Vector256.FusedMultiplyAdd(xv, Low(pairs), first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 8)).StoreUnsafe(ref at, 8);
                Vector256.FusedMultiplyAdd(xv, High(pairs), first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref at, 24)).StoreUnsafe(ref at, 24);
            }
        }

        return end;
    }

    /// <summary>128 columns (4 groups) of a B narrower than <see cref="WideColumns"/>, stored row by row: 8 accumulators of 16 floats.</summary>
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
    /// 64 columns (2 groups) with 8 accumulators of 8 floats. A group's first 8 lanes hold columns 0-7 and 16-23, its next
    /// 8 lanes columns 8-15 and 24-31. Row p's group at column j is at its block's start + j * rows + r * 32
    /// (<see cref="PackRows"/>), its next group a block's rows * 32 further. Each lane pair is widened right before its two
    /// multiply-adds, so the 8 accumulators, x, the mask and one pair are all that is live: AVX2's 16 ymm registers hold
    /// them. (Widening all four pairs first spilled two accumulators, a store and a reload in their chains every row: T1's
    /// batch-1 call, 784 x 128 then 128 x 10, ran at 0.53x the float32 speed on a Zen 5 with AVX-512 off, and at 1.03x
    /// after: bench/results/zen5-avx512/emulated-avx2/bf16-avx2.md.)
    /// </summary>
    private static void Block256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int height = BlockRows(n);
        for (int block = 0; block < k; block += height)
        {
            int rows = Math.Min(height, k - block);
            nint next = (nint)PackedGroup * rows;
            ref ushort groups = ref Unsafe.Add(ref b, (nint)block * n + (nint)j * rows);
            for (int r = 0; r < rows; r++)
            {
                var xv = Vector256.Create(Unsafe.Add(ref x, block + r));
                ref ushort row = ref Unsafe.Add(ref groups, r * PackedGroup);
                Vector256<uint> pairs = Pairs256(ref row, 0);
                a0 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a0);       // columns 0-7
                a2 = Vector256.FusedMultiplyAdd(xv, High(pairs), a2);      // 16-23
                pairs = Pairs256(ref row, 16);
                a1 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a1);       // 8-15
                a3 = Vector256.FusedMultiplyAdd(xv, High(pairs), a3);      // 24-31
                pairs = Pairs256(ref row, next);
                a4 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a4);       // 32-39
                a6 = Vector256.FusedMultiplyAdd(xv, High(pairs), a6);      // 48-55
                pairs = Pairs256(ref row, next + 16);
                a5 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a5);       // 40-47
                a7 = Vector256.FusedMultiplyAdd(xv, High(pairs), a7);      // 56-63
            }
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 8); a2.StoreUnsafe(ref out0, 16); a3.StoreUnsafe(ref out0, 24);
        a4.StoreUnsafe(ref out0, 32); a5.StoreUnsafe(ref out0, 40); a6.StoreUnsafe(ref out0, 48); a7.StoreUnsafe(ref out0, 56);
    }

    /// <summary>One group of 32 columns from column <paramref name="j"/>, as <see cref="Block256"/>.</summary>
    private static void Group256(ref float x, ref ushort b, int k, int n, int j, ref float y)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int height = BlockRows(n);
        for (int block = 0; block < k; block += height)
        {
            int rows = Math.Min(height, k - block);
            ref ushort groups = ref Unsafe.Add(ref b, (nint)block * n + (nint)j * rows);
            for (int r = 0; r < rows; r++)
            {
                var xv = Vector256.Create(Unsafe.Add(ref x, block + r));
                ref ushort row = ref Unsafe.Add(ref groups, r * PackedGroup);
                Vector256<uint> pairs = Pairs256(ref row, 0);
                a0 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a0);
                a2 = Vector256.FusedMultiplyAdd(xv, High(pairs), a2);
                pairs = Pairs256(ref row, 16);
                a1 = Vector256.FusedMultiplyAdd(xv, Low(pairs), a1);
                a3 = Vector256.FusedMultiplyAdd(xv, High(pairs), a3);
            }
        }

        ref float out0 = ref Unsafe.Add(ref y, j);
        a0.StoreUnsafe(ref out0); a1.StoreUnsafe(ref out0, 8); a2.StoreUnsafe(ref out0, 16); a3.StoreUnsafe(ref out0, 24);
    }
}

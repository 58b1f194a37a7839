using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>Which instructions multiply int8 rows (<see cref="Int8Gemv.Path"/>).</summary>
internal enum Int8Path
{
    /// <summary>Scalar int32 arithmetic: any CPU.</summary>
    Portable,

    /// <summary>vpmaddubsw (u8 x s8 pairs to int16) then vpmaddwd by ones (int16 pairs to int32), 256-bit.</summary>
    Avx2,

    /// <summary>The same as <see cref="Avx2"/> on 512-bit registers.</summary>
    Avx512BW,

    /// <summary>vpdpbusd (4 u8 x s8 products added to int32 in one instruction), 256-bit VEX (AVX-VNNI).</summary>
    AvxVnni,
}

/// <summary>
/// y = x W + b for one row of 7-bit quantized inputs (<see cref="Int8Activations"/>) and int8 weights
/// (<see cref="Int8Matrix"/>): exact int32 sums, then one float32 scaling per output.
/// </summary>
/// <remarks>
/// With x ~ s_x (q_x - z) and W[., j] ~ s_j q_w[., j]:
/// y_j = s_x s_j (sum_i q_x[i] q_w[i, j] - z sum_i q_w[i, j]) + b_j. The integer part is exact on every path (no
/// product pair can saturate int16, see <see cref="Int8Activations"/>; no sum can overflow int32, see
/// <see cref="Int8Matrix.MaxInputs"/>), and the scaling is the same float32 operations on every path, so all paths give
/// the same bits.
/// </remarks>
internal static class Int8Gemv
{
    /// <summary>
    /// The path this process uses: AVX-VNNI where the CPU has it, else the widest multiply-add pair; but on AMD CPUs
    /// that have both AVX-VNNI and AVX-512BW (Zen 5) the 512-bit pair, which measured about 5% faster there at batch 1 and
    /// in batches (bench/results/zen5-avx512/int8-paths.md). Intel's AVX-512 CPUs with AVX-VNNI keep vpdpbusd: the
    /// Xeon of bench/results/xeon-avx512 was measured with it, not against the pair. The 512-bit pair only where .NET
    /// reports 512-bit vectors accelerated, as for every other FastNet kernel (not, by default, on the Intel CPUs whose
    /// clock drops under 512-bit code: see <see cref="GemmConfiguration.Avx512NotPreferred"/>). Every path gives the same bits.
    /// </summary>
    public static readonly Int8Path Path =
        Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && (!AvxVnni.IsSupported || CpuVendor.IsAmd) ? Int8Path.Avx512BW
        : AvxVnni.IsSupported ? Int8Path.AvxVnni
        : Avx2.IsSupported ? Int8Path.Avx2
        : Int8Path.Portable;


    /// <summary>Whether this CPU (and the runtime's settings) can run <paramref name="path"/>.</summary>
    public static bool IsSupported(Int8Path path) => path switch
    {
        Int8Path.AvxVnni => AvxVnni.IsSupported,
        Int8Path.Avx512BW => Avx512BW.IsSupported,
        Int8Path.Avx2 => Avx2.IsSupported,
        _ => true,
    };

    /// <summary>
    /// y[j] = (float)(sum_i q[i] W[i, j] - zeroPoint * ColumnSums[j]) * (scale * Scales[j]) + bias[j] (one fused
    /// multiply-add), for j &lt; n. <paramref name="q"/> holds QuadRows * 4 levels (the padding zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void MultiplyRow(ReadOnlySpan<byte> q, float scale, int zeroPoint, Int8Matrix w, ReadOnlySpan<float> bias, Span<float> y) =>
        MultiplyRow(q, scale, zeroPoint, w, bias, y, Path);

    /// <summary><see cref="MultiplyRow(ReadOnlySpan{byte}, float, int, Int8Matrix, ReadOnlySpan{float}, Span{float})"/> on a given path (tests compare them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyRow(ReadOnlySpan<byte> q, float scale, int zeroPoint, Int8Matrix w, ReadOnlySpan<float> bias, Span<float> y, Int8Path path)
    {
        int quads = w.QuadRows, n = w.Outputs;
        Guard.MinLength(q.Length, quads * 4, nameof(q));
        Guard.MinLength(bias.Length, n, nameof(bias));
        Guard.MinLength(y.Length, n, nameof(y));
        Span<int> sums = stackalloc int[Int8Matrix.PanelColumns];
        ref byte qr = ref MemoryMarshal.GetReference(q);
        ref byte panel = ref MemoryMarshal.GetReference(w.Packed);
        for (int j = 0; j < n; j += Int8Matrix.PanelColumns)
        {
            ref int s = ref MemoryMarshal.GetReference(sums);
            switch (path)
            {
                case Int8Path.AvxVnni: Panel256<VnniDot>(ref qr, ref panel, quads, ref s); break;
                case Int8Path.Avx512BW: Panel512(ref qr, ref panel, quads, ref s); break;
                case Int8Path.Avx2: Panel256<PairDot>(ref qr, ref panel, quads, ref s); break;
                default: PanelScalar(ref qr, ref panel, quads, ref s); break;
            }

            int columns = Math.Min(Int8Matrix.PanelColumns, n - j);
            Dequantize(sums.Slice(0, columns), scale, zeroPoint, w.ColumnSums.AsSpan(j, columns), w.Scales.AsSpan(j, columns),
                bias.Slice(j, columns), y.Slice(j, columns));
            panel = ref Unsafe.Add(ref panel, quads * Int8Matrix.QuadRowBytes);
        }
    }

    /// <summary>Rows that <c>MultiplyRows</c> takes at once.</summary>
    public const int RowBlock = 4;

    /// <summary>
    /// <see cref="MultiplyRow(ReadOnlySpan{byte}, float, int, Int8Matrix, ReadOnlySpan{float}, Span{float})"/> for
    /// <see cref="RowBlock"/> rows at once, row r's levels at q[r * qStride ..] and outputs at y[r * n ..]: the same bits
    /// as one row at a time (exact integer sums, the same scaling). Each weight load feeds four rows' dot products, so a
    /// batch is bound by the multiply-adds, not by streaming the weights from L2 once per row; the portable path runs the
    /// rows one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyRows(ReadOnlySpan<byte> q, int qStride, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints,
        Int8Matrix w, ReadOnlySpan<float> bias, Span<float> y) => MultiplyRows(q, qStride, scales, zeroPoints, w, bias, y, Path);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyRows(ReadOnlySpan<byte> q, int qStride, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints,
        Int8Matrix w, ReadOnlySpan<float> bias, Span<float> y, Int8Path path)
    {
        int quads = w.QuadRows, n = w.Outputs;
        Guard.MinLength(qStride, quads * 4, nameof(qStride));
        Guard.MinLength(q.Length, (RowBlock - 1) * qStride + quads * 4, nameof(q));
        Guard.MinLength(scales.Length, RowBlock, nameof(scales));
        Guard.MinLength(zeroPoints.Length, RowBlock, nameof(zeroPoints));
        Guard.MinLength(y.Length, RowBlock * n, nameof(y));
        if (path == Int8Path.Portable)
        {
            for (int r = 0; r < RowBlock; r++)
                MultiplyRow(q.Slice(r * qStride), scales[r], zeroPoints[r], w, bias, y.Slice(r * n, n), path);
            return;
        }

        Guard.MinLength(bias.Length, n, nameof(bias));
        Span<int> sums = stackalloc int[RowBlock * Int8Matrix.PanelColumns];   // row r's 64 sums at r * 64
        ref byte qr = ref MemoryMarshal.GetReference(q);
        ref byte panel = ref MemoryMarshal.GetReference(w.Packed);
        for (int j = 0; j < n; j += Int8Matrix.PanelColumns)
        {
            int columns = Math.Min(Int8Matrix.PanelColumns, n - j);
            // A last panel's slices past n hold only padding: skipped.
            if (path == Int8Path.Avx512BW)
            {
                for (int slice = 0; slice < columns; slice += 32) Slice512x4(ref qr, qStride, ref Unsafe.Add(ref panel, slice * 4), quads, ref sums[slice]);
            }
            else if (path == Int8Path.AvxVnni)
            {
                for (int slice = 0; slice < columns; slice += 16) Slice256x4<VnniDot>(ref qr, qStride, ref Unsafe.Add(ref panel, slice * 4), quads, ref sums[slice]);
            }
            else
            {
                for (int slice = 0; slice < columns; slice += 16) Slice256x4<PairDot>(ref qr, qStride, ref Unsafe.Add(ref panel, slice * 4), quads, ref sums[slice]);
            }

            for (int r = 0; r < RowBlock; r++)
            {
                Dequantize(sums.Slice(r * Int8Matrix.PanelColumns, columns), scales[r], zeroPoints[r], w.ColumnSums.AsSpan(j, columns),
                    w.Scales.AsSpan(j, columns), bias.Slice(j, columns), y.Slice(r * n + j, columns));
            }

            panel = ref Unsafe.Add(ref panel, quads * Int8Matrix.QuadRowBytes);
        }
    }

    /// <summary>
    /// 16 columns of a panel for 4 rows, 256 bits wide: 8 accumulators, and per quad row 2 weight loads and 4 broadcasts
    /// feed 8 dot products (with the temporaries of <see cref="PairDot"/>, 14 of the 16 registers VEX encodes). Row r's
    /// sums go to sums[r * 64 ..].
    /// </summary>
    private static void Slice256x4<TDot>(ref byte q, int qStride, ref byte slice, int quads, ref int sums)
        where TDot : struct, IQuadDot
    {
        Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        ref byte q1 = ref Unsafe.Add(ref q, qStride), q2 = ref Unsafe.Add(ref q1, qStride), q3 = ref Unsafe.Add(ref q2, qStride);
        for (int r = 0; r < quads; r++)
        {
            ref sbyte w = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref slice, r * Int8Matrix.QuadRowBytes));
            Vector256<sbyte> w0 = Vector256.LoadUnsafe(ref w), w1 = Vector256.LoadUnsafe(ref w, 32);
            Vector256<byte> x0 = Vector256.Create(Quad(ref q, r)).AsByte();
            a00 = TDot.Add(a00, x0, w0);
            a01 = TDot.Add(a01, x0, w1);
            Vector256<byte> x1 = Vector256.Create(Quad(ref q1, r)).AsByte();
            a10 = TDot.Add(a10, x1, w0);
            a11 = TDot.Add(a11, x1, w1);
            Vector256<byte> x2 = Vector256.Create(Quad(ref q2, r)).AsByte();
            a20 = TDot.Add(a20, x2, w0);
            a21 = TDot.Add(a21, x2, w1);
            Vector256<byte> x3 = Vector256.Create(Quad(ref q3, r)).AsByte();
            a30 = TDot.Add(a30, x3, w0);
            a31 = TDot.Add(a31, x3, w1);
        }

        const int row = Int8Matrix.PanelColumns;
        a00.StoreUnsafe(ref sums); a01.StoreUnsafe(ref sums, 8);
        a10.StoreUnsafe(ref sums, row); a11.StoreUnsafe(ref sums, row + 8);
        a20.StoreUnsafe(ref sums, 2 * row); a21.StoreUnsafe(ref sums, 2 * row + 8);
        a30.StoreUnsafe(ref sums, 3 * row); a31.StoreUnsafe(ref sums, 3 * row + 8);
    }

    /// <summary>32 columns of a panel for 4 rows on AVX-512BW: <see cref="Slice256x4"/>'s scheme with 16-lane accumulators.</summary>
    private static void Slice512x4(ref byte q, int qStride, ref byte slice, int quads, ref int sums)
    {
        Vector512<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        ref byte q1 = ref Unsafe.Add(ref q, qStride), q2 = ref Unsafe.Add(ref q1, qStride), q3 = ref Unsafe.Add(ref q2, qStride);
        for (int r = 0; r < quads; r++)
        {
            ref sbyte w = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref slice, r * Int8Matrix.QuadRowBytes));
            Vector512<sbyte> w0 = Vector512.LoadUnsafe(ref w), w1 = Vector512.LoadUnsafe(ref w, 64);
            Vector512<byte> x0 = Vector512.Create(Quad(ref q, r)).AsByte();
            a00 += DotQuads(x0, w0);
            a01 += DotQuads(x0, w1);
            Vector512<byte> x1 = Vector512.Create(Quad(ref q1, r)).AsByte();
            a10 += DotQuads(x1, w0);
            a11 += DotQuads(x1, w1);
            Vector512<byte> x2 = Vector512.Create(Quad(ref q2, r)).AsByte();
            a20 += DotQuads(x2, w0);
            a21 += DotQuads(x2, w1);
            Vector512<byte> x3 = Vector512.Create(Quad(ref q3, r)).AsByte();
            a30 += DotQuads(x3, w0);
            a31 += DotQuads(x3, w1);
        }

        const int row = Int8Matrix.PanelColumns;
        a00.StoreUnsafe(ref sums); a01.StoreUnsafe(ref sums, 16);
        a10.StoreUnsafe(ref sums, row); a11.StoreUnsafe(ref sums, row + 16);
        a20.StoreUnsafe(ref sums, 2 * row); a21.StoreUnsafe(ref sums, 2 * row + 16);
        a30.StoreUnsafe(ref sums, 3 * row); a31.StoreUnsafe(ref sums, 3 * row + 16);
    }

    /// <summary>y = (float)(sums - z * columnSums) * (scale * scales) + bias, fused: the same operations 8 lanes at a time and one by one.</summary>
    private static void Dequantize(ReadOnlySpan<int> sums, float scale, int zeroPoint, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> bias, Span<float> y)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            var z = Vector256.Create(zeroPoint);
            for (; j + 8 <= y.Length; j += 8)
            {
                Vector256<int> exact = Vector256.Create(sums.Slice(j, 8)) - z * Vector256.Create(columnSums.Slice(j, 8));
                Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(exact), s * Vector256.Create(scales.Slice(j, 8)), Vector256.Create(bias.Slice(j, 8)))
                    .CopyTo(y.Slice(j, 8));
            }
        }

        for (; j < y.Length; j++)
            y[j] = MathF.FusedMultiplyAdd(sums[j] - zeroPoint * columnSums[j], scale * scales[j], bias[j]);
    }

    /// <summary>The 4 levels q[4r .. 4r+3] in every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Quad(ref byte q, int r) => Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref q, 4 * r));

    /// <summary>
    /// sum + the 4-product dot of each 32-bit lane (u8 x s8), 256 bits wide: with vpdpbusd (<see cref="VnniDot"/>) or with
    /// a multiply-add pair (<see cref="PairDot"/>). A type parameter, so one kernel body serves both and the JIT compiles
    /// each without a branch.
    /// </summary>
    private interface IQuadDot
    {
        static abstract Vector256<int> Add(Vector256<int> sum, Vector256<byte> x, Vector256<sbyte> w);
    }

    /// <summary>vpdpbusd (AVX-VNNI): one instruction per 32 products.</summary>
    private readonly struct VnniDot : IQuadDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sum, Vector256<byte> x, Vector256<sbyte> w) => AvxVnni.MultiplyWideningAndAdd(sum, x, w);
    }

    /// <summary>vpmaddubsw, vpmaddwd by ones and vpaddd (AVX2): the same exact sums in three instructions.</summary>
    private readonly struct PairDot : IQuadDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sum, Vector256<byte> x, Vector256<sbyte> w) => sum + DotQuads(x, w);
    }

    /// <summary>One panel's 64 sums, 256 bits wide: 8 accumulators of 8 columns.</summary>
    private static void Panel256<TDot>(ref byte q, ref byte panel, int quads, ref int sums)
        where TDot : struct, IQuadDot
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int r = 0; r < quads; r++)
        {
            Vector256<byte> x = Vector256.Create(Quad(ref q, r)).AsByte();
            ref sbyte w = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref panel, r * Int8Matrix.QuadRowBytes));
            a0 = TDot.Add(a0, x, Vector256.LoadUnsafe(ref w));
            a1 = TDot.Add(a1, x, Vector256.LoadUnsafe(ref w, 32));
            a2 = TDot.Add(a2, x, Vector256.LoadUnsafe(ref w, 64));
            a3 = TDot.Add(a3, x, Vector256.LoadUnsafe(ref w, 96));
            a4 = TDot.Add(a4, x, Vector256.LoadUnsafe(ref w, 128));
            a5 = TDot.Add(a5, x, Vector256.LoadUnsafe(ref w, 160));
            a6 = TDot.Add(a6, x, Vector256.LoadUnsafe(ref w, 192));
            a7 = TDot.Add(a7, x, Vector256.LoadUnsafe(ref w, 224));
        }

        a0.StoreUnsafe(ref sums); a1.StoreUnsafe(ref sums, 8); a2.StoreUnsafe(ref sums, 16); a3.StoreUnsafe(ref sums, 24);
        a4.StoreUnsafe(ref sums, 32); a5.StoreUnsafe(ref sums, 40); a6.StoreUnsafe(ref sums, 48); a7.StoreUnsafe(ref sums, 56);
    }

    /// <summary>4 u8 x s8 products summed into each int32 lane without VNNI: pairs into int16 (never saturating here), pairs of those into int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> DotQuads(Vector512<byte> x, Vector512<sbyte> w) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w), Vector512<short>.One);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotQuads(Vector256<byte> x, Vector256<sbyte> w) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w), Vector256<short>.One);

    /// <summary>One panel's 64 sums on AVX-512BW: 4 accumulators of 16 columns.</summary>
    private static void Panel512(ref byte q, ref byte panel, int quads, ref int sums)
    {
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int r = 0; r < quads; r++)
        {
            Vector512<byte> x = Vector512.Create(Quad(ref q, r)).AsByte();
            ref sbyte w = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref panel, r * Int8Matrix.QuadRowBytes));
            a0 += DotQuads(x, Vector512.LoadUnsafe(ref w));
            a1 += DotQuads(x, Vector512.LoadUnsafe(ref w, 64));
            a2 += DotQuads(x, Vector512.LoadUnsafe(ref w, 128));
            a3 += DotQuads(x, Vector512.LoadUnsafe(ref w, 192));
        }

        a0.StoreUnsafe(ref sums); a1.StoreUnsafe(ref sums, 16); a2.StoreUnsafe(ref sums, 32); a3.StoreUnsafe(ref sums, 48);
    }

    /// <summary>One panel's 64 sums in scalar int32 arithmetic.</summary>
    private static void PanelScalar(ref byte q, ref byte panel, int quads, ref int sums)
    {
        for (int c = 0; c < Int8Matrix.PanelColumns; c++)
        {
            int sum = 0;
            for (int r = 0; r < quads; r++)
            {
                ref byte w = ref Unsafe.Add(ref panel, r * Int8Matrix.QuadRowBytes + 4 * c);
                for (int t = 0; t < 4; t++) sum += Unsafe.Add(ref q, 4 * r + t) * (sbyte)Unsafe.Add(ref w, t);
            }

            Unsafe.Add(ref sums, c) = sum;
        }
    }
}

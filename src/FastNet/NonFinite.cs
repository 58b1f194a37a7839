using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FastNet;

/// <summary>
/// Finds NaN and infinity in data before it reaches the arithmetic, so that bad data is reported as bad data
/// (naming the sample and the value) and never as a diverging learning rate or a confident answer.
/// </summary>
internal static class NonFinite
{
    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1 when every value is finite.</summary>
    /// <remarks>A vectorized scan (<see cref="AllFinite(ReadOnlySpan{float})"/>) first; the element-wise search runs only when it fails.</remarks>
    public static int IndexOf(ReadOnlySpan<float> values)
    {
        if (AllFinite(values)) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>Whether every value is finite (no NaN, no infinity).</summary>
    /// <remarks>
    /// x * 0 is 0 for a finite x and NaN for NaN or an infinity, and a NaN stays in any sum it enters: so the sums of
    /// x * 0 (one fused multiply-add per vector, four independent chains) are all 0 exactly when every x is finite.
    /// Unlike a plain sum of the values, finite values too large to add never read as infinite. Written here rather
    /// than TensorPrimitives.IsFiniteAll because it runs on every training step (each layer's deltas) and every
    /// prediction's input: compiled optimized from its first call (see <see cref="Kernels.Axpy"/>), and faster: 15.3 ns
    /// for 784 floats on Zen 5, where IsFiniteAll took 24.8 (bench/results/zen5-avx512/input-checks.md now and before).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        ref float x = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; i <= n - 4 * Vector512<float>.Count; i += 4 * Vector512<float>.Count)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), default, s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), default, s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(i + 32)), default, s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(i + 48)), default, s3);
            }

            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), default, s0);
            // The last values as one vector ending at the last element (overlapping ones are counted twice: harmless).
            if (i < n) s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)(n - Vector512<float>.Count)), default, s1);
            return (s0 + s1 + s2 + s3) == Vector512<float>.Zero;
        }

        Vector<float> acc0 = default, acc1 = default;
        for (; i <= n - 2 * Vector<float>.Count; i += 2 * Vector<float>.Count)
        {
            acc0 += Vector.LoadUnsafe(ref x, (nuint)i) * Vector<float>.Zero;
            acc1 += Vector.LoadUnsafe(ref x, (nuint)(i + Vector<float>.Count)) * Vector<float>.Zero;
        }

        float rest = 0f;
        for (; i < n; i++) rest += Unsafe.Add(ref x, i) * 0f;
        return (acc0 + acc1) == Vector<float>.Zero && rest == 0f;
    }

    /// <summary>
    /// Whether every value of a block of <paramref name="rows"/> rows of <paramref name="cols"/> values, rows
    /// <paramref name="stride"/> apart, is finite. For a GEMM tile in L1 (<see cref="Kernels.GemmEpilogue"/>), once per
    /// tile: x * 0 is +-0 for a finite x and NaN otherwise, so the OR of those bit patterns without the sign is 0 exactly
    /// when all are finite. ORs (1 cycle) on two chains rather than one chain of adds (3-4 cycles each): on T1's first
    /// layer, 1,024 rows on a Zen 5, the chain of adds cost 10 us over no check (863 against 853), the ORs 3 us
    /// (bench/results/zen5-avx512/input-check-flag.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe bool AllFinite(float* values, nint stride, int rows, int cols)
    {
        int n = Vector<float>.Count;
        Vector<uint> any0 = default, any1 = default;
        uint rest = 0;
        for (int r = 0; r < rows; r++, values += stride)
        {
            int j = 0;
            for (; j <= cols - 2 * n; j += 2 * n)
            {
                any0 |= Vector.AsVectorUInt32(Vector.Load(values + j) * Vector<float>.Zero);
                any1 |= Vector.AsVectorUInt32(Vector.Load(values + j + n) * Vector<float>.Zero);
            }

            for (; j <= cols - n; j += n) any0 |= Vector.AsVectorUInt32(Vector.Load(values + j) * Vector<float>.Zero);
            for (; j < cols; j++) rest |= BitConverter.SingleToUInt32Bits(values[j] * 0f);
        }

        return ((any0 | any1) & new Vector<uint>(0x7FFF_FFFF)) == Vector<uint>.Zero && (rest & 0x7FFF_FFFF) == 0;
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> for <paramref name="name"/> when a row-major block of samples holds a
    /// non-finite value, naming the sample (<paramref name="firstSample"/> + row), the column and the value.
    /// </summary>
    /// <param name="values">Rows of <paramref name="width"/> values.</param>
    /// <param name="width">Values per sample.</param>
    /// <param name="name">The argument that holds the values.</param>
    /// <param name="what">What a column is: "feature", "target".</param>
    /// <param name="firstSample">Index of the first row among the caller's samples.</param>
    public static void ThrowIfAny(ReadOnlySpan<float> values, int width, string name, string what, int firstSample = 0)
    {
        int i = IndexOf(values);
        if (i < 0) return;
        throw new ArgumentException(
            $"'{name}' holds a non-finite value: sample {firstSample + i / width}, {what} {i % width} is {values[i]}. " +
            "The data must be finite (clean or impute NaN and infinity first); this is the data, not the learning rate.", name);
    }
}

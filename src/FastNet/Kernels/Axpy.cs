using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastNet.Kernels;

/// <summary>y = a x + y, element by element (BLAS saxpy): the plain SGD step p -= lr g.</summary>
/// <remarks>
/// The same bits as <c>TensorPrimitives.MultiplyAdd(x, a, y, y)</c>: a product rounded, then a sum rounded (not
/// fused). It is written here, compiled optimized from its first call, because it runs every training step: the
/// generic TensorPrimitives helpers start as unoptimized code and are compiled twice more on the background thread
/// while training runs. Replacing them (this, the finite check, the evaluation's arg-max) and compiling the other
/// per-step methods optimized took ten T1 epochs on Zen 5 from 0.98 to 0.86 s (bench/results/zen5-avx512/first-epochs.md).
/// </remarks>
internal static class Axpy
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        var va = new Vector<float>(a);
        int i = 0;
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            (va * Vector.LoadUnsafe(ref xs, (nuint)i) + Vector.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        for (; i < y.Length; i++)
            Unsafe.Add(ref ys, i) = a * Unsafe.Add(ref xs, i) + Unsafe.Add(ref ys, i);
    }
}

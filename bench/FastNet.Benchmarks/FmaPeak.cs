using FastNet.Kernels;
using FastNet.Threading;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastNet.Benchmarks;

/// <summary>
/// The machine's FP32 FMA peak at the vector width the GEMM runs, measured: 12 independent chains of vector FMAs per
/// thread (more than latency x throughput, so the FMA pipes never wait) and no memory traffic. Every GEMM figure is
/// reported as a fraction of this. zmm FMAs where the GEMM runs its AVX-512 kernel, ymm ones otherwise, also on a CPU
/// that has AVX-512 but where .NET prefers 256-bit vectors (GemmConfiguration.Avx512NotPreferred): "% of peak" is the
/// kernel's efficiency at its own width.
/// </summary>
internal static class FmaPeak
{
    public const int Iterations = 1 << 18;
    private const int Chains = 12;

    private static bool Zmm => Gemm.DefaultPath == GemmPath.Avx512;

    /// <summary>Floating-point operations one thread performs in <see cref="Run"/>.</summary>
    public static double FlopsPerThread => (double)Iterations * Chains * 2 * (Zmm ? 16 : 8);

    /// <summary>Runs the FMA loop on one thread; returns a value so the work cannot be removed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Run() => Zmm ? Run512() : Run256();

    private static float Run512()
    {
        Vector512<float> m = Vector512.Create(0.999999f), x = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector512<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, x); a1 = Avx512F.FusedMultiplyAdd(a1, m, x);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, x); a3 = Avx512F.FusedMultiplyAdd(a3, m, x);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, x); a5 = Avx512F.FusedMultiplyAdd(a5, m, x);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, x); a7 = Avx512F.FusedMultiplyAdd(a7, m, x);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, x); a9 = Avx512F.FusedMultiplyAdd(a9, m, x);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, x); a11 = Avx512F.FusedMultiplyAdd(a11, m, x);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float Run256()
    {
        Vector256<float> m = Vector256.Create(0.999999f), x = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        Vector256<float> a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < Iterations; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, x); a1 = Fma.MultiplyAdd(a1, m, x);
            a2 = Fma.MultiplyAdd(a2, m, x); a3 = Fma.MultiplyAdd(a3, m, x);
            a4 = Fma.MultiplyAdd(a4, m, x); a5 = Fma.MultiplyAdd(a5, m, x);
            a6 = Fma.MultiplyAdd(a6, m, x); a7 = Fma.MultiplyAdd(a7, m, x);
            a8 = Fma.MultiplyAdd(a8, m, x); a9 = Fma.MultiplyAdd(a9, m, x);
            a10 = Fma.MultiplyAdd(a10, m, x); a11 = Fma.MultiplyAdd(a11, m, x);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    /// <summary>
    /// Runs the FMA loop on <paramref name="threads"/> threads at once, on FastNet's worker pool (the threads the GEMM
    /// uses). Parallel.For over calls this short (about 0.4 ms) often ran both on one thread, the second pool worker
    /// waking too late, and the 2-thread peak read as one thread's.
    /// </summary>
    public static void RunParallel(int threads)
    {
        if (threads == 1) Run();
        else WorkerPool.Shared.Run(EveryTask, threads);
    }

    private static readonly FmaJob EveryTask = new();

    private sealed class FmaJob : IParallelJob
    {
        public void Execute(int task) => Run();
    }
}

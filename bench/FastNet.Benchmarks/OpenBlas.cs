using System.Runtime.InteropServices;

namespace FastNet.Benchmarks;

/// <summary>
/// OpenBLAS's cblas_sgemm through P/Invoke, the reference BLAS we measure against. Debian's
/// libopenblas0-pthread provides libopenblas.so.0; where it is absent its benchmarks are left out.
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";
    public const int RowMajor = 101, NoTrans = 111, Trans = 112;

    public static bool IsAvailable { get; } = NativeLibrary.TryLoad(Library, out _);

    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    public static partial void Sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library, EntryPoint = "openblas_set_num_threads")]
    public static partial void SetNumThreads(int threads);

    [LibraryImport(Library, EntryPoint = "openblas_get_corename")]
    private static partial nint GetCoreName();

    /// <summary>The kernel family OpenBLAS picked for this CPU (e.g. "Cooperlake").</summary>
    public static string CoreName => Marshal.PtrToStringAnsi(GetCoreName()) ?? "?";
}

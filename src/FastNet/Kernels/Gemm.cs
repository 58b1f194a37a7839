using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastNet.Kernels;

/// <summary>
/// Single-precision general matrix multiply on row-major spans:
/// C = act(alpha * op(A) * op(B) + beta * C + bias), op(A) is M x K, op(B) is K x N, C is M x N.
/// </summary>
/// <remarks>
/// <para>
/// Blocked and packed in the BLIS/GotoBLAS way (<see cref="GemmBlocking"/>), with a register-blocked
/// micro-kernel for AVX-512, AVX2+FMA or portable <see cref="System.Numerics.Vector{T}"/>, chosen once per
/// process. One- and two-row products take a GEMV path (no packing, no threads).
/// </para>
/// <para>
/// Threads split C into rectangles on the micro-tile grid and never split K, so each element of C is
/// computed by one thread in one fixed order: results are bitwise identical for every thread count.
/// </para>
/// <para>
/// Memory: a calling thread keeps pack buffers (about 2 MiB per task: one for single-threaded calls, one per
/// task for multi-threaded ones) from its first call on, and multi-threaded calls run on a fixed pool of
/// worker threads (one per core besides the caller) with no per-call allocation, so steady-state calls
/// allocate nothing, on one thread or many.
/// </para>
/// <para>With beta == 0, C is not read (NaNs in it do not propagate). C must not overlap A or B.</para>
/// <para>
/// The micro-kernels, the driver, the packing and the training-step kernels around them are marked
/// AggressiveOptimization: compiled optimized on their first call instead of starting as tier-0 and then
/// instrumented code, which cost a training run most of its first epoch (T1 on Fashion-MNIST, 1 thread: first
/// epoch 183-189k samples/s with it, 161-164k without; later epochs are the same). So are the training step's
/// other per-step methods, which use FastNet's own small vector loops (<see cref="Axpy"/>) rather than generic
/// TensorPrimitives helpers: ten T1 epochs on 2 threads, Zen 5, 0.98 -> 0.86 s (bench/results/zen5-avx512/first-epochs.md).
/// </para>
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>The micro-kernel path used by <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, Transpose, Transpose, float, float, int)"/> on this machine.</summary>
    internal static readonly GemmPath DefaultPath =
        Avx512Kernel6x64.IsSupported && Vector512.IsHardwareAccelerated ? GemmPath.Avx512
        : Avx2Kernel6x16.IsSupported ? GemmPath.Avx2
        : GemmPath.Portable;

    /// <summary>Multiplies densely stored matrices: lda, ldb and ldc are the stored row lengths.</summary>
    /// <param name="a">op(A): M x K, stored M x K (or K x M when <paramref name="transA"/> is set).</param>
    /// <param name="b">op(B): K x N, stored K x N (or N x K when <paramref name="transB"/> is set).</param>
    /// <param name="c">M x N output.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="transA">Whether A is stored transposed.</param>
    /// <param name="transB">Whether B is stored transposed.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C (0: C is overwritten without being read).</param>
    /// <param name="maxThreads">Most threads to use; -1 for every core.</param>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        Transpose transA = Transpose.None, Transpose transB = Transpose.None, float alpha = 1f, float beta = 0f, int maxThreads = -1)
    {
        Guard.NonNegative(m); Guard.NonNegative(n); Guard.NonNegative(k);
        int lda = Math.Max(1, transA == Transpose.None ? k : m);
        int ldb = Math.Max(1, transB == Transpose.None ? n : k);
        Multiply(a, lda, b, ldb, c, Math.Max(1, n), m, n, k, transA, transB, alpha, beta, default, maxThreads);
    }

    /// <summary>
    /// Multiplies sub-matrices: element (i, j) of a stored matrix X is <c>x[i * ldx + j]</c>, so callers
    /// pass a block of a larger matrix by offsetting the span and giving the larger matrix's row length.
    /// </summary>
    /// <param name="a">Stored A: M x K, or K x M when <paramref name="transA"/> is set.</param>
    /// <param name="lda">Row stride of stored A, at least its column count.</param>
    /// <param name="b">Stored B: K x N, or N x K when <paramref name="transB"/> is set.</param>
    /// <param name="ldb">Row stride of stored B, at least its column count.</param>
    /// <param name="c">M x N output.</param>
    /// <param name="ldc">Row stride of C, at least N.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="transA">Whether A is stored transposed.</param>
    /// <param name="transB">Whether B is stored transposed.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="beta">Scale of the existing C (0: C is overwritten without being read).</param>
    /// <param name="epilogue">Bias row and activation fused into the final write of C.</param>
    /// <param name="maxThreads">Most threads to use; -1 for every core.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, Transpose transA = Transpose.None, Transpose transB = Transpose.None,
        float alpha = 1f, float beta = 0f, GemmEpilogue epilogue = default, int maxThreads = -1)
        => MultiplyCore(a, lda, b, ldb, c, ldc, m, n, k, transA, transB, alpha, beta, epilogue, maxThreads, DefaultPath);

    /// <summary>
    /// As <see cref="Multiply(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, int, int, int, Transpose, Transpose, float, float, GemmEpilogue, int)"/>,
    /// with the stored A's rows gathered: its row r is the row <c>storedRows[r]</c> of the row-major matrix
    /// <paramref name="a"/> (row stride <paramref name="lda"/>). These are op(A)'s M rows, or, with a transposed A,
    /// its K depth steps: so a mini-batch X is multiplied where its samples lie, both as X W and as X^T dZ, with no
    /// gathered copy. Every element is computed exactly as on a gathered copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal static void MultiplyRows(ReadOnlySpan<float> a, int lda, ReadOnlySpan<int> storedRows, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, Transpose transA = Transpose.None, Transpose transB = Transpose.None, float alpha = 1f, float beta = 0f,
        GemmEpilogue epilogue = default, int maxThreads = -1)
    {
        int expected = transA == Transpose.Transposed ? k : m;
        if (storedRows.Length != expected)
            throw new ArgumentException($"'{nameof(storedRows)}' has {storedRows.Length} rows; the stored A has {expected}.", nameof(storedRows));
        MultiplyCore(a, lda, b, ldb, c, ldc, m, n, k, transA, transB, alpha, beta, epilogue, maxThreads, DefaultPath, storedRows);
    }

    /// <summary>
    /// As the public overload, on a chosen micro-kernel path (tests force each one), optionally with gathered rows of A,
    /// and with the loop order chosen (<paramref name="keepBPanelInL1"/>; null: this process's, see GemmConfiguration.L1Panel)
    /// whether a row-major A is packed (<paramref name="packRowMajorA"/>; null: this process's, see GemmConfiguration.PacksRowMajorA)
    /// and whether a narrow row-major B is (<paramref name="packRowMajorB"/>; null: this process's, see GemmConfiguration.PacksRowMajorB).
    /// With <paramref name="packedB"/>, op(B) packed once (the same matrix as <paramref name="b"/>, which the one- and
    /// two-row GEMV path still reads), the blocked path packs no B; a packing for another path than
    /// <paramref name="path"/> is not used.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    internal static void MultiplyCore(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, Transpose transA, Transpose transB, float alpha, float beta, GemmEpilogue epilogue,
        int maxThreads, GemmPath path, ReadOnlySpan<int> aRows = default, bool? keepBPanelInL1 = null,   // aRows: see MultiplyRows
        bool? packRowMajorA = null, bool? packRowMajorB = null, PrepackedB? packedB = null)
    {
        Guard.NonNegative(m); Guard.NonNegative(n); Guard.NonNegative(k);
        Guard.MaxThreads(maxThreads);
        bool tA = CheckTranspose(transA, nameof(transA)), tB = CheckTranspose(transB, nameof(transB));
        bool gathered = !aRows.IsEmpty;
        if (gathered) CheckRows(a.Length, lda, tA ? m : k, aRows);
        else CheckStored(a.Length, lda, tA ? k : m, tA ? m : k, nameof(a), nameof(lda));
        CheckStored(b.Length, ldb, tB ? n : k, tB ? k : n, nameof(b), nameof(ldb));
        CheckStored(c.Length, ldc, m, n, nameof(c), nameof(ldc));
        if (!epilogue.Bias.IsEmpty || epilogue.Activation != Activation.None)
        {
            if (!epilogue.Bias.IsEmpty) Guard.MinLength(epilogue.Bias.Length, n, "epilogue.Bias");
            if (!Enum.IsDefined(epilogue.Activation))
                throw new ArgumentOutOfRangeException(nameof(epilogue), epilogue.Activation, "Unknown activation.");
        }

        if (packedB is not null && (packedB.K != k || packedB.N != n))
            throw new ArgumentException($"'{nameof(packedB)}' holds a {packedB.K} x {packedB.N} B; this product's is {k} x {n}.", nameof(packedB));

        if (m == 0 || n == 0) return;
        if (c.Overlaps(a) || c.Overlaps(b))
            throw new ArgumentException("'c' overlaps 'a' or 'b'; the output must be separate memory.", nameof(c));

        fixed (float* pa = a, pb = b, pc = c, pBias = epilogue.Bias)
        fixed (int* pRows = aRows)
        {
            var problem = new GemmProblem
            {
                A = pa, Lda = lda, TransA = tA, ARows = gathered ? pRows : null,
                B = pb, Ldb = ldb, TransB = tB,
                C = pc, Ldc = ldc,
                M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                Bias = epilogue.Bias.IsEmpty ? null : pBias, Activation = epilogue.Activation, NonFiniteFlag = epilogue.NonFiniteFlag,
                KeepBPanelInL1 = keepBPanelInL1 ?? GemmBlocking.KeepsBPanelInL1,
                PackRowMajorA = packRowMajorA ?? GemmBlocking.PacksRowMajorA,
                PackRowMajorB = packRowMajorB ?? GemmBlocking.PacksRowMajorB,
                PackedB = packedB is not null && packedB.Path == path ? packedB.Panels : null,
                PackedBRowLength = packedB?.RowLength ?? 0,
            };
            Dispatch(problem, maxThreads == -1 ? Environment.ProcessorCount : maxThreads, path);
            GC.KeepAlive(packedB);   // its pinned panels were read through a pointer until here
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void Dispatch(in GemmProblem p, int maxThreads, GemmPath path)
    {
        if (p.K == 0 || p.Alpha == 0f)
        {
            ScaleOnly(p);   // BLAS: A and B are not read
        }
        else if (p.M <= GemmBlocking.GemvMaxRows && !(p.TransA && p.TransB))
        {
            for (int i = 0; i < p.M; i++)
            {
                // Row i of op(A): A[i, :] (or A[rows[i], :]) with unit stride, or column i of the stored K x M matrix.
                if (p.TransA && p.ARows != null)
                {
                    GemvOnGatheredColumn(p, i);
                    continue;
                }

                float* x = p.TransA ? p.A + i : p.A + (p.ARows != null ? p.ARows[i] : i) * p.Lda;
                Gemv.Run(x, p.TransA ? p.Lda : 1, p.B, p.Ldb, p.TransB, p.N, p.K, p.C + i * p.Ldc, p.Alpha, p.Beta, p.Bias, p.Activation, p.NonFiniteFlag);
            }
        }
        else
        {
            switch (path)
            {
                case GemmPath.Avx512: GemmParallel<Avx512Kernel6x64>.Run(p, maxThreads); break;
                case GemmPath.Avx2: GemmParallel<Avx2Kernel6x16>.Run(p, maxThreads); break;
                default: GemmParallel<PortableKernel>.Run(p, maxThreads); break;
            }
        }
    }

    /// <summary>
    /// Row i of C for a transposed A whose stored rows are gathered: column i of A (one value per stored row) is
    /// copied to contiguous scratch (this thread's pack buffer; a temporary array only when K exceeds it) and
    /// multiplied by the GEMV, as for any other one- or two-row product, so the bits match the ungathered call.
    /// </summary>
    private static void GemvOnGatheredColumn(in GemmProblem p, int i)
    {
        GemmPackBuffers buffers = GemmPackBuffers.ForCurrentThread();
        float[]? large = p.K > GemmPackBuffers.AFloats ? new float[p.K] : null;
        fixed (float* heap = large)
        {
            float* x = large is null ? buffers.A : heap;
            for (int d = 0; d < p.K; d++) x[d] = p.A[(nint)p.ARows[d] * p.Lda + i];
            Gemv.Run(x, 1, p.B, p.Ldb, p.TransB, p.N, p.K, p.C + i * p.Ldc, p.Alpha, p.Beta, p.Bias, p.Activation, p.NonFiniteFlag);
        }
    }

    /// <summary>C = act(beta * C + bias): the whole result when K == 0 or alpha == 0.</summary>
    private static void ScaleOnly(in GemmProblem p)
    {
        for (int i = 0; i < p.M; i++)
        {
            var row = new Span<float>(p.C + i * p.Ldc, p.N);
            if (p.Beta == 0f) row.Clear();
            else if (p.Beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, p.Beta, row);
        }

        if (p.HasEpilogue) GemmEpilogue.Apply(p.C, p.Ldc, p.M, p.N, p.Bias, p.Activation, p.NonFiniteFlag);
    }

    private static bool CheckTranspose(Transpose t, string name) => t switch
    {
        Transpose.None => false,
        Transpose.Transposed => true,
        _ => throw new ArgumentOutOfRangeException(name, t, "Unknown transpose option."),
    };

    /// <summary>Every gathered row must be a whole stored row (<paramref name="cols"/> values) inside A.</summary>
    private static void CheckRows(int length, int lda, int cols, ReadOnlySpan<int> rows)
    {
        if (lda < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"'lda' must be at least {Math.Max(1, cols)}, the row length of stored A.");
        long storedRows = length < cols ? 0 : (length - cols) / (long)lda + 1;
        foreach (int r in rows)
        {
            if ((uint)r >= storedRows)
                throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is not a row of the stored A ({storedRows} rows of stride {lda}).");
        }
    }

    /// <summary>A stored rows x cols matrix with row stride ld needs (rows - 1) * ld + cols elements.</summary>
    private static void CheckStored(int length, int ld, int rows, int cols, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(ldName, ld, $"'{ldName}' must be at least {Math.Max(1, cols)}, the row length of stored '{name}' ({rows} x {cols}).");
        long required = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < required)
            throw new ArgumentException($"'{name}' has {length} elements but a stored {rows} x {cols} matrix with row stride {ld} needs {required}.", name);
    }
}

/// <summary>Which micro-kernel family runs a packed GEMM.</summary>
internal enum GemmPath
{
    Portable,
    Avx2,
    Avx512,
}

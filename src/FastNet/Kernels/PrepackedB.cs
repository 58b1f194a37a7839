using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastNet.Kernels;

/// <summary>
/// A right-hand matrix B that does not change (a frozen dense layer's weights), packed once into the micro-panels that
/// one micro-kernel reads, for every depth block: what <see cref="GemmDriver{TKernel}"/> would otherwise pack on every
/// call, once per column block, depth block and row block of C.
/// </summary>
/// <remarks>
/// <para>
/// Why: a predictor's batch calls multiply blocks of 256 rows by the same weights. T2's 784 x 1024 and 1024 x 1024 were
/// packed four times per 1,024-row call; packed once, its batches run 3.8% faster on one thread (Zen 5, AVX-512:
/// bench/results/zen5-avx512/prepacked-weights.md). ONNX Runtime packs its weights once when it loads a model. A B
/// narrow enough to be read in place (at most one column block) can be packed too, and the driver then reads its
/// panels; a dense layer does not ask for that (see DenseLayer.PackedWeights).
/// </para>
/// <para>
/// Layout: depth block by depth block (<see cref="GemmBlocking.DepthBlock"/> of K, the driver's blocks), each holding the
/// whole width as the driver packs a column block: panels of <c>Nr</c> columns side by side, kc x Nr floats each, the
/// last partial panel <c>PanelStride</c> wide and zero-padded. The block at depth pc starts at pc x
/// <see cref="RowLength"/>, and the panel of column j (on the Nr grid) in it at j x kc, for any column block and any
/// thread's rectangle. The kernel reads the same values as from a per-call copy, in the same order: the bits of C are
/// those of the unpacked call.
/// </para>
/// <para>
/// Memory: as much again as B (padded to whole panels), on the pinned heap, for as long as the owner keeps it.
/// </para>
/// </remarks>
internal sealed unsafe class PrepackedB
{
    private readonly AlignedBuffer _panels;

    private PrepackedB(AlignedBuffer panels, GemmPath path, int k, int n, int rowLength)
    {
        _panels = panels;
        Path = path;
        K = k;
        N = n;
        RowLength = rowLength;
    }

    /// <summary>The micro-kernel family whose panel widths this packing has; other paths pack per call as usual.</summary>
    public GemmPath Path { get; }

    /// <summary>Rows of op(B): the product's depth.</summary>
    public int K { get; }

    /// <summary>Columns of op(B) and of C.</summary>
    public int N { get; }

    /// <summary>Floats per depth step across all panels: N rounded up to whole panels (the last one possibly narrow).</summary>
    public int RowLength { get; }

    /// <summary>The first panel of the first depth block; the buffer is pinned, so the address holds for the object's life.</summary>
    public float* Panels => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(_panels.Span));

    /// <summary>Packs op(B) (K x N; stored N x K when <paramref name="transposed"/>, row stride <paramref name="ldb"/>) for <paramref name="path"/>'s kernel.</summary>
    public static PrepackedB Pack(ReadOnlySpan<float> b, int ldb, bool transposed, int k, int n, GemmPath path)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        long required = (long)((transposed ? n : k) - 1) * ldb + (transposed ? k : n);
        if (ldb < (transposed ? k : n) || b.Length < required)
            throw new ArgumentException($"'{nameof(b)}' ({b.Length} floats, row stride {ldb}) does not hold a {(transposed ? $"{n} x {k}" : $"{k} x {n}")} matrix.", nameof(b));

        (int nr, int narrowNr) = path switch
        {
            GemmPath.Avx512 => (Avx512Kernel6x64.Nr, Avx512Kernel6x64.NarrowNr),
            GemmPath.Avx2 => (Avx2Kernel6x16.Nr, Avx2Kernel6x16.NarrowNr),
            _ => (PortableKernel.Nr, PortableKernel.NarrowNr),
        };
        int full = n / nr * nr;
        int rowLength = full + (full == n ? 0 : GemmPacking.PanelStride(n - full, nr, narrowNr));
        var panels = new AlignedBuffer((long)k * rowLength);   // zeroed: the padding of a partial panel stays 0
        var packed = new PrepackedB(panels, path, k, n, rowLength);
        int depthStep = GemmBlocking.DepthBlock(k, n);
        fixed (float* source = b)
        {
            for (int pc = 0; pc < k; pc += depthStep)
            {
                int kc = Math.Min(depthStep, k - pc);
                GemmPacking.PackB(source, ldb, transposed, pc, kc, 0, n, nr, narrowNr, packed.Panels + (nint)pc * rowLength);
            }
        }

        return packed;
    }
}

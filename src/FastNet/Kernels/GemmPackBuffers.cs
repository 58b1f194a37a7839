using System.Runtime.CompilerServices;

namespace FastNet.Kernels;

/// <summary>
/// The scratch memory of one GEMM task: a packed B block, a packed A block and an edge tile.
/// </summary>
/// <remarks>
/// One array on the pinned object heap (its address never moves and may be held as a pointer), about
/// 2 MiB. A single-task GEMM uses its thread's own (<see cref="ForCurrentThread"/>, kept for the thread's
/// lifetime); a multi-task GEMM uses one per task index, kept by the calling thread's job. Either way
/// only the first call allocates. Each region starts on a 64-byte boundary so that panel loads never
/// split cache lines.
/// </remarks>
internal sealed unsafe class GemmPackBuffers
{
    /// <summary>Largest micro-kernel tile (MR * NR) of any path, the edge-tile buffer's size.</summary>
    private const int MaxTile = 1024;

    [ThreadStatic] private static GemmPackBuffers? s_current;

    private readonly float[] _storage;

    /// <summary>Packed KC x NB block of op(B).</summary>
    public readonly float* B;

    /// <summary>Floats in <see cref="A"/>.</summary>
    public static readonly int AFloats = GemmBlocking.MB * GemmBlocking.KC;

    /// <summary>Packed MB x KC block of op(A).</summary>
    public readonly float* A;

    /// <summary>An MR x NR tile for the edges of C.</summary>
    public readonly float* Tile;

    /// <summary>The offsets of one depth block's steps in A (see <see cref="APanel"/>): KC of them, or up to WholeDepth (see GemmBlocking.DepthBlock).</summary>
    public readonly nint* DepthOffsets;

    public GemmPackBuffers()
    {
        const int floatsPerLine = GemmBlocking.Alignment / sizeof(float);
        int bFloats = GemmBlocking.KC * GemmBlocking.NB;
        int aFloats = AFloats;
        // Slack of one cache line after each region: PackTransposedA may store up to 8 floats past its panel.
        int depthFloats = Math.Max(GemmBlocking.KC, GemmBlocking.WholeDepth) * sizeof(long) / sizeof(float);
        _storage = GC.AllocateUninitializedArray<float>(bFloats + aFloats + MaxTile + depthFloats + 4 * floatsPerLine, pinned: true);
        float* start = (float*)Unsafe.AsPointer(ref _storage[0]);
        nint misalignment = (nint)start % GemmBlocking.Alignment;
        float* aligned = misalignment == 0 ? start : (float*)((byte*)start + (GemmBlocking.Alignment - misalignment));
        B = aligned;
        A = B + bFloats;
        Tile = A + aFloats + floatsPerLine;
        DepthOffsets = (nint*)(Tile + MaxTile);
        new Span<float>(Tile, MaxTile).Clear();   // edge tiles read columns they do not use: keep them finite
    }

    /// <summary>The calling thread's buffers, created on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static GemmPackBuffers ForCurrentThread() => s_current ??= new GemmPackBuffers();
}

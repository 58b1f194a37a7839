using System.Runtime.CompilerServices;
using FastNet.Threading;

namespace FastNet.Kernels;

/// <summary>
/// Splits C into a grid of rectangles on the micro-tile grid and runs one <see cref="GemmDriver{TKernel}"/>
/// task per rectangle.
/// </summary>
/// <remarks>
/// Rectangles start on multiples of MR and NR, so whether a tile is interior or an edge tile depends only
/// on its place in C, never on the thread count; together with the fixed K order this makes results
/// bitwise identical for any thread count.
/// </remarks>
internal sealed unsafe class GemmParallel<TKernel> : IParallelJob where TKernel : struct, IGemmMicroKernel
{
    /// <summary>One job per calling thread, reused: the caller blocks until its job is done.</summary>
    [ThreadStatic] private static GemmParallel<TKernel>? s_job;

    private GemmProblem _problem;

    /// <summary>
    /// Pack buffers per task index, owned by this (per-caller) job: whichever thread runs task t uses
    /// buffer t, so which thread claims which task never triggers an allocation. They are created on the
    /// caller when a call first needs that many tasks.
    /// </summary>
    private GemmPackBuffers[] _buffers = [];

    /// <summary>Most tasks one call is split into: four per core, at least 8.</summary>
    private static readonly int MaxTasks = Math.Max(8, 4 * Environment.ProcessorCount);
    private int _gridRows, _gridCols, _tileRows, _tileCols;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Run(in GemmProblem p, int maxThreads)
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int tileRows = (p.M + mr - 1) / mr, tileCols = (p.N + nr - 1) / nr;
        long flops = 2L * p.M * p.N * p.K;
        // More tasks than cores only helps balance; each costs a pack buffer, so their number is capped.
        int wanted = (int)Math.Clamp(flops / GemmBlocking.MinFlopsPerTask, 1, Math.Min(maxThreads, MaxTasks));
        // B is packed again for each row block only where A is packed in blocks of MB rows in the A-panel order (and B
        // was not packed once for all calls).
        bool bPerRowBlock = p.PacksA && !p.KeepBPanelInL1 && p.PackedB == null;
        (int gridRows, int gridCols) = wanted == 1 ? (1, 1)
            : ChooseGrid(wanted, tileRows, tileCols, mr, nr, GemmBlocking.NB, bPerRowBlock ? GemmBlocking.MB : 0);

        if (gridRows * gridCols == 1)
        {
            GemmDriver<TKernel>.Run(p, 0, p.M, 0, p.N, GemmPackBuffers.ForCurrentThread());
            return;
        }

        GemmParallel<TKernel> job = s_job ??= new GemmParallel<TKernel>();
        int tasks = gridRows * gridCols;
        if (job._buffers.Length < tasks)
        {
            int had = job._buffers.Length;
            Array.Resize(ref job._buffers, tasks);
            for (int t = had; t < tasks; t++) job._buffers[t] = new GemmPackBuffers();
        }

        job._problem = p;
        (job._gridRows, job._gridCols, job._tileRows, job._tileCols) = (gridRows, gridCols, tileRows, tileCols);
        try
        {
            WorkerPool.Shared.Run(job, tasks);
        }
        finally
        {
            job._problem = default;   // drop the pointers: they are valid only during this call
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public void Execute(int task)
    {
        int gi = task / _gridCols, gj = task % _gridCols;
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int m0 = (int)((long)gi * _tileRows / _gridRows) * mr;
        int m1 = Math.Min(_problem.M, (int)((long)(gi + 1) * _tileRows / _gridRows) * mr);
        int n0 = (int)((long)gj * _tileCols / _gridCols) * nr;
        int n1 = Math.Min(_problem.N, (int)((long)(gj + 1) * _tileCols / _gridCols) * nr);
        GemmDriver<TKernel>.Run(_problem, m0, m1, n0, n1, _buffers[task]);
    }

    /// <summary>
    /// The grid with the most rectangles (at most <paramref name="tasks"/>, at least one tile each) and, among those,
    /// the one whose largest rectangle moves the least data from beyond its core's L2 per depth step: its rows of A once
    /// per column block (each block of <paramref name="columnBlock"/> columns, NB, meets every A micro-panel of the
    /// rectangle) and its columns of B once per row block (<paramref name="rowBlock"/>, MB, where B is packed again for
    /// each block of packed A; 0 where it is packed once). A rectangle no wider than NB so reads A once: under NB = 384
    /// a 1024 x 1024 C goes to four threads as 1024 x 256 strips, not 512 x 512 squares that read their A rows twice.
    /// </summary>
    internal static (int Rows, int Cols) ChooseGrid(int tasks, int tileRows, int tileCols, int mr, int nr, int columnBlock, int rowBlock)
    {
        (int Rows, int Cols) best = (1, 1);
        long bestCost = long.MaxValue;
        for (int rows = 1; rows <= Math.Min(tasks, tileRows); rows++)
        {
            int cols = Math.Min(tasks / rows, tileCols);
            long height = (long)(tileRows + rows - 1) / rows * mr, width = (long)(tileCols + cols - 1) / cols * nr;
            long columnBlocks = (width + columnBlock - 1) / columnBlock;
            long rowBlocks = rowBlock == 0 ? 1 : (height + rowBlock - 1) / rowBlock;
            long cost = height * columnBlocks + width * rowBlocks;
            if (rows * cols > best.Rows * best.Cols || (rows * cols == best.Rows * best.Cols && cost < bestCost))
            {
                best = (rows, cols);
                bestCost = cost;
            }
        }

        return best;
    }
}

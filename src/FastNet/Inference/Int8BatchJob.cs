using FastNet.Kernels;
using FastNet.Threading;

namespace FastNet.Inference;

/// <summary>
/// Runs one <see cref="Int8Dense"/> layer over a block of rows on the worker pool: task t takes a contiguous share of
/// the rows, with its own quantized-row buffer. Every row goes through the same arithmetic as a batch-1 call, so the
/// results do not depend on the thread count, nor on whether a row came alone or in a batch.
/// </summary>
/// <remarks>One per thread state (not thread-safe): the pool's tasks read the fields that <see cref="Run"/> sets.</remarks>
internal sealed unsafe class Int8BatchJob(int maxTasks, int rowBytes) : IParallelJob
{
    /// <summary>Rows below which one more task costs more (waking a worker) than it saves.</summary>
    private const int MinRowsPerTask = 8;

    private readonly byte[] _quantized = new byte[maxTasks * Int8Gemv.RowBlock * rowBytes];
    private Int8Dense? _layer;
    private float* _x;
    private float* _y;
    private int _rows;
    private int _tasks;

    /// <summary>Quantized rows per task: a block of <see cref="Int8Gemv.RowBlock"/>.</summary>
    private int TaskBytes => Int8Gemv.RowBlock * rowBytes;

    /// <summary>y = layer(x) for <paramref name="rows"/> rows, on up to <paramref name="maxThreads"/> threads (-1: every core).</summary>
    public void Run(Int8Dense layer, ReadOnlySpan<float> x, Span<float> y, int rows, int maxThreads)
    {
        int threads = maxThreads == -1 ? Environment.ProcessorCount : maxThreads;
        int tasks = Math.Clamp(Math.Min(threads, (rows + MinRowsPerTask - 1) / MinRowsPerTask), 1, maxTasks);
        fixed (float* xp = x, yp = y)
        {
            _layer = layer;
            _x = xp;
            _y = yp;
            _rows = rows;
            _tasks = tasks;
            try
            {
                WorkerPool.Shared.Run(this, tasks);
            }
            finally
            {
                _layer = null;
                _x = _y = null;
            }
        }
    }

    public void Execute(int task)
    {
        Int8Dense layer = _layer!;
        var x = new ReadOnlySpan<float>(_x, _rows * layer.Inputs);
        var y = new Span<float>(_y, _rows * layer.Outputs);
        layer.Forward(x, y, _rows * task / _tasks, _rows * (task + 1) / _tasks, _quantized.AsSpan(task * TaskBytes, TaskBytes));
    }
}

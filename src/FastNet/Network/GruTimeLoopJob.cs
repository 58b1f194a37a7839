using FastNet.Threading;

namespace FastNet;

/// <summary>
/// Runs a GRU's time loop, forward (<see cref="GruLayer.RecurSequences"/>) or back through time
/// (<see cref="GruLayer.BackSequences"/>), over blocks of the batch's sequences on the worker pool: task i steps
/// sequences [i B / n, (i + 1) B / n) of the B through all T steps on one thread, so the threads meet once per pass.
/// </summary>
/// <remarks>
/// The sequences of a batch never meet inside the recurrence: each one's step reads its own state and writes its own
/// rows of every buffer, and the weights are only read. A block's per-step GEMMs are the whole batch's on fewer rows,
/// which gives each row the same bits (at least <see cref="GruLayer.MinSequencesPerTask"/> rows: the blocked GEMM, as
/// for the whole batch), and its gate passes are row by row: so the results are those of one thread, bit for bit.
/// One job per workspace, which serves one caller at a time: the tasks read the fields that a run sets.
/// </remarks>
internal sealed unsafe class GruTimeLoopJob(GruLayer layer, GruWorkspace workspace) : IParallelJob
{
    private bool _backward;
    private int _batch;
    private int _tasks;
    private float* _values;   // forward: the layer's output; backward: the output gradient
    private int _length;

    /// <summary>The forward time loop of <paramref name="batch"/> sequences on <paramref name="tasks"/> blocks, writing <paramref name="y"/>.</summary>
    public void Forward(int batch, int tasks, Span<float> y)
    {
        fixed (float* values = y) Run(backward: false, batch, tasks, values, y.Length);
    }

    /// <summary>The time loop back through time of <paramref name="batch"/> sequences on <paramref name="tasks"/> blocks, from <paramref name="dy"/>.</summary>
    public void Backward(ReadOnlySpan<float> dy, int batch, int tasks)
    {
        fixed (float* values = dy) Run(backward: true, batch, tasks, values, dy.Length);
    }

    private void Run(bool backward, int batch, int tasks, float* values, int length)
    {
        (_backward, _batch, _tasks, _length) = (backward, batch, tasks, length);
        _values = values;
        try
        {
            WorkerPool.Shared.Run(this, tasks);
        }
        finally
        {
            _values = null;   // valid only during this call
        }
    }

    public void Execute(int task)
    {
        int first = (int)((long)task * _batch / _tasks), count = (int)((long)(task + 1) * _batch / _tasks) - first;
        if (_backward) layer.BackSequences(workspace, new ReadOnlySpan<float>(_values, _length), _batch, first, count, maxThreads: 1);
        else layer.RecurSequences(workspace, _batch, first, count, new Span<float>(_values, _length), maxThreads: 1, product: null);
    }
}

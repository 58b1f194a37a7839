using System.Runtime.ExceptionServices;
using FastNet.Threading;

namespace FastNet.Inference;

public sealed partial class Predictor
{
    /// <summary>
    /// Runs whole blocks of a <see cref="PredictBatch"/> call on the worker pool, one block per thread at a time, each
    /// through every layer on one thread with that thread's own workspace: task t takes blocks t, t + T, t + 2T... of the
    /// T tasks. Threads then meet once per call instead of once per layer per block, and the small layers (a 10-wide
    /// output layer, bias and activation, the output transform and checks) run on every thread instead of on the caller
    /// while the others wait.
    /// </summary>
    /// <remarks>
    /// The blocks are the ones the caller would run in turn, and a block's rows get the same bits on one thread as on
    /// many (the GEMM's results do not depend on its thread count), so the outputs are those of the sequential loop.
    /// So is the error: a task stops at its first failing block, and the call throws the failure of the lowest block;
    /// every block below it belongs to a task that ran it, so the outputs before it are written, as they would be in turn.
    /// One job per calling thread's state (not thread-safe): the pool's tasks read the fields that <see cref="Run"/> sets.
    /// </remarks>
    private sealed unsafe class BlockJob(Predictor predictor) : IParallelJob
    {
        private readonly int[] _failedBlock = new int[Environment.ProcessorCount];
        private readonly ExceptionDispatchInfo?[] _failure = new ExceptionDispatchInfo?[Environment.ProcessorCount];
        private float* _inputs;
        private float* _outputs;
        private int _count;
        private int _blocks;
        private int _tasks;

        /// <summary>
        /// Blocks 0 .. <paramref name="blocks"/>-1 of <paramref name="count"/> rows on <paramref name="tasks"/> tasks (at
        /// most <see cref="Environment.ProcessorCount"/>); rethrows the lowest failing block's exception.
        /// </summary>
        public void Run(ReadOnlySpan<float> inputs, Span<float> outputs, int count, int blocks, int tasks)
        {
            fixed (float* inputPointer = inputs, outputPointer = outputs)
            {
                _inputs = inputPointer;
                _outputs = outputPointer;
                (_count, _blocks, _tasks) = (count, blocks, tasks);
                Array.Fill(_failedBlock, int.MaxValue, 0, tasks);
                try
                {
                    WorkerPool.Shared.Run(this, tasks);
                }
                finally
                {
                    _inputs = _outputs = null;   // valid only during this call
                }
            }

            int first = 0;
            for (int t = 1; t < tasks; t++)
                if (_failedBlock[t] < _failedBlock[first]) first = t;
            if (_failedBlock[first] == int.MaxValue) return;
            ExceptionDispatchInfo failure = _failure[first]!;
            Array.Clear(_failure);
            failure.Throw();
        }

        public void Execute(int task)
        {
            ThreadState state = predictor._batch.Value!;   // this thread's workspace: a worker's own, made on its first block
            var inputs = new ReadOnlySpan<float>(_inputs, _count * predictor.InputSize);
            var outputs = new Span<float>(_outputs, _count * predictor.OutputSize);
            for (int block = task; block < _blocks; block += _tasks)
            {
                try
                {
                    predictor.RunBlock(state, inputs, outputs, block * BatchBlock, maxThreads: 1);
                }
                catch (Exception e)
                {
                    _failure[task] = ExceptionDispatchInfo.Capture(e);
                    _failedBlock[task] = block;
                    return;
                }
            }
        }
    }
}

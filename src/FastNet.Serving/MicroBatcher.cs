using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;
using FastNet.Inference;

namespace FastNet.Serving;

/// <summary>
/// Gathers concurrent batch-1 requests into one <see cref="Predictor.PredictBatch"/> call: one GEMM per layer
/// for many requests instead of one weight-streaming GEMV each, which raises throughput when many requests arrive
/// together.
/// </summary>
/// <remarks>
/// <para>
/// No thread of its own (flat combining): a request queues itself, and if no batch is running its caller runs one,
/// with every request queued by then (up to <see cref="MicroBatchingOptions.MaxBatchSize"/>), on its own thread.
/// Requests that arrive while a batch runs wait for the next one, so load makes batches by itself; a lone request
/// runs inline, with no hand-over between threads. The runner spins briefly, never past
/// <see cref="MicroBatchingOptions.MaxWait"/>, only for callers already on their way into the queue; it waits for
/// nothing else (in a closed loop, where each client waits for its answer, waiting for more clients only adds latency).
/// Once its own request is answered, a runner hands what is left in the queue to a thread-pool runner.
/// </para>
/// <para>
/// Requests use pooled slots (input and output buffers and a reusable awaitable), so a request allocates nothing
/// here once the pool has warmed up. Each batch runs on the model <see cref="ModelHost.Current"/> holds when the
/// batch starts. An input with NaN or infinity fails its own request only.
/// </para>
/// </remarks>
public sealed class MicroBatcher : IDisposable
{
    private readonly ModelHost _host;
    private readonly MicroBatchingOptions _options;
    private readonly ConcurrentQueue<Slot> _queue = new();
    private readonly ConcurrentQueue<Slot> _pool = new();
    private readonly List<Slot> _batch;
    private readonly Drainer _drainer;
    private float[] _inputs = [], _outputs = [];   // the running batch's rows (one runner at a time)
    private int _running;                           // 1 while a caller or the drainer runs batches
    private int _arriving;                          // callers inside PredictAsync that have not queued their request yet
    private long _batches, _requests;
    private volatile bool _disposed;

    /// <summary>A batcher over the models of <paramref name="host"/>.</summary>
    public MicroBatcher(ModelHost host, MicroBatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options.MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWait, TimeSpan.Zero, nameof(options.MaxWait));
        _host = host;
        _options = options;
        _batch = new List<Slot>(options.MaxBatchSize);
        _drainer = new Drainer(this);
    }

    /// <summary>Batches run so far.</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Requests answered so far.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Requests waiting for a batch now.</summary>
    internal int Queued => _queue.Count;

    /// <summary>
    /// Predicts <paramref name="input"/> into <paramref name="output"/> as part of a batch; returns the version of the
    /// model that answered.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong, or the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The model's outputs for this input are not finite.</exception>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]   // no state-machine box per call
    public async ValueTask<long> PredictAsync(ReadOnlyMemory<float> input, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Slot slot;
        Interlocked.Increment(ref _arriving);
        try
        {
            LoadedModel model = _host.Current;
            if (input.Length != model.Predictor.InputSize)
                throw new ArgumentException($"'{nameof(input)}' has {input.Length} values; the model takes {model.Predictor.InputSize}.", nameof(input));
            if (output.Length != model.Predictor.OutputSize)
                throw new ArgumentException($"'{nameof(output)}' has {output.Length} values; the model gives {model.Predictor.OutputSize}.", nameof(output));
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(input.Span))
                throw new ArgumentException($"'{nameof(input)}' holds NaN or infinity at feature {IndexOfNonFinite(input.Span)}.", nameof(input));
            slot = Rent(input.Length, output.Length);
            input.Span.CopyTo(slot.Input);
            _queue.Enqueue(slot);
        }
        finally
        {
            Interlocked.Decrement(ref _arriving);
        }

        try
        {
            RunBatches(slot);
            long version = await new ValueTask<long>(slot, slot.Token);   // already answered when this caller ran the batch
            slot.Output.AsSpan(0, output.Length).CopyTo(output.Span);
            return version;
        }
        finally
        {
            Return(slot);
        }
    }

    /// <summary>
    /// Becomes the runner if none is running and runs batches until <paramref name="own"/> is answered (or, for the
    /// drainer, until the queue is empty); then hands any rest to the drainer. The check after releasing the role
    /// closes the race with a caller that queued while this runner was finishing.
    /// </summary>
    private void RunBatches(Slot? own)
    {
        while (!_queue.IsEmpty && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            try
            {
                do RunOneBatch();
                while (!_queue.IsEmpty && (own is null || !own.IsAnswered));
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }

            if (own is not null && own.IsAnswered)
            {
                if (!_queue.IsEmpty) ThreadPool.UnsafeQueueUserWorkItem(_drainer, preferLocal: false);
                return;
            }
        }
    }

    private void RunOneBatch()
    {
        List<Slot> batch = _batch;
        batch.Clear();
        Take(batch);
        // Callers between their checks and the queue take a fraction of a microsecond: worth a short spin.
        if (_options.MaxWait > TimeSpan.Zero && batch.Count < _options.MaxBatchSize && Volatile.Read(ref _arriving) > 0)
        {
            long deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxWait.TotalSeconds * Stopwatch.Frequency);
            var spinner = new SpinWait();
            while (batch.Count < _options.MaxBatchSize && Volatile.Read(ref _arriving) > 0 && Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                Take(batch);
            }

            Take(batch);
        }

        if (batch.Count == 0) return;
        try
        {
            Run(batch);
        }
        catch (Exception e)
        {
            foreach (Slot slot in batch) slot.TryFail(e);   // whatever went wrong, no request is left waiting
        }
    }

    private void Take(List<Slot> batch)
    {
        while (batch.Count < _options.MaxBatchSize && _queue.TryDequeue(out Slot? slot)) batch.Add(slot);
    }

    private void Run(List<Slot> batch)
    {
        LoadedModel model = _host.Current;
        Predictor predictor = model.Predictor;
        int d = predictor.InputSize, o = predictor.OutputSize;
        // ModelHost keeps the sizes of reloaded models; still, a slot of other sizes fails alone rather than corrupting the batch.
        int n = 0;
        foreach (Slot slot in batch)
            if (slot.InputLength == d && slot.OutputLength == o) n++;
        if (_inputs.Length < n * d) _inputs = new float[_options.MaxBatchSize * d];
        if (_outputs.Length < n * o) _outputs = new float[_options.MaxBatchSize * o];
        int row = 0;
        foreach (Slot slot in batch)
            if (slot.InputLength == d && slot.OutputLength == o) slot.Input.AsSpan(0, d).CopyTo(_inputs.AsSpan(row++ * d, d));

        Exception? batchError = null;
        try
        {
            // One request is a batch-1 call (the GEMV path): a lone request gets exactly what an unbatched service gives.
            if (n == 1) predictor.Predict(_inputs.AsSpan(0, d), _outputs.AsSpan(0, o));
            else if (n > 1) predictor.PredictBatch(_inputs.AsSpan(0, n * d), _outputs.AsSpan(0, n * o), _options.MaxThreads);
        }
        catch (ArithmeticException e)
        {
            batchError = e;   // some row's outputs are not finite: answer row by row below, so only that request fails
        }

        Volatile.Write(ref _batches, _batches + 1);
        Volatile.Write(ref _requests, _requests + batch.Count);
        row = 0;
        foreach (Slot slot in batch)
        {
            if (slot.InputLength != d || slot.OutputLength != o)
            {
                slot.TryFail(new InvalidOperationException("The model was replaced by one of other sizes while the request waited."));
                continue;
            }

            if (batchError is null)
            {
                _outputs.AsSpan(row * o, o).CopyTo(slot.Output);
                slot.Succeed(model.Version);
            }
            else
            {
                try
                {
                    predictor.Predict(slot.Input.AsSpan(0, d), slot.Output.AsSpan(0, o));
                    slot.Succeed(model.Version);
                }
                catch (ArithmeticException e)
                {
                    slot.TryFail(e);
                }
            }

            row++;
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    private Slot Rent(int inputs, int outputs)
    {
        if (!_pool.TryDequeue(out Slot? slot)) slot = new Slot();
        slot.Prepare(inputs, outputs);
        return slot;
    }

    private void Return(Slot slot) => _pool.Enqueue(slot);

    /// <summary>
    /// For tests: holds the runner role, so requests queue up until the returned handle is disposed, which then runs
    /// them (in batches of up to MaxBatchSize).
    /// </summary>
    internal IDisposable HoldBatches()
    {
        while (Interlocked.CompareExchange(ref _running, 1, 0) != 0) Thread.Yield();
        return new Release(this);
    }

    private sealed class Release(MicroBatcher batcher) : IDisposable
    {
        public void Dispose()
        {
            Volatile.Write(ref batcher._running, 0);
            batcher.RunBatches(own: null);
        }
    }

    /// <summary>Later calls throw <see cref="ObjectDisposedException"/>; requests already queued are still answered.</summary>
    public void Dispose() => _disposed = true;

    /// <summary>Runs what a finished runner left in the queue, on a thread-pool thread (one cached instance: no allocation).</summary>
    private sealed class Drainer(MicroBatcher batcher) : IThreadPoolWorkItem
    {
        public void Execute() => batcher.RunBatches(own: null);
    }

    /// <summary>A request's buffers and its reusable awaitable (one outstanding await at a time, reset on rent).</summary>
    private sealed class Slot : IValueTaskSource<long>
    {
        private ManualResetValueTaskSourceCore<long> _core = new() { RunContinuationsAsynchronously = true };
        private int _answered;

        public float[] Input { get; private set; } = [];
        public float[] Output { get; private set; } = [];
        public int InputLength { get; private set; }
        public int OutputLength { get; private set; }
        public short Token => _core.Version;
        public bool IsAnswered => Volatile.Read(ref _answered) == 1;

        public void Prepare(int inputs, int outputs)
        {
            if (Input.Length < inputs) Input = new float[inputs];
            if (Output.Length < outputs) Output = new float[outputs];
            InputLength = inputs;
            OutputLength = outputs;
            _answered = 0;
            _core.Reset();
        }

        public void Succeed(long version)
        {
            if (Interlocked.Exchange(ref _answered, 1) == 0) _core.SetResult(version);
        }

        public void TryFail(Exception error)
        {
            if (Interlocked.Exchange(ref _answered, 1) == 0) _core.SetException(error);
        }

        public long GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);
    }
}

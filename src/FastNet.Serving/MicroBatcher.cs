using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using FastNet.Inference;

namespace FastNet.Serving;

/// <summary>
/// Gathers concurrent batch-1 requests into one <see cref="Predictor.PredictBatch"/> call: one GEMM per layer
/// for many requests instead of one weight-streaming GEMV each, which raises throughput when many requests arrive
/// together. A dedicated thread forms the batches: it takes every request already queued, up to
/// <see cref="MicroBatchingOptions.MaxBatchSize"/> (requests pile up while a batch runs, so load makes batches by
/// itself), and spins briefly, never past <see cref="MicroBatchingOptions.MaxWait"/>, only for callers already
/// inside <see cref="PredictAsync"/> on their way to the queue. A lone request runs at once, so idle latency stays
/// that of a batch-1 call plus a hand-over between threads.
/// </summary>
/// <remarks>
/// Requests use pooled slots (input and output buffers and a reusable awaitable), so a request allocates nothing
/// here once the pool has warmed up. Each batch runs on the model <see cref="ModelHost.Current"/> holds when the
/// batch starts. An input with NaN or infinity fails its own request only.
/// </remarks>
public sealed class MicroBatcher : IDisposable
{
    private readonly ModelHost _host;
    private readonly MicroBatchingOptions _options;
    private readonly ConcurrentQueue<Slot> _queue = new();
    private readonly ConcurrentQueue<Slot> _pool = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private int _arriving;   // callers inside PredictAsync that have not queued their request yet
    private volatile bool _stopping;

    /// <summary>Starts the batching thread over the models of <paramref name="host"/>.</summary>
    public MicroBatcher(ModelHost host, MicroBatchingOptions options)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, nameof(options.MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxWait, TimeSpan.Zero, nameof(options.MaxWait));
        _host = host;
        _options = options;
        _thread = new Thread(Loop) { IsBackground = true, Name = "FastNet micro-batcher" };
        _thread.Start();
    }

    /// <summary>Batches formed so far.</summary>
    public long Batches { get; private set; }

    /// <summary>Requests served so far.</summary>
    public long Requests { get; private set; }

    /// <summary>
    /// Predicts <paramref name="input"/> into <paramref name="output"/> as part of a batch; returns the version of the
    /// model that answered.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong, or the input holds NaN or infinity.</exception>
    /// <exception cref="ArithmeticException">The model's outputs for this input are not finite.</exception>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]   // no state-machine box per call
    public async ValueTask<long> PredictAsync(ReadOnlyMemory<float> input, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
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

        _signal.Release();
        try
        {
            long version = await new ValueTask<long>(slot, slot.Token);
            slot.Output.AsSpan(0, output.Length).CopyTo(output.Span);
            return version;
        }
        finally
        {
            Return(slot);
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

    private void Loop()
    {
        var batch = new List<Slot>(_options.MaxBatchSize);
        float[] inputs = [], outputs = [];
        while (true)
        {
            _signal.Wait();
            if (_stopping) break;
            batch.Clear();
            Take(batch);
            // Callers between their checks and the queue (a fraction of a microsecond each) are worth a short spin, never
            // past MaxWait. Nothing else is waited for: clients that are still sending are unknown, and in a closed loop
            // (each client waits for its answer) waiting for them only adds latency. Load makes batches by itself,
            // since requests pile up while a batch runs.
            if (_options.MaxWait > TimeSpan.Zero && batch.Count < _options.MaxBatchSize && Volatile.Read(ref _arriving) > 0)
            {
                long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(_options.MaxWait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                var spinner = new SpinWait();
                while (batch.Count < _options.MaxBatchSize && Volatile.Read(ref _arriving) > 0 && System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                    Take(batch);
                }

                Take(batch);
            }

            if (batch.Count == 0) continue;   // the slots this signal announced were taken with an earlier one
            Run(batch, ref inputs, ref outputs);
        }
    }

    /// <summary>Moves queued slots into the batch, consuming their signals (each enqueue released one).</summary>
    private void Take(List<Slot> batch)
    {
        while (batch.Count < _options.MaxBatchSize && _queue.TryDequeue(out Slot? slot))
        {
            batch.Add(slot);
            if (batch.Count > 1) _signal.Wait(0);   // the first slot's signal was consumed by the loop's Wait
        }
    }

    private void Run(List<Slot> batch, ref float[] inputs, ref float[] outputs)
    {
        LoadedModel model = _host.Current;
        Predictor predictor = model.Predictor;
        int d = predictor.InputSize, o = predictor.OutputSize;
        // A reload between a request's check and its batch may have changed nothing but the weights (sizes are kept
        // equal by ModelHost); still, a slot of other sizes fails alone rather than corrupting the batch.
        int n = 0;
        foreach (Slot slot in batch)
        {
            if (slot.InputLength == d && slot.OutputLength == o) n++;
        }

        if (inputs.Length < n * d) inputs = new float[Math.Max(n, _options.MaxBatchSize) * d];
        if (outputs.Length < n * o) outputs = new float[Math.Max(n, _options.MaxBatchSize) * o];
        int row = 0;
        foreach (Slot slot in batch)
            if (slot.InputLength == d && slot.OutputLength == o) slot.Input.AsSpan(0, d).CopyTo(inputs.AsSpan(row++ * d, d));

        Exception? batchError = null;
        try
        {
            if (n > 0) predictor.PredictBatch(inputs.AsSpan(0, n * d), outputs.AsSpan(0, n * o), _options.MaxThreads);
        }
        catch (ArithmeticException e)
        {
            batchError = e;   // some row's outputs are not finite: answer row by row below, so only that request fails
        }

        Batches++;
        Requests += batch.Count;
        row = 0;
        foreach (Slot slot in batch)
        {
            if (slot.InputLength != d || slot.OutputLength != o)
            {
                slot.Fail(new InvalidOperationException("The model was replaced by one of other sizes while the request waited."));
                continue;
            }

            if (batchError is null)
            {
                outputs.AsSpan(row * o, o).CopyTo(slot.Output);
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
                    slot.Fail(e);
                }
            }

            row++;
        }
    }

    /// <summary>Stops the batching thread after the batch it is running; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _signal.Release();
        _thread.Join();
        while (_queue.TryDequeue(out Slot? slot)) slot.Fail(new ObjectDisposedException(nameof(MicroBatcher)));
        _signal.Dispose();
    }

    /// <summary>A request's buffers and its reusable awaitable (one outstanding await at a time, reset on rent).</summary>
    private sealed class Slot : IValueTaskSource<long>
    {
        private ManualResetValueTaskSourceCore<long> _core = new() { RunContinuationsAsynchronously = true };

        public float[] Input { get; private set; } = [];
        public float[] Output { get; private set; } = [];
        public int InputLength { get; private set; }
        public int OutputLength { get; private set; }
        public short Token => _core.Version;

        public void Prepare(int inputs, int outputs)
        {
            if (Input.Length < inputs) Input = new float[inputs];
            if (Output.Length < outputs) Output = new float[outputs];
            InputLength = inputs;
            OutputLength = outputs;
            _core.Reset();
        }

        public void Succeed(long version) => _core.SetResult(version);

        public void Fail(Exception error) => _core.SetException(error);

        public long GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);
    }
}

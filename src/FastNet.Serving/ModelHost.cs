using System.Security.Cryptography;
using FastNet.Inference;
using FastNet.Onnx;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastNet.Serving;

/// <summary>
/// The one model a process serves, replaceable while it serves: <see cref="Current"/> is an immutable
/// <see cref="LoadedModel"/> that a reload swaps atomically. A request reads <see cref="Current"/> once and uses that
/// snapshot to the end, so requests in flight finish on the old model and new ones get the new one. A reload loads
/// and warms the new file completely before the swap; a file that fails to load (truncated, corrupt, not a model,
/// another input size) is logged and rejected, and the old model keeps serving.
/// </summary>
/// <remarks>
/// Replaced snapshots are not disposed: a request may still hold one. Their predictors' per-thread workspaces are
/// reclaimed by the garbage collector once no request refers to them.
/// </remarks>
public sealed class ModelHost : IDisposable
{
    private readonly FastNetServingOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _reloadLock = new();
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer? _debounce;
    private LoadedModel _current;
    private bool _disposed;

    /// <summary>Loads and warms up the model at <see cref="FastNetServingOptions.ModelPath"/>; it serves as soon as this returns.</summary>
    /// <exception cref="FileNotFoundException">There is no model file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model.</exception>
    /// <exception cref="NotSupportedException">An ONNX file uses what FastNet cannot import.</exception>
    public ModelHost(FastNetServingOptions options, ILogger<ModelHost>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ModelPath, nameof(options.ModelPath));
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        ModelPath = Path.GetFullPath(options.ModelPath);
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"The model file {ModelPath} does not exist.", ModelPath);
        _current = Load(version: 1);
        _logger.LogInformation("Serving {Path} (version 1, SHA-256 {Hash}, {Inputs} -> {Outputs}).", ModelPath, _current.Sha256, _current.Predictor.InputSize, _current.Predictor.OutputSize);

        if (options.WatchForChanges)
        {
            _debounce = new Timer(_ => ReloadFromWatch());
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(ModelPath)!, Path.GetFileName(ModelPath))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _watcher.Changed += (_, _) => ScheduleReload();
            _watcher.Created += (_, _) => ScheduleReload();
            _watcher.Renamed += (_, e) => { if (string.Equals(e.FullPath, ModelPath, StringComparison.Ordinal)) ScheduleReload(); };
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>The model file this host serves and watches.</summary>
    public string ModelPath { get; }

    /// <summary>The model serving now. Read it once per request.</summary>
    public LoadedModel Current => Volatile.Read(ref _current);

    /// <summary>Raised after each reload attempt: the new model, or the error that kept the old one.</summary>
    public event EventHandler<ModelReloadedEventArgs>? Reloaded;

    /// <summary>
    /// Loads the file again and swaps it in if it is a valid model with the same input and output sizes; otherwise
    /// keeps the current model. Returns the model serving afterwards. Safe to call from any thread; reloads run one
    /// at a time.
    /// </summary>
    public ModelReloadedEventArgs Reload()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        ModelReloadedEventArgs result;
        lock (_reloadLock)
        {
            LoadedModel old = Current;
            try
            {
                LoadedModel loaded = Load(old.Version + 1);
                if (loaded.Sha256 == old.Sha256)
                {
                    result = new ModelReloadedEventArgs(old, null, changed: false);
                }
                else if (loaded.Predictor.InputSize != old.Predictor.InputSize || loaded.Predictor.OutputSize != old.Predictor.OutputSize)
                {
                    throw new InvalidDataException(
                        $"the new model maps {loaded.Predictor.InputSize} inputs to {loaded.Predictor.OutputSize} outputs, the serving one {old.Predictor.InputSize} to {old.Predictor.OutputSize}: clients would break.");
                }
                else
                {
                    Volatile.Write(ref _current, loaded);
                    _logger.LogInformation("Reloaded {Path}: version {Version}, SHA-256 {Hash}.", ModelPath, loaded.Version, loaded.Sha256);
                    result = new ModelReloadedEventArgs(loaded, null, changed: true);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException or ArgumentException)
            {
                _logger.LogError("Rejected a new version of {Path}: {Error} Still serving version {Version} (SHA-256 {Hash}).", ModelPath, e.Message, old.Version, old.Sha256);
                result = new ModelReloadedEventArgs(old, e, changed: false);
            }
        }

        Reloaded?.Invoke(this, result);
        return result;
    }

    /// <summary>Reads the file once (the bytes hashed are the bytes loaded), builds and warms its predictor.</summary>
    private LoadedModel Load(long version)
    {
        byte[] bytes = File.ReadAllBytes(ModelPath);
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        // A FastNet file may hold a predictor's bfloat16 or int8 weights: it loads in that precision.
        Predictor predictor = Path.GetExtension(ModelPath).Equals(".onnx", StringComparison.OrdinalIgnoreCase)
            ? OnnxImport.Read(new MemoryStream(bytes)).CreatePredictor(_options.PredictorOptions)
            : Predictor.Read(new MemoryStream(bytes), _options.PredictorOptions);
        WarmUp(predictor, _options.WarmupCalls);
        return new LoadedModel(predictor, version, ModelPath, hash, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Runs batch-1 predictions on as many threads as the machine has cores (each creates its workspace) and a few
    /// batches, so the first requests do not pay for first calls.
    /// </summary>
    private static void WarmUp(Predictor predictor, int calls)
    {
        if (calls <= 0) return;
        var input = new float[predictor.InputSize];
        Parallel.For(0, Environment.ProcessorCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, _ =>
        {
            var output = new float[predictor.OutputSize];
            for (int i = 0; i < calls; i++) predictor.Predict(input, output);
        });
        var inputs = new float[Predictor.BatchBlock * predictor.InputSize];
        var outputs = new float[Predictor.BatchBlock * predictor.OutputSize];
        for (int i = 0; i < 4; i++) predictor.PredictBatch(inputs, outputs);
    }

    private void ScheduleReload()
    {
        if (!Volatile.Read(ref _disposed)) _debounce?.Change(_options.ReloadDebounce, Timeout.InfiniteTimeSpan);
    }

    private void ReloadFromWatch()
    {
        if (Volatile.Read(ref _disposed) || !File.Exists(ModelPath)) return;   // deleted: keep serving, wait for a new file
        try
        {
            Reload();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A timer thread must not end the process: whatever the new file did, the old model keeps serving.
            _logger.LogError(e, "Reloading {Path} failed; still serving version {Version}.", ModelPath, Current.Version);
        }
    }

    /// <summary>Stops watching the file. The current model's predictor stays usable by requests still holding it.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _watcher?.Dispose();
        _debounce?.Dispose();
    }
}

/// <summary>The outcome of a reload.</summary>
public sealed class ModelReloadedEventArgs : EventArgs
{
    internal ModelReloadedEventArgs(LoadedModel serving, Exception? error, bool changed)
    {
        Serving = serving;
        Error = error;
        Changed = changed;
    }

    /// <summary>The model serving after the reload (the new one, or the old one when the new file was rejected or identical).</summary>
    public LoadedModel Serving { get; }

    /// <summary>Why the new file was rejected, or null.</summary>
    public Exception? Error { get; }

    /// <summary>Whether a new model was swapped in.</summary>
    public bool Changed { get; }
}

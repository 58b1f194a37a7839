namespace FastNet.Training;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its handler at once, on the thread that reports: for <see cref="Trainer.Fit"/>,
/// the training thread, between batches, in order.
/// </summary>
/// <remarks>
/// <see cref="Progress{T}"/> posts each report to the captured synchronization context; a console app has none, so
/// its reports run on thread-pool threads, concurrently and out of order (epoch 3 may print before epoch 2). This
/// one has no such surprise; keep its handler short, since training waits for it.
/// </remarks>
/// <typeparam name="T">What is reported (<see cref="EpochReport"/>, <see cref="BatchProgress"/>).</typeparam>
public sealed class InlineProgress<T> : IProgress<T>
{
    private readonly Action<T> _handler;

    /// <summary>Creates the progress sink.</summary>
    /// <param name="handler">Runs for each report, on the reporting thread.</param>
    public InlineProgress(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    /// <inheritdoc/>
    public void Report(T value) => _handler(value);
}

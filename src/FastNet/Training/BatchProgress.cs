namespace FastNet.Training;

/// <summary>
/// Where <see cref="Trainer.Fit"/> stands after one batch, for live progress displays. A struct, so that
/// reporting it through <see cref="IProgress{T}"/> allocates nothing (the receiver runs on the training thread
/// between batches: keep it short).
/// </summary>
/// <param name="Epoch">Epoch number, from 1.</param>
/// <param name="SamplesDone">Samples trained on so far in this epoch.</param>
/// <param name="SamplesInEpoch">Samples this epoch will train on (the last partial batch excluded when it is dropped).</param>
/// <param name="BatchLoss">Loss of the batch just trained on, before its update.</param>
/// <param name="Elapsed">Time since the epoch began.</param>
public readonly record struct BatchProgress(int Epoch, int SamplesDone, int SamplesInEpoch, float BatchLoss, TimeSpan Elapsed)
{
    /// <summary>Training samples per second in this epoch so far.</summary>
    public double SamplesPerSecond => Elapsed > TimeSpan.Zero ? SamplesDone / Elapsed.TotalSeconds : 0;
}

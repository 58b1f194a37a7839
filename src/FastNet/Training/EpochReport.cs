namespace FastNet.Training;

/// <summary>What one epoch of <see cref="Trainer.Fit"/> measured.</summary>
/// <param name="Epoch">Epoch number, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches (weighted by batch size).</param>
/// <param name="TrainAccuracy">Fraction of training samples classified right during the epoch (NaN when not a classification).</param>
/// <param name="ValidationLoss">Loss on the validation set after the epoch (NaN without one).</param>
/// <param name="ValidationAccuracy">Accuracy on the validation set after the epoch (NaN without one or when not a classification).</param>
/// <param name="SamplesPerSecond">Training samples per second (batch gathering and steps, no evaluation).</param>
/// <param name="Elapsed">Wall time of the epoch, evaluation included.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy,
    double SamplesPerSecond, TimeSpan Elapsed);

/// <summary>The epochs of one <see cref="Trainer.Fit"/> call.</summary>
/// <param name="Epochs">One report per completed epoch.</param>
/// <param name="Cancelled">Whether the cancellation token stopped training early (after a whole batch).</param>
public sealed record TrainingHistory(IReadOnlyList<EpochReport> Epochs, bool Cancelled);

/// <summary>
/// Training produced a NaN or infinite loss or backpropagated error. The update that would have used it
/// was not applied: the network holds the parameters of the last good step.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message) : base(message) { }
}

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
public sealed record TrainingHistory(IReadOnlyList<EpochReport> Epochs, bool Cancelled)
{
    /// <summary>Whether <see cref="Trainer.EarlyStopping"/> ended training before the last epoch.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>
    /// With <see cref="Trainer.EarlyStopping"/>: the epoch (from 1) with the lowest validation loss, whose parameters
    /// the network holds when <see cref="Training.EarlyStopping.RestoreBestWeights"/> is set; 0 without early stopping.
    /// </summary>
    public int BestEpoch { get; init; }

    /// <summary>One line per epoch, then how training ended.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        foreach (EpochReport e in Epochs)
        {
            text.Append(culture, $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}");
            if (!double.IsNaN(e.TrainAccuracy)) text.Append(culture, $", train accuracy {e.TrainAccuracy:P2}");
            if (!double.IsNaN(e.ValidationLoss)) text.Append(culture, $", validation loss {e.ValidationLoss:F4}");
            if (!double.IsNaN(e.ValidationAccuracy)) text.Append(culture, $", validation accuracy {e.ValidationAccuracy:P2}");
            text.Append(culture, $", {e.SamplesPerSecond:N0} samples/s, {e.Elapsed.TotalSeconds:F2} s").AppendLine();
        }

        text.Append(culture, $"{Epochs.Count} epoch(s)");
        if (Cancelled) text.Append(", cancelled");
        if (StoppedEarly) text.Append(", stopped early");
        if (BestEpoch > 0) text.Append(culture, $", best epoch {BestEpoch}");
        return text.Append('.').ToString();
    }
}

/// <summary>
/// Training produced a NaN or infinite loss or backpropagated error (with finite data: the learning rate is too large
/// or the loss landscape too steep). The update that would have used it was not applied, and the step's parameters
/// (which gave it) were replaced by the last ones that were finite and gave a finite loss: the network stays usable.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message) : base(message) { }
}

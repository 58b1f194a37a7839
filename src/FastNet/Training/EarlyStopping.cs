namespace FastNet.Training;

/// <summary>
/// Stops <see cref="Trainer.Fit"/> when the validation loss has not improved for <see cref="Patience"/> epochs in a
/// row, and (by default) leaves the network with the parameters of the epoch whose validation loss was lowest
/// (Keras' EarlyStopping on val_loss with restore_best_weights, PyTorch Lightning's EarlyStopping).
/// </summary>
public sealed class EarlyStopping
{
    /// <summary>Creates the rule.</summary>
    /// <param name="patience">Epochs without improvement after which training stops (at least 1).</param>
    /// <param name="minDelta">How much lower than the best so far a validation loss must be to count as an improvement (0 or more).</param>
    /// <param name="restoreBestWeights">Whether Fit ends with the parameters of the best epoch rather than the last.</param>
    public EarlyStopping(int patience, double minDelta = 0, bool restoreBestWeights = true)
    {
        Guard.Positive(patience);
        if (!(minDelta >= 0) || double.IsInfinity(minDelta))
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"'{nameof(minDelta)}' must be finite and non-negative.");
        Patience = patience;
        MinDelta = minDelta;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>Epochs without improvement after which training stops.</summary>
    public int Patience { get; }

    /// <summary>The least decrease of the validation loss that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>
    /// Whether Fit ends with the parameters of the epoch with the lowest validation loss (whether it stopped early or
    /// ran every epoch). The optimizer's state stays that of the last step.
    /// </summary>
    public bool RestoreBestWeights { get; }
}

namespace FastNet.Training;

/// <summary>
/// Sets the optimizer's learning rate at the start of each epoch of <see cref="Trainer.Fit"/>, as a
/// function of the epoch (from 1) and the rate the optimizer had when Fit began.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for <paramref name="epoch"/> (1-based), given the initial rate.</summary>
    public abstract float RateAt(int epoch, float initialRate);
}

/// <summary>Multiplies the rate by <c>factor</c> every <c>stepEpochs</c> epochs (PyTorch's StepLR).</summary>
public sealed class StepDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepEpochs">Epochs between decays.</param>
    /// <param name="factor">Multiplier applied at each decay, in (0, 1].</param>
    public StepDecay(int stepEpochs, float factor)
    {
        Guard.Positive(stepEpochs);
        if (!(factor > 0f && factor <= 1f)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "'factor' must be in (0, 1].");
        StepEpochs = stepEpochs;
        Factor = factor;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepEpochs { get; }

    /// <summary>Multiplier per decay.</summary>
    public float Factor { get; }

    /// <inheritdoc/>
    public override float RateAt(int epoch, float initialRate) => initialRate * MathF.Pow(Factor, (epoch - 1) / StepEpochs);
}

/// <summary>
/// Cosine annealing over <c>totalEpochs</c> (PyTorch's CosineAnnealingLR stepped per epoch):
/// lr(e) = min + (initial - min) * (1 + cos(pi * (e - 1) / totalEpochs)) / 2, held at its last value after.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalEpochs">Length of the half cosine, in epochs.</param>
    /// <param name="minimumRate">Rate the curve tends to.</param>
    public CosineDecay(int totalEpochs, float minimumRate = 0f)
    {
        Guard.Positive(totalEpochs);
        if (!(minimumRate >= 0f)) throw new ArgumentOutOfRangeException(nameof(minimumRate), minimumRate, "'minimumRate' must be non-negative.");
        TotalEpochs = totalEpochs;
        MinimumRate = minimumRate;
    }

    /// <summary>Length of the half cosine.</summary>
    public int TotalEpochs { get; }

    /// <summary>Rate the curve tends to.</summary>
    public float MinimumRate { get; }

    /// <inheritdoc/>
    public override float RateAt(int epoch, float initialRate)
    {
        int e = Math.Clamp(epoch - 1, 0, TotalEpochs - 1);   // the last epoch keeps a positive rate even with minimum 0
        return MinimumRate + (initialRate - MinimumRate) * (1f + MathF.Cos(MathF.PI * e / TotalEpochs)) / 2f;
    }
}

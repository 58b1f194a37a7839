namespace FastNet.Data;

/// <summary>
/// Samples held in memory: features row-major [Count x FeatureCount], and either integer class labels
/// or float target rows [Count x TargetCount] (one-hot, probabilities or regression values).
/// </summary>
public sealed class Dataset
{
    private readonly float[] _features;
    private readonly int[]? _labels;
    private readonly float[]? _targets;

    private Dataset(float[] features, int featureCount, int[]? labels, float[]? targets, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        Guard.Positive(featureCount);
        if (features.Length % featureCount != 0)
            throw new ArgumentException($"'{nameof(features)}' has {features.Length} values, not a multiple of {featureCount} features.", nameof(features));
        _features = features;
        FeatureCount = featureCount;
        Count = features.Length / featureCount;
        _labels = labels;
        _targets = targets;
        TargetCount = targetCount;
    }

    /// <summary>A classification set: one integer label in 0..<paramref name="classCount"/>-1 per sample.</summary>
    public static Dataset WithLabels(float[] features, int featureCount, int[] labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Guard.Positive(classCount);
        var set = new Dataset(features, featureCount, labels, null, classCount);
        if (labels.Length != set.Count)
            throw new ArgumentException($"There are {labels.Length} labels for {set.Count} samples.", nameof(labels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label of sample {i} is outside 0..{classCount - 1}.");
        return set;
    }

    /// <summary>A set with float target rows of <paramref name="targetCount"/> values per sample.</summary>
    public static Dataset WithTargets(float[] features, int featureCount, float[] targets, int targetCount)
    {
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(targetCount);
        var set = new Dataset(features, featureCount, null, targets, targetCount);
        if (targets.Length != (long)set.Count * targetCount)
            throw new ArgumentException($"'{nameof(targets)}' has {targets.Length} values; {set.Count} samples x {targetCount} need {(long)set.Count * targetCount}.", nameof(targets));
        return set;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Features per sample.</summary>
    public int FeatureCount { get; }

    /// <summary>Classes (labelled sets) or values per target row.</summary>
    public int TargetCount { get; }

    /// <summary>Whether targets are integer labels (else float rows).</summary>
    public bool HasLabels => _labels is not null;

    /// <summary>All features, row-major.</summary>
    public ReadOnlySpan<float> Features => _features;

    /// <summary>Integer labels (empty for a set with float targets).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>Float target rows (empty for a labelled set).</summary>
    public ReadOnlySpan<float> Targets => _targets;

    /// <summary>Features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index) => _features.AsSpan(index * FeatureCount, FeatureCount);
}

namespace FastNet.Data;

/// <summary>
/// Samples held in memory: features row-major [Count x FeatureCount], and either integer class labels
/// or float target rows [Count x TargetCount] (one-hot, probabilities or regression values).
/// </summary>
/// <remarks>
/// A dataset uses the arrays it is given, without copying them, and checks them once: the labels when it is made, the
/// features and float targets (NaN, infinity) the first time a <see cref="Training.Trainer"/> trains on it or evaluates
/// it. Values changed in those arrays afterwards are not checked again; make a new <see cref="Dataset"/> over them (a
/// NaN that slips in that way is still no silent answer: training reports it as a divergence).
/// </remarks>
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

    /// <summary>
    /// Whether every feature and float target was found finite (the trainer's scan, <c>Trainer.CheckFinite</c>), so that
    /// later Fit and Evaluate calls need not read the whole set again (on the training benchmark's T1 set, 40 MB, the
    /// scan was 4% of a one-epoch Fit on one thread: bench/results/zen5-avx512/dataset-scan.md). Set only after a scan
    /// found nothing; trainers racing on two threads at worst both scan.
    /// </summary>
    internal bool ValuesChecked { get; set; }

    /// <summary>Features of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index) => _features.AsSpan(index * FeatureCount, FeatureCount);

    /// <summary>
    /// Splits the samples by a seeded permutation: the first <paramref name="trainCount"/> of the permutation
    /// form the training set, the rest the test set. The same seed gives the same split.
    /// </summary>
    public (Dataset Train, Dataset Test) Split(int trainCount, int seed)
    {
        if (trainCount <= 0 || trainCount >= Count)
            throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, $"'{nameof(trainCount)}' must be between 1 and {Count - 1}.");
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new Random(seed).Shuffle(order);
        return (Subset(order.AsSpan(0, trainCount)), Subset(order.AsSpan(trainCount)));
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order, as a new dataset (copied).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var features = new float[(long)indices.Length * FeatureCount];
        for (int r = 0; r < indices.Length; r++)
        {
            int i = indices[r];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"Index {i} is outside 0..{Count - 1}.");
            Sample(i).CopyTo(features.AsSpan(r * FeatureCount, FeatureCount));
        }

        if (_labels is not null)
        {
            var labels = new int[indices.Length];
            for (int r = 0; r < indices.Length; r++) labels[r] = _labels[indices[r]];
            return new Dataset(features, FeatureCount, labels, null, TargetCount);
        }

        var targets = new float[(long)indices.Length * TargetCount];
        for (int r = 0; r < indices.Length; r++)
            _targets.AsSpan(indices[r] * TargetCount, TargetCount).CopyTo(targets.AsSpan(r * TargetCount, TargetCount));
        return new Dataset(features, FeatureCount, null, targets, TargetCount);
    }

    /// <summary>A labelled set as one-hot target rows (for losses that take float targets); the features are shared.</summary>
    public Dataset ToOneHot()
    {
        if (_labels is null) throw new InvalidOperationException("This dataset has float targets already, not labels.");
        var targets = new float[(long)Count * TargetCount];
        for (int i = 0; i < Count; i++) targets[(long)i * TargetCount + _labels[i]] = 1f;
        return new Dataset(_features, FeatureCount, null, targets, TargetCount);
    }
}

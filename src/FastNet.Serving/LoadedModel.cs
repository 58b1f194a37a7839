using FastNet.Inference;

namespace FastNet.Serving;

/// <summary>
/// One loaded model, immutable: its predictor and where it came from. <see cref="ModelHost"/> swaps whole snapshots,
/// so a request that took one sees the same model from start to end, even while a reload replaces it.
/// </summary>
public sealed class LoadedModel
{
    internal LoadedModel(Predictor predictor, long version, string path, string sha256, DateTimeOffset loadedAt)
    {
        Predictor = predictor;
        Version = version;
        Path = path;
        Sha256 = sha256;
        LoadedAt = loadedAt;
    }

    /// <summary>The thread-safe, allocation-free predictor of this model.</summary>
    public Predictor Predictor { get; }

    /// <summary>1 for the model loaded at start, then one more for every successful reload.</summary>
    public long Version { get; }

    /// <summary>The file it was loaded from (full path).</summary>
    public string Path { get; }

    /// <summary>SHA-256 of the file's bytes, lower-case hex: which model this is, whatever its name.</summary>
    public string Sha256 { get; }

    /// <summary>When loading (and warm-up) finished.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>The model's names, labels, normalization and output transform.</summary>
    public ModelMetadata Metadata => Predictor.Metadata;
}

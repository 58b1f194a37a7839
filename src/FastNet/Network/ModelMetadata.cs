namespace FastNet;

/// <summary>
/// What travels with a network so that it can be used without its training code: the names of its input and
/// output, the label of each output class, how raw inputs are normalized, and what is applied to the outputs.
/// Saved in FastNet's model file and in ONNX files (metadata_props, and the operators it stands for).
/// </summary>
/// <remarks>Immutable; <see cref="Network.Metadata"/> checks it against the network's sizes when set.</remarks>
public sealed record ModelMetadata
{
    private readonly IReadOnlyList<string>? _classLabels;

    /// <summary>No names, labels, normalization or output transform.</summary>
    public static ModelMetadata Empty { get; } = new();

    /// <summary>The input's name (an ONNX graph input's name), or null.</summary>
    public string? InputName { get; init; }

    /// <summary>The output's name (an ONNX graph output's name), or null.</summary>
    public string? OutputName { get; init; }

    /// <summary>One label per output (class names), or null. Stored as a copy.</summary>
    public IReadOnlyList<string>? ClassLabels
    {
        get => _classLabels;
        init
        {
            if (value is not null && value.Any(label => label is null))
                throw new ArgumentException("A class label is null.", nameof(ClassLabels));
            _classLabels = value?.ToArray().AsReadOnly();
        }
    }

    /// <summary>Applied to raw inputs before the first layer, or null.</summary>
    public InputNormalization? InputNormalization { get; init; }

    /// <summary>Applied to the last layer's outputs by a predictor.</summary>
    public OutputTransform OutputTransform { get; init; }

    /// <summary>Equal when every field is: names, transform, labels and normalization values alike (compared by value).</summary>
    public bool Equals(ModelMetadata? other) =>
        other is not null
        && InputName == other.InputName && OutputName == other.OutputName && OutputTransform == other.OutputTransform
        && (ClassLabels ?? []).SequenceEqual(other.ClassLabels ?? []) && (ClassLabels is null) == (other.ClassLabels is null)
        && (InputNormalization is null
            ? other.InputNormalization is null
            : other.InputNormalization is { } n && InputNormalization.Mean.SequenceEqual(n.Mean) && InputNormalization.Scale.SequenceEqual(n.Scale));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(InputName, OutputName, OutputTransform, ClassLabels?.Count, InputNormalization?.Length);

    /// <summary>Why this metadata cannot describe a network of these sizes, or null when it can.</summary>
    internal string? Problem(int inputSize, int outputSize)
    {
        if (!Enum.IsDefined(OutputTransform)) return $"the output transform {(int)OutputTransform} is unknown.";
        if (ClassLabels is { } labels && labels.Count != outputSize)
            return $"it has {labels.Count} class labels, but the network has {outputSize} outputs.";
        if (InputNormalization is { } n && n.Length != 1 && n.Length != inputSize)
            return $"its normalization has {n.Length} means and scales, but the network takes {inputSize} inputs (1 or {inputSize} are needed).";
        return null;
    }
}

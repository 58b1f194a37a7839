namespace FastNet.Service;

/// <summary>
/// What answers /predict: FastNet (<see cref="FastNetBackend"/>) in the service; the load test plugs ONNX Runtime in
/// behind the same endpoint, so both are measured with the same parsing, checks and responses.
/// </summary>
public interface IPredictionBackend
{
    /// <summary>Floats per input.</summary>
    int InputSize { get; }

    /// <summary>Floats per output.</summary>
    int OutputSize { get; }

    /// <summary>One label per output, or null.</summary>
    IReadOnlyList<string>? ClassLabels { get; }

    /// <summary>What the outputs are (logits, or already probabilities or their logs).</summary>
    OutputTransform OutputTransform { get; }

    /// <summary>Predicts one finite input of <see cref="InputSize"/> floats; returns the version of the model that answered.</summary>
    ValueTask<long> PredictAsync(ReadOnlyMemory<float> input, Memory<float> output);
}

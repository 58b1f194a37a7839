using FastNet.Serving;

namespace FastNet.Service;

/// <summary>The service's backend: the host's current model, batch-1, or through the micro-batcher when one is registered.</summary>
internal sealed class FastNetBackend(ModelHost host, MicroBatcher? batcher = null) : IPredictionBackend
{
    public int InputSize => host.Current.Predictor.InputSize;

    public int OutputSize => host.Current.Predictor.OutputSize;

    public IReadOnlyList<string>? ClassLabels => host.Current.Metadata.ClassLabels;

    public OutputTransform OutputTransform => host.Current.Metadata.OutputTransform;

    public ValueTask<long> PredictAsync(ReadOnlyMemory<float> input, Memory<float> output)
    {
        if (batcher is not null) return batcher.PredictAsync(input, output);
        LoadedModel model = host.Current;   // one snapshot for the whole request
        model.Predictor.Predict(input.Span, output.Span);
        return ValueTask.FromResult(model.Version);
    }
}

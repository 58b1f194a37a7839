using FastNet.Service;
using Microsoft.ML.OnnxRuntime;

namespace FastNet.Benchmarks;

/// <summary>
/// ONNX Runtime behind the service's /predict, for the load test's comparison: one InferenceSession (thread-safe,
/// one intra-op thread per call as requests are the parallelism), each request's input and output wrapped in
/// OrtValues over per-thread arrays.
/// </summary>
internal sealed class OnnxRuntimeBackend : IPredictionBackend, IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames, _outputNames;
    private readonly RunOptions _runOptions = new();
    [ThreadStatic] private static float[]? t_input;
    [ThreadStatic] private static float[]? t_output;

    public OnnxRuntimeBackend(string onnxPath, IReadOnlyList<string>? classLabels)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(onnxPath, options);
        _inputNames = [_session.InputMetadata.Keys.Single()];
        _outputNames = [_session.OutputMetadata.Keys.Single()];
        InputSize = _session.InputMetadata.Values.Single().Dimensions[^1];
        OutputSize = _session.OutputMetadata.Values.Single().Dimensions[^1];
        ClassLabels = classLabels;
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    public IReadOnlyList<string>? ClassLabels { get; }

    public OutputTransform OutputTransform => OutputTransform.None;

    public ValueTask<long> PredictAsync(ReadOnlyMemory<float> input, Memory<float> output)
    {
        float[] x = t_input ??= new float[InputSize], y = t_output ??= new float[OutputSize];
        input.Span.CopyTo(x);
        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(x, [1, InputSize]);
        using OrtValue outputValue = OrtValue.CreateTensorValueFromMemory(y, [1, OutputSize]);
        _session.Run(_runOptions, _inputNames, [inputValue], _outputNames, [outputValue]);
        y.CopyTo(output.Span);
        return ValueTask.FromResult(1L);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}

using Microsoft.ML.OnnxRuntime;

namespace FastNet.Benchmarks;

/// <summary>
/// One ONNX Runtime session for timing: one intra-op thread (or <c>threads</c>), every graph optimization (so an int8 model's
/// DynamicQuantizeLinear + MatMulInteger chain is fused into ORT's quantized kernels), input and output OrtValues
/// wrapped once around fixed arrays of <c>rows</c> rows, so a call is just <see cref="Run"/>.
/// </summary>
internal sealed class OrtSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly string[] _inputNames, _outputNames;

    public OrtSession(string path, float[] input, float[] output, int rows, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(path, options);
        _input = OrtValue.CreateTensorValueFromMemory(input, [rows, input.Length / rows]);
        _output = OrtValue.CreateTensorValueFromMemory(output, [rows, output.Length / rows]);
        _inputNames = [_session.InputMetadata.Keys.Single()];
        _outputNames = [_session.OutputMetadata.Keys.Single()];
    }

    public void Run() => _session.Run(_runOptions, _inputNames, [_input], _outputNames, [_output]);

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FastNet.Tests.Onnx;

/// <summary>Runs an ONNX model in ONNX Runtime, the reference implementation, for outputs to compare with.</summary>
internal static class OnnxRuntimeReference
{
    /// <summary>The model's output for <paramref name="rows"/> inputs of <paramref name="features"/> floats, flat.</summary>
    public static float[] Run(byte[] model, float[] inputs, int rows, int features)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        string input = session.InputMetadata.Keys.Single();
        var tensor = new DenseTensor<float>(inputs, [rows, features]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor(input, tensor)]);
        return [.. results.Single().AsEnumerable<float>()];
    }
}

using FastNet.Inference;
using FastNet.Onnx.Import;
using FastNet.Onnx.Protobuf;
using Google.Protobuf;

namespace FastNet.Onnx;

/// <summary>
/// Reads ONNX models (what <c>torch.onnx.export</c> writes, opsets 13 to 17, with a dynamic batch dimension) into
/// FastNet networks and predictors.
/// </summary>
/// <remarks>
/// <para>
/// What imports: multilayer perceptrons (Gemm with any alpha, beta and transB, or MatMul + Add, with Relu, Sigmoid,
/// Tanh or LeakyRelu (alpha 0.01) after each; Flatten, Reshape, Identity and inference Dropout anywhere), GRUs
/// (the ONNX GRU with linear_before_reset = 1, forward, one node per layer, with the batch_first Transpose, the zero
/// initial state PyTorch computes from the input's shape, and the Squeeze/Transpose/Gather or Slice that take the
/// sequence or its last step), an input normalization (Sub and/or Div by constants at the input) and a Softmax or
/// LogSoftmax at the output (kept as <see cref="ModelMetadata.OutputTransform"/>). The graph's input and output
/// names and the class labels FastNet writes into metadata_props come along in <see cref="Network.Metadata"/>.
/// </para>
/// <para>
/// Anything else fails: a <see cref="NotSupportedException"/> names the node, its operator and what is supported
/// (an unknown operator, linear_before_reset = 0, a bidirectional GRU, external data, a graph that branches...);
/// a malformed or truncated file is an <see cref="InvalidDataException"/>. An import never gives a network that
/// computes something other than the file.
/// </para>
/// </remarks>
public static class OnnxImport
{
    /// <summary>Largest ONNX file read (2 GiB, protobuf's own limit).</summary>
    private const long MaxFileBytes = int.MaxValue;

    /// <summary>Reads the ONNX model at <paramref name="path"/> into a network.</summary>
    /// <exception cref="NotSupportedException">The model uses an operator or a form FastNet has no layer for (the message names the node).</exception>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model, or is truncated.</exception>
    public static Network Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return Read(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads the ONNX model at <paramref name="path"/> into a predictor (thread-safe, allocation-free per call).</summary>
    /// <exception cref="NotSupportedException">The model uses an operator or a form FastNet has no layer for.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model, or is truncated.</exception>
    public static Predictor LoadPredictor(string path, PredictorOptions? options = null)
        => options is null ? Load(path).CreatePredictor() : Load(path).CreatePredictor(options);

    /// <summary>Reads an ONNX model from <paramref name="stream"/> into a network.</summary>
    /// <exception cref="NotSupportedException">The model uses an operator or a form FastNet has no layer for.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid ONNX model, or is truncated.</exception>
    public static Network Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new InvalidDataException($"the model is larger than {MaxFileBytes} bytes, the most a protobuf message holds.");
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"not a valid ONNX model (the protobuf does not parse: {e.Message}); the file may be truncated or not ONNX.", e);
        }

        return GraphImporter.Import(model);
    }
}

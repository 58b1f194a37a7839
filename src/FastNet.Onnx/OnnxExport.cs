using System.Reflection;
using FastNet.Onnx.Import;
using FastNet.Onnx.Protobuf;
using Google.Protobuf;
using AttributeType = FastNet.Onnx.Protobuf.AttributeProto.Types.AttributeType;

namespace FastNet.Onnx;

/// <summary>
/// Writes FastNet networks as ONNX models (opset 17, a dynamic batch dimension) that ONNX Runtime and other ONNX
/// tools run, and that <see cref="OnnxImport"/> reads back to the same parameters, bit for bit.
/// </summary>
/// <remarks>
/// <para>
/// The graph, input [batch, InputSize] to output [batch, OutputSize]: the input normalization, if any, as Sub and Div;
/// each dense layer as Gemm (W [inputs x outputs], transB = 0) and its activation (Relu, Sigmoid, Tanh,
/// LeakyRelu alpha 0.01); each GRU layer as Reshape to [batch, steps, features], Transpose to [steps, batch, features],
/// the ONNX GRU (linear_before_reset = 1, gates reordered to z, r, h), then Squeeze and Transpose back and a Reshape to
/// [batch, steps x hidden] for a whole sequence, or a Squeeze of Y_h for the last state; the output transform as
/// Softmax or LogSoftmax. Input and output names come from <see cref="Network.Metadata"/> ("input" and "output" when
/// unset); class labels go into metadata_props.
/// </para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The operator set the files declare.</summary>
    public const int Opset = 17;

    private const long IrVersion = 8;   // the IR of opset 17 (ONNX 1.12)

    /// <summary>Saves <paramref name="network"/> as an ONNX model at <paramref name="path"/>, atomically (a temporary file renamed over the target).</summary>
    public static void Save(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelProto model = ToModel(network);   // any error in the network before the file is touched
        Serialization.AtomicFile.Write(path, model.WriteTo, "the ONNX model");
    }

    /// <summary>Writes <paramref name="network"/> as an ONNX model to <paramref name="stream"/>.</summary>
    public static void Write(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        ToModel(network).WriteTo(stream);
    }

    /// <summary>Saves the network as an ONNX model (<see cref="Save"/>).</summary>
    public static void SaveOnnx(this Network network, string path) => Save(network, path);

    internal static ModelProto ToModel(Network network)
    {
        ModelMetadata metadata = network.Metadata;
        string inputName = metadata.InputName ?? "input", outputName = metadata.OutputName ?? "output";
        if (inputName.Length == 0 || outputName.Length == 0 || inputName == outputName)
            throw new ArgumentException($"The input and output names must be two different, non-empty names (they are '{inputName}' and '{outputName}').", nameof(network));

        var graph = new GraphProto { Name = "fastnet" };
        graph.Input.Add(TensorInfo(inputName, network.InputSize));
        graph.Output.Add(TensorInfo(outputName, network.OutputSize));
        var writer = new GraphWriter(graph, inputName);
        if (metadata.InputNormalization is { } normalization)
        {
            string mean = writer.Initializer("normalization.mean", [normalization.Length], [.. normalization.Mean]);
            string scale = writer.Initializer("normalization.scale", [normalization.Length], [.. normalization.Scale]);
            writer.Node("Sub", "normalization/Sub", [writer.Current, mean]);
            writer.Node("Div", "normalization/Div", [writer.Current, scale]);
        }

        foreach (Layer layer in network.Layers)
        {
            string prefix = $"layer{layer.Index}";
            switch (layer)
            {
                case DenseLayer dense:
                    WriteDense(writer, prefix, dense);
                    break;
                case GruLayer gru:
                    WriteGru(writer, prefix, gru);
                    break;
                default:
                    throw new NotSupportedException($"Layer {layer.Index} is a {layer.GetType().Name}, which has no ONNX form in this version.");
            }
        }

        if (metadata.OutputTransform != OutputTransform.None)
        {
            string op = metadata.OutputTransform == OutputTransform.Softmax ? "Softmax" : "LogSoftmax";
            writer.Node(op, $"output/{op}", [writer.Current], Int("axis", -1));
        }

        writer.Last!.Output[0] = outputName;

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "FastNet.Onnx",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        OnnxMetadata.WriteClassLabels(model, metadata.ClassLabels);
        return model;
    }

    /// <summary>Gemm(x, W, b) with W [inputs x outputs] as FastNet stores it (transB = 0), then the activation.</summary>
    private static void WriteDense(GraphWriter writer, string prefix, DenseLayer dense)
    {
        string w = writer.Initializer($"{prefix}.weight", [dense.Inputs, dense.Outputs], dense.Weights);
        string b = writer.Initializer($"{prefix}.bias", [dense.Outputs], dense.Biases);
        writer.Node("Gemm", $"{prefix}/Gemm", [writer.Current, w, b], Float("alpha", 1f), Float("beta", 1f), Int("transA", 0), Int("transB", 0));
        switch (dense.Activation)
        {
            case Activation.None: break;
            case Activation.Relu: writer.Node("Relu", $"{prefix}/Relu", [writer.Current]); break;
            case Activation.Sigmoid: writer.Node("Sigmoid", $"{prefix}/Sigmoid", [writer.Current]); break;
            case Activation.Tanh: writer.Node("Tanh", $"{prefix}/Tanh", [writer.Current]); break;
            case Activation.LeakyRelu: writer.Node("LeakyRelu", $"{prefix}/LeakyRelu", [writer.Current], Float("alpha", Kernels.Activations.LeakyReluSlope)); break;
            default: throw new NotSupportedException($"Layer {dense.Index}: the activation {dense.Activation} has no ONNX form in this version.");
        }
    }

    /// <summary>
    /// [batch, steps x features] to [steps, batch, features], the ONNX GRU, and back to [batch, steps x hidden] (the
    /// sequence) or [batch, hidden] (Y_h, the last state).
    /// </summary>
    private static void WriteGru(GraphWriter writer, string prefix, GruLayer gru)
    {
        int h = gru.HiddenSize, f = gru.Features, t = gru.Steps;
        float[] biases = [.. GruGateOrder.SwapFirstTwo(gru.InputBiases, h, 1), .. GruGateOrder.SwapFirstTwo(gru.RecurrentBiases, h, 1)];
        string w = writer.Initializer($"{prefix}.W", [1, 3 * h, f], GruGateOrder.SwapFirstTwo(gru.InputWeights, h, f));
        string r = writer.Initializer($"{prefix}.R", [1, 3 * h, h], GruGateOrder.SwapFirstTwo(gru.RecurrentWeights, h, h));
        string b = writer.Initializer($"{prefix}.B", [1, 6 * h], biases);

        writer.Node("Reshape", $"{prefix}/Reshape", [writer.Current, writer.Int64Initializer($"{prefix}.sequence_shape", -1, t, f)]);
        writer.Node("Transpose", $"{prefix}/Transpose", [writer.Current], Ints("perm", 1, 0, 2));
        NodeProto node = writer.Node("GRU", $"{prefix}/GRU", [writer.Current, w, r, b],
            Int("hidden_size", h), Int("linear_before_reset", 1), String("direction", "forward"));
        string sequence = node.Output[0], last = $"{prefix}/GRU_Y_h";
        node.Output.Add(last);
        if (gru.ReturnSequences)
        {
            writer.Node("Squeeze", $"{prefix}/Squeeze", [sequence, writer.Int64Initializer($"{prefix}.direction_axis", 1)]);
            writer.Node("Transpose", $"{prefix}/Transpose_back", [writer.Current], Ints("perm", 1, 0, 2));
            writer.Node("Reshape", $"{prefix}/Reshape_back", [writer.Current, writer.Int64Initializer($"{prefix}.output_shape", -1, (long)t * h)]);
        }
        else
        {
            node.Output[0] = "";   // Y unused: ONNX Runtime then need not keep every step
            writer.Node("Squeeze", $"{prefix}/Squeeze", [last, writer.Int64Initializer($"{prefix}.direction_axis", 0)]);
        }
    }

    private static ValueInfoProto TensorInfo(string name, int features)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = features });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    private static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>Appends nodes in a chain: each reads what the one before wrote (<see cref="Current"/>).</summary>
    private sealed class GraphWriter(GraphProto graph, string input)
    {
        public string Current { get; private set; } = input;

        public NodeProto? Last { get; private set; }

        public string Initializer(string name, long[] dims, ReadOnlySpan<float> data)
        {
            graph.Initializer.Add(TensorData.Float(name, dims, data));
            return name;
        }

        public string Int64Initializer(string name, params long[] data)
        {
            graph.Initializer.Add(TensorData.Int64(name, [data.Length], data));
            return name;
        }

        public NodeProto Node(string op, string name, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.Add(name + "_output");
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
            Current = node.Output[0];
            Last = node;
            return node;
        }
    }
}

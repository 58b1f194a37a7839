using FastNet.Onnx.Protobuf;

namespace FastNet.Onnx.Import;

/// <summary>
/// Turns an ONNX graph into a FastNet network: a small compiler. It walks the nodes the output depends on, in file
/// order, computing what it can at import time (initializers, constants, and the shape arithmetic exporters emit,
/// such as the Shape/Gather/Concat/ConstantOfShape that builds a GRU's zero initial state for any batch size), and
/// matching what reads the input to FastNet layers: Gemm or MatMul [+ Add] [+ activation] to a dense layer, GRU to a
/// GRU layer, Sub/Div at the input to an input normalization, Softmax/LogSoftmax at the output to an output
/// transform. Whatever does not match is refused by name (<see cref="NotSupportedException"/>); a file that breaks
/// the format's own rules is an <see cref="InvalidDataException"/>. Never a silently different network.
/// </summary>
internal sealed partial class GraphImporter
{
    /// <summary>Opsets of the default ONNX domain this importer has been checked against (what torch.onnx.export writes from 13 on).</summary>
    public const int MinOpset = 13, MaxOpset = 17;

    /// <summary>Elements a folded constant may have (ConstantOfShape): far more than any shape computation needs.</summary>
    private const long MaxFoldedElements = 1 << 24;

    internal const string Supported =
        "FastNet.Onnx imports Gemm, MatMul, Add (a bias after Gemm or MatMul), Relu, Sigmoid, Tanh, LeakyRelu (alpha 0.01) after a dense layer, " +
        "GRU (forward, linear_before_reset = 1), Sub and Div at the input (normalization), Softmax and LogSoftmax at the output, " +
        "Identity, Dropout (inference), Flatten, Reshape, Transpose, Squeeze, Unsqueeze, and Constant, Shape, Gather, Slice, Concat, " +
        "ConstantOfShape and Cast where they compute constants and shapes";

    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private readonly Dictionary<string, Value> _values = [];
    private readonly List<LayerBuild> _layers = [];
    private int _version;   // bumped by every change of the layer stack: activations made before are stale
    private InputNormalization? _normalization;
    private int _inputSize;

    private GraphImporter(ModelProto model)
    {
        _model = model;
        _graph = model.Graph ?? throw new InvalidDataException("the model has no graph (an empty or truncated file?).");
    }

    /// <summary>Imports <paramref name="model"/>.</summary>
    public static Network Import(ModelProto model) => new GraphImporter(model).Run();

    private Network Run()
    {
        long opset = CheckOpset();
        if (_graph.SparseInitializer.Count > 0) throw new NotSupportedException("The graph has sparse initializers; FastNet.Onnx reads dense tensors only.");
        foreach (TensorProto initializer in _graph.Initializer)
        {
            if (string.IsNullOrEmpty(initializer.Name)) throw new InvalidDataException("an initializer has no name.");
            if (!_values.TryAdd(initializer.Name, TensorData.Decode(initializer, "initializer")))
                throw new InvalidDataException($"two initializers are named '{initializer.Name}'.");
        }

        ValueInfoProto input = GraphInput();
        ValueInfoProto output = GraphOutput();
        HashSet<NodeProto> needed = NodesNeededFor(output.Name);
        foreach (NodeProto node in _graph.Node)
        {
            if (!needed.Contains(node)) continue;
            if (node.Domain is not ("" or "ai.onnx"))
                throw Unsupported(node, $"its domain '{node.Domain}' is not the ONNX operator set. {Supported}.");
            Evaluate(node, opset);
        }

        if (!_values.TryGetValue(output.Name, out Value? result) || result is not ActivationValue final)
            throw new NotSupportedException($"The graph output '{output.Name}' does not depend on the input: FastNet.Onnx imports networks, not constants.");
        if (final.Version != _version)
            throw new NotSupportedException($"The graph output '{output.Name}' is not the end of the layer chain (a later layer reads the same activations): FastNet networks are one chain of layers.");
        if (!final.BatchLeads)
            throw new NotSupportedException($"The graph output '{output.Name}' has shape {final.Shape}: FastNet outputs one row per sample, so the batch axis must come first.");
        if (_layers.Count == 0) throw new NotSupportedException("The graph has no layer (no Gemm, MatMul or GRU between input and output): there is no network to import.");
        Settle(final);
        return Build(input.Name, output.Name, final.Transform);
    }

    private long CheckOpset()
    {
        OperatorSetIdProto? onnx = _model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (onnx is null) throw new InvalidDataException("the model imports no version of the ONNX operator set (opset_import is missing: a truncated file?).");
        if (onnx.Version is < MinOpset or > MaxOpset)
            throw new NotSupportedException($"The model uses ONNX opset {onnx.Version}; FastNet.Onnx reads opsets {MinOpset} to {MaxOpset} (torch.onnx.export(..., opset_version={MaxOpset})).");
        return onnx.Version;
    }

    /// <summary>The one graph input that is not an initializer: [batch, d1, d2, ...] floats, the d known.</summary>
    private ValueInfoProto GraphInput()
    {
        var inputs = _graph.Input.Where(i => !_values.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new NotSupportedException($"The graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); FastNet networks take one.");
        ValueInfoProto input = inputs[0];
        if (input.Type?.TensorType is not { } tensor)
            throw new NotSupportedException($"The graph input '{input.Name}' is not a tensor.");
        if (tensor.ElemType != (int)TensorProto.Types.DataType.Float)
            throw new NotSupportedException($"The graph input '{input.Name}' holds {(TensorProto.Types.DataType)tensor.ElemType} elements; FastNet networks take float32.");
        if (tensor.Shape is null || tensor.Shape.Dim.Count < 2)
            throw new NotSupportedException($"The graph input '{input.Name}' has {(tensor.Shape is null ? "no shape" : $"rank {tensor.Shape.Dim.Count}")}; FastNet needs [batch, features...] with the features known.");
        var dims = new long[tensor.Shape.Dim.Count];
        long size = 1;
        for (int i = 1; i < dims.Length; i++)
        {
            TensorShapeProto.Types.Dimension d = tensor.Shape.Dim[i];
            if (d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue <= 0)
                throw new NotSupportedException($"Dimension {i} of the graph input '{input.Name}' is {(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? $"'{d.DimParam}'" : d.DimValue.ToString())}: only the first (the batch) may vary.");
            dims[i] = d.DimValue;
            size *= d.DimValue;
            if (size > 1 << 24) throw new NotSupportedException($"The graph input '{input.Name}' has more than {1 << 24} features per sample.");
        }

        _inputSize = (int)size;
        _values[input.Name] = new ActivationValue(dims, 0, _version, ActivationKind.Output);
        return input;
    }

    private ValueInfoProto GraphOutput()
    {
        if (_graph.Output.Count != 1)
            throw new NotSupportedException($"The graph has {_graph.Output.Count} outputs ({string.Join(", ", _graph.Output.Select(o => $"'{o.Name}'"))}); FastNet networks give one.");
        return _graph.Output[0];
    }

    /// <summary>The nodes the output depends on (an exporter's unused outputs, such as a GRU's h_n, cost nothing).</summary>
    private HashSet<NodeProto> NodesNeededFor(string output)
    {
        var producers = new Dictionary<string, NodeProto>();
        foreach (NodeProto node in _graph.Node)
            foreach (string name in node.Output)
                if (name.Length > 0 && (!producers.TryAdd(name, node) || _values.ContainsKey(name)))
                    throw new InvalidDataException($"the value '{name}' is defined twice (node '{NodeName(node)}').");

        var needed = new HashSet<NodeProto>();
        var pending = new Stack<string>([output]);
        while (pending.Count > 0)
        {
            string name = pending.Pop();
            if (_values.ContainsKey(name)) continue;
            if (!producers.TryGetValue(name, out NodeProto? node))
                throw new InvalidDataException($"the value '{name}' is read but no node, initializer or input defines it.");
            if (!needed.Add(node)) continue;
            foreach (string input in node.Input)
                if (input.Length > 0) pending.Push(input);
        }

        return needed;
    }

    private Network Build(string inputName, string outputName, OutputTransform transform)
    {
        Network network;
        try
        {
            var builder = new NetworkBuilder(_inputSize);
            foreach (LayerBuild layer in _layers)
            {
                if (layer is DenseBuild d) builder.Dense(d.Outputs, d.Activation);
                else if (layer is GruBuild g) builder.Gru(g.Hidden, g.Steps, g.ReturnSequences!.Value);
            }

            network = builder.Build();
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"The graph's layers do not make a FastNet network: {e.Message}", e);
        }
        for (int l = 0; l < _layers.Count; l++)
        {
            switch (_layers[l], network.Layers[l])
            {
                case (DenseBuild d, DenseLayer dense):
                    d.Weights.CopyTo(dense.Weights);
                    if (d.Biases is null) dense.Biases.Clear();
                    else d.Biases.CopyTo(dense.Biases);
                    break;
                case (GruBuild g, GruLayer gru):
                    g.InputWeights.CopyTo(gru.InputWeights);
                    g.RecurrentWeights.CopyTo(gru.RecurrentWeights);
                    g.InputBiases.CopyTo(gru.InputBiases);
                    g.RecurrentBiases.CopyTo(gru.RecurrentBiases);
                    break;
            }
        }

        network.Metadata = new ModelMetadata
        {
            InputName = inputName,
            OutputName = outputName,
            InputNormalization = _normalization,
            OutputTransform = transform,
            ClassLabels = OnnxMetadata.ReadClassLabels(_model, network.OutputSize),
        };
        return network;
    }

    /// <summary>
    /// A pending GRU (the last layer, its output not yet read by a layer) learns from what reads it whether it
    /// returns its whole sequence or the last state.
    /// </summary>
    private void Settle(ActivationValue value)
    {
        if (_layers.Count > 0 && _layers[^1] is GruBuild { ReturnSequences: null } gru)
            gru.ReturnSequences = value.Kind != ActivationKind.GruLastStep;
    }

    private static string NodeName(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault(o => o.Length > 0) ?? "(unnamed)";

    private static NotSupportedException Unsupported(NodeProto node, string reason) => new($"Node '{NodeName(node)}' ({node.OpType}): {reason}");

    private static InvalidDataException Invalid(NodeProto node, string reason) => new($"node '{NodeName(node)}' ({node.OpType}): {reason}");
}

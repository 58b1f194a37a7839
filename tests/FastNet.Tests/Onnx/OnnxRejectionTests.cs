using FastNet.Onnx;
using FastNet.Onnx.Protobuf;
using Google.Protobuf;

namespace FastNet.Tests.Onnx;

/// <summary>
/// Every way a file can be refused, each with a file made bad by hand (a PyTorch fixture edited here): what FastNet
/// cannot represent is a <see cref="NotSupportedException"/> naming the node and its operator; what breaks the format
/// is an <see cref="InvalidDataException"/>. Never a network.
/// </summary>
public sealed class OnnxRejectionTests
{
    private static ModelProto Fixture(string name) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(OnnxFixture.Folder, name + ".onnx")));

    private static NodeProto Node(ModelProto model, string op) => model.Graph.Node.First(n => n.OpType == op);

    private static T Refused<T>(ModelProto model) where T : Exception => Refused<T>(model.ToByteArray());

    private static T Refused<T>(byte[] bytes) where T : Exception
    {
        Exception? e = Record.Exception(() => OnnxImport.Read(new MemoryStream(bytes)));
        Assert.NotNull(e);
        return Assert.IsType<T>(e);
    }

    private static void SetAttribute(NodeProto node, AttributeProto attribute)
    {
        if (node.Attribute.FirstOrDefault(a => a.Name == attribute.Name) is { } old) node.Attribute.Remove(old);
        node.Attribute.Add(attribute);
    }

    [Fact]
    public void AnUnknownOperatorIsNamedWithWhatIsSupported()
    {
        ModelProto model = Fixture("t1");
        NodeProto relu = Node(model, "Relu");
        relu.OpType = "Elu";
        string message = Refused<NotSupportedException>(model).Message;
        Assert.Contains($"Node '{relu.Name}' (Elu)", message);
        Assert.Contains("FastNet.Onnx imports Gemm, MatMul", message);
    }

    [Fact]
    public void GruFormsFastNetDoesNotHaveAreRefused()
    {
        ModelProto before = Fixture("gru_last");
        SetAttribute(Node(before, "GRU"), new AttributeProto { Name = "linear_before_reset", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        Assert.Contains("(GRU): linear_before_reset = 0", Refused<NotSupportedException>(before).Message);

        ModelProto bidirectional = Fixture("gru_last");
        SetAttribute(Node(bidirectional, "GRU"), new AttributeProto { Name = "direction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("bidirectional") });
        Assert.Contains("direction 'bidirectional'", Refused<NotSupportedException>(bidirectional).Message);

        ModelProto state = Fixture("gru_last");
        NodeProto constantOfShape = Node(state, "ConstantOfShape");
        var one = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Name = "one" };
        one.Dims.Add(1);
        one.FloatData.Add(1f);
        SetAttribute(constantOfShape, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = one });
        Assert.Contains("initial_h is not zero", Refused<NotSupportedException>(state).Message);

        ModelProto lengths = Fixture("gru_last");
        NodeProto gru = Node(lengths, "GRU");
        gru.Input[4] = gru.Input[5];   // any sequence_lens
        Assert.Contains("sequence_lens", Refused<NotSupportedException>(lengths).Message);

        ModelProto clipped = Fixture("gru_last");
        SetAttribute(Node(clipped, "GRU"), new AttributeProto { Name = "clip", Type = AttributeProto.Types.AttributeType.Float, F = 3f });
        Assert.Contains("clip", Refused<NotSupportedException>(clipped).Message);
    }

    [Fact]
    public void ExternalDataIsRefused()
    {
        ModelProto model = Fixture("t1");
        TensorProto weights = model.Graph.Initializer.First(t => t.Dims.Count == 2);
        weights.RawData = ByteString.Empty;
        weights.DataLocation = TensorProto.Types.DataLocation.External;
        weights.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        Assert.Contains("external file", Refused<NotSupportedException>(model).Message);
    }

    [Fact]
    public void ATruncatedFileIsInvalidDataWhereverItIsCut()
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(OnnxFixture.Folder, "gru_two_layers_flat_input.onnx"));
        for (int length = 0; length < bytes.Length; length += Math.Max(1, length / 9))
            Refused<InvalidDataException>(bytes[..length]);
        Refused<InvalidDataException>(bytes[..^1]);
        Refused<InvalidDataException>("this is not an ONNX file at all"u8.ToArray());
    }

    [Fact]
    public void MalformedGraphsAreInvalidData()
    {
        ModelProto shortData = Fixture("t1");
        TensorProto bias = shortData.Graph.Initializer.First(t => t.Dims.Count == 1);
        bias.RawData = ByteString.CopyFrom(bias.RawData.Span[..^4]);
        Assert.Contains($"tensor '{bias.Name}' has", Refused<InvalidDataException>(shortData).Message);

        ModelProto huge = Fixture("t1");
        TensorProto claimed = huge.Graph.Initializer.First(t => t.Dims.Count == 2);
        claimed.Dims[0] = 1L << 40;
        claimed.Dims[1] = 1L << 40;   // a product past long: refused without overflow
        Assert.Contains($"tensor '{claimed.Name}' has a dimension", Refused<InvalidDataException>(huge).Message);

        ModelProto dangling = Fixture("t1");
        Node(dangling, "Relu").Input[0] = "nowhere";
        Assert.Contains("'nowhere' is read but no node", Refused<InvalidDataException>(dangling).Message);

        ModelProto noOpset = Fixture("t1");
        noOpset.OpsetImport.Clear();
        Assert.Contains("operator set", Refused<InvalidDataException>(noOpset).Message);

        ModelProto outOfOrder = Fixture("t1");
        NodeProto first = outOfOrder.Graph.Node[0];
        outOfOrder.Graph.Node.RemoveAt(0);
        outOfOrder.Graph.Node.Add(first);
        Assert.Contains("topological order", Refused<InvalidDataException>(outOfOrder).Message);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(18)]
    public void OpsetsOutsideThirteenToSeventeenAreRefused(long opset)
    {
        ModelProto model = Fixture("t1");
        model.OpsetImport[0].Version = opset;
        Assert.Contains($"opset {opset}", Refused<NotSupportedException>(model).Message);
    }

    [Fact]
    public void GraphsThatAreNotOneChainAreRefused()
    {
        // A skip connection: the first layer's output added to the second's input.
        ModelProto skip = Fixture("mlp_activations");
        NodeProto sigmoid = Node(skip, "Sigmoid");
        var add = new NodeProto { Name = "skip", OpType = "Add" };
        add.Input.Add(sigmoid.Output[0]);
        add.Input.Add(sigmoid.Output[0]);
        add.Output.Add("skipped");
        skip.Graph.Node.Insert(skip.Graph.Node.IndexOf(sigmoid) + 1, add);
        Node(skip, "MatMul").Input[0] = "skipped";
        Assert.Contains("Node 'skip' (Add)", Refused<NotSupportedException>(skip).Message);

        // The same activations read by two layers (T1's second Gemm twice, its outputs added).
        ModelProto branch = Fixture("t1");
        NodeProto second = branch.Graph.Node.Last(n => n.OpType == "Gemm");
        second.Output[0] = "b_out";
        NodeProto twin = second.Clone();
        twin.Name = "twin";
        twin.Output[0] = "twin_out";
        var sum = new NodeProto { Name = "sum", OpType = "Add" };
        sum.Input.Add("b_out");
        sum.Input.Add("twin_out");
        sum.Output.Add("output");
        branch.Graph.Node.Add(twin);
        branch.Graph.Node.Add(sum);
        Assert.Contains("Node 'twin' (Gemm): reads '/Relu_output_0', an activation that a later layer has already consumed", Refused<NotSupportedException>(branch).Message);

        ModelProto twoInputs = Fixture("t1");
        ValueInfoProto extra = twoInputs.Graph.Input[0].Clone();
        extra.Name = "extra";
        twoInputs.Graph.Input.Add(extra);
        Assert.Contains("2 inputs", Refused<NotSupportedException>(twoInputs).Message);
    }

    [Fact]
    public void OperatorsOutOfPlaceAreRefusedByName()
    {
        // An activation on a GRU's output, not after a dense layer.
        ModelProto afterGru = Fixture("gru_last");
        NodeProto gather = afterGru.Graph.Node.Last(n => n.OpType == "Gather");
        var tanh = new NodeProto { Name = "tanh_of_state", OpType = "Tanh" };
        tanh.Input.Add(gather.Output[0]);
        tanh.Output.Add("activated");
        afterGru.Graph.Node.Insert(afterGru.Graph.Node.IndexOf(gather) + 1, tanh);
        Node(afterGru, "Gemm").Input[0] = "activated";
        Assert.Contains("Node 'tanh_of_state' (Tanh): it applies to a GRU's output", Refused<NotSupportedException>(afterGru).Message);

        // A Softmax in the middle.
        ModelProto softmax = Fixture("t1");
        NodeProto relu = Node(softmax, "Relu");
        relu.OpType = "Softmax";
        relu.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        Assert.Contains("reads the output of a Softmax", Refused<NotSupportedException>(softmax).Message);

        // A leaky ReLU with another slope.
        ModelProto leaky = Fixture("mlp_activations");
        SetAttribute(Node(leaky, "LeakyRelu"), new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 0.2f });
        Assert.Contains("alpha is 0.2", Refused<NotSupportedException>(leaky).Message);

        // Dropout in training mode.
        ModelProto dropout = Fixture("gemm_identity_dropout");
        var training = new TensorProto { Name = "training", DataType = (int)TensorProto.Types.DataType.Bool };
        training.Int32Data.Add(1);
        dropout.Graph.Initializer.Add(training);
        Node(dropout, "Dropout").Input.Add("training");
        Assert.Contains("training_mode", Refused<NotSupportedException>(dropout).Message);

        // A float64 input.
        ModelProto doubles = Fixture("t1");
        doubles.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double;
        Assert.Contains("holds Double elements", Refused<NotSupportedException>(doubles).Message);
    }
}

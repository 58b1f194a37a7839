using FastNet.Onnx.Protobuf;
using AttributeType = FastNet.Onnx.Protobuf.AttributeProto.Types.AttributeType;

namespace FastNet.Onnx.Import;

/// <summary>Typed reads of a node's attributes, with the defaults the operator specifications give.</summary>
internal static class Attributes
{
    public static bool Has(NodeProto node, string name) => Find(node, name) is not null;

    public static long Int(NodeProto node, string name, long fallback)
        => Find(node, name) is { } a ? Expect(node, a, AttributeType.Int).I : fallback;

    public static float Float(NodeProto node, string name, float fallback)
        => Find(node, name) is { } a ? Expect(node, a, AttributeType.Float).F : fallback;

    public static string String(NodeProto node, string name, string fallback)
        => Find(node, name) is { } a ? Expect(node, a, AttributeType.String).S.ToStringUtf8() : fallback;

    public static long[] Ints(NodeProto node, string name)
        => [.. Expect(node, Find(node, name)!, AttributeType.Ints).Ints];

    public static string[] Strings(NodeProto node, string name)
        => [.. Expect(node, Find(node, name)!, AttributeType.Strings).Strings.Select(s => s.ToStringUtf8())];

    public static TensorProto Tensor(NodeProto node, string name)
        => Expect(node, Find(node, name)!, AttributeType.Tensor).T
           ?? throw new InvalidDataException($"node '{node.Name}' ({node.OpType}): attribute '{name}' holds no tensor.");

    private static AttributeProto? Find(NodeProto node, string name)
    {
        AttributeProto? found = null;
        foreach (AttributeProto a in node.Attribute)
        {
            if (a.Name != name) continue;
            if (found is not null) throw new InvalidDataException($"node '{node.Name}' ({node.OpType}) has the attribute '{name}' twice.");
            if (a.RefAttrName.Length > 0) throw new NotSupportedException($"Node '{node.Name}' ({node.OpType}): attribute '{name}' refers to a function attribute; FastNet.Onnx reads plain graphs.");
            found = a;
        }

        return found;
    }

    private static AttributeProto Expect(NodeProto node, AttributeProto a, AttributeType type)
    {
        // Files from before IR version 3 may leave the type out; then the field present says it.
        if (a.Type == type || a.Type == AttributeType.Undefined) return a;
        throw new InvalidDataException($"node '{node.Name}' ({node.OpType}): attribute '{a.Name}' is {a.Type}, where {type} is expected.");
    }
}

using System.Text;
using System.Text.Json;
using FastNet.Onnx.Protobuf;

namespace FastNet.Onnx;

/// <summary>
/// The model metadata FastNet writes to and reads from an ONNX file's metadata_props. Names travel as the graph's
/// input and output names, the normalization as Sub/Div nodes and the output transform as a Softmax/LogSoftmax node;
/// what has no operator form is here.
/// </summary>
internal static class OnnxMetadata
{
    /// <summary>Key of the class labels: a JSON array of strings, one per output.</summary>
    public const string ClassLabelsKey = "fastnet.class_labels";

    public static void WriteClassLabels(ModelProto model, IReadOnlyList<string>? labels)
    {
        if (labels is null) return;
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (string label in labels) json.WriteStringValue(label);
            json.WriteEndArray();
        }

        model.MetadataProps.Add(new StringStringEntryProto { Key = ClassLabelsKey, Value = Encoding.UTF8.GetString(buffer.ToArray()) });
    }

    /// <summary>The labels of <paramref name="outputs"/> classes, or null when the file has none.</summary>
    /// <exception cref="InvalidDataException">The entry is not a JSON array of <paramref name="outputs"/> strings.</exception>
    public static IReadOnlyList<string>? ReadClassLabels(ModelProto model, int outputs)
    {
        StringStringEntryProto? entry = model.MetadataProps.LastOrDefault(p => p.Key == ClassLabelsKey);
        if (entry is null) return null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(entry.Value);
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw new InvalidDataException($"the metadata '{ClassLabelsKey}' is not a JSON array of strings.");
            string[] labels = [.. document.RootElement.EnumerateArray().Select(e => e.GetString()!)];
            if (labels.Length != outputs)
                throw new InvalidDataException($"the metadata '{ClassLabelsKey}' has {labels.Length} labels, but the network has {outputs} outputs.");
            return labels;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the metadata '{ClassLabelsKey}' is not valid JSON: {e.Message}", e);
        }
    }
}

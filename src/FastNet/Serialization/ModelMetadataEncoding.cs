using System.Buffers.Binary;
using System.Text;

namespace FastNet.Serialization;

/// <summary>The metadata section of a model file (its layout is on <see cref="ModelFile"/>).</summary>
internal static class ModelMetadataEncoding
{
    [Flags]
    private enum Fields : uint
    {
        InputName = 1,
        OutputName = 2,
        ClassLabels = 4,
        InputNormalization = 8,
    }

    private const Fields Known = Fields.InputName | Fields.OutputName | Fields.ClassLabels | Fields.InputNormalization;
    private const int MaxStringBytes = 1 << 16;

    public static byte[] Encode(ModelMetadata metadata)
    {
        var bytes = new MemoryStream();
        Fields fields = (metadata.InputName is null ? 0 : Fields.InputName) | (metadata.OutputName is null ? 0 : Fields.OutputName)
            | (metadata.ClassLabels is null ? 0 : Fields.ClassLabels) | (metadata.InputNormalization is null ? 0 : Fields.InputNormalization);
        WriteUInt32(bytes, (uint)fields);
        WriteUInt32(bytes, (uint)metadata.OutputTransform);
        if (metadata.InputName is { } input) WriteString(bytes, input);
        if (metadata.OutputName is { } output) WriteString(bytes, output);
        if (metadata.ClassLabels is { } labels)
        {
            WriteUInt32(bytes, (uint)labels.Count);
            foreach (string label in labels) WriteString(bytes, label);
        }
        if (metadata.InputNormalization is { } normalization)
        {
            WriteUInt32(bytes, (uint)normalization.Length);
            foreach (float mean in normalization.Mean) WriteUInt32(bytes, BitConverter.SingleToUInt32Bits(mean));
            foreach (float scale in normalization.Scale) WriteUInt32(bytes, BitConverter.SingleToUInt32Bits(scale));
        }

        return bytes.ToArray();
    }

    /// <summary>Reads a metadata section; whether it fits the network is checked by the caller.</summary>
    public static ModelMetadata Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        var fields = (Fields)reader.UInt32("the metadata fields");
        if ((fields & ~Known) != 0) throw new InvalidDataException($"the metadata has unknown fields 0x{(uint)(fields & ~Known):X}.");
        uint transform = reader.UInt32("the output transform");
        if (!Enum.IsDefined((OutputTransform)transform)) throw new InvalidDataException($"the metadata names an unknown output transform {transform}.");
        string? inputName = fields.HasFlag(Fields.InputName) ? reader.String("the input name") : null;
        string? outputName = fields.HasFlag(Fields.OutputName) ? reader.String("the output name") : null;
        List<string>? labels = null;
        if (fields.HasFlag(Fields.ClassLabels))
        {
            labels = [];
            uint labelCount = reader.UInt32("the class label count");
            if (labelCount > (1 << 24)) throw new InvalidDataException($"the metadata claims {labelCount} class labels.");
            for (int i = 0; i < labelCount; i++) labels.Add(reader.String($"class label {i}"));
        }

        InputNormalization? normalization = null;
        if (fields.HasFlag(Fields.InputNormalization))
        {
            uint n = reader.UInt32("the normalization length");
            if (n == 0 || n > reader.Remaining / 8) throw new InvalidDataException($"the normalization claims {n} means and scales, and {reader.Remaining} bytes are left.");
            var mean = new float[n];
            var scale = new float[n];
            for (int i = 0; i < n; i++) mean[i] = BitConverter.UInt32BitsToSingle(reader.UInt32("the normalization"));
            for (int i = 0; i < n; i++) scale[i] = BitConverter.UInt32BitsToSingle(reader.UInt32("the normalization"));
            try
            {
                normalization = new InputNormalization(mean, scale);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"the input normalization is invalid: {e.Message}", e);
            }
        }

        if (reader.Remaining != 0) throw new InvalidDataException($"the metadata has {reader.Remaining} unexpected bytes at its end.");
        return new ModelMetadata
        {
            InputName = inputName,
            OutputName = outputName,
            ClassLabels = labels,
            InputNormalization = normalization,
            OutputTransform = (OutputTransform)transform,
        };
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteString(Stream stream, string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        if (utf8.Length > MaxStringBytes) throw new ArgumentException($"A metadata string takes {utf8.Length} bytes in UTF-8, more than {MaxStringBytes}: \"{value[..40]}...\".");
        WriteUInt32(stream, (uint)utf8.Length);
        stream.Write(utf8);
    }

    /// <summary>Reads fields in order; running past the end is a truncated section.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _left = bytes;

        public readonly int Remaining => _left.Length;

        public uint UInt32(string what)
        {
            if (_left.Length < 4) throw new InvalidDataException($"the metadata is truncated in {what}.");
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(_left);
            _left = _left[4..];
            return value;
        }

        public string String(string what)
        {
            uint length = UInt32(what);
            if (length > MaxStringBytes || length > _left.Length) throw new InvalidDataException($"the metadata is truncated in {what} ({length} bytes claimed, {_left.Length} left).");
            try
            {
                string value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(_left[..(int)length]);
                _left = _left[(int)length..];
                return value;
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"{what} is not valid UTF-8.", e);
            }
        }
    }
}

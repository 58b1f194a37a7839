using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using FastNet.Inference;
using FastNet.Kernels;

namespace FastNet.Serialization;

/// <summary>
/// The FastNet model file, version 4. All integers little-endian:
/// <code>
/// offset  size        field
/// 0       8           magic "FNETMODL"
/// 8       4           format version (4)
/// 12      4           layer count L (1 .. 4096)
/// 16      4           input size (floats per sample)
/// 20      16 * L      per layer: kind (uint32), then three uint32 fields
///                       kind 0, dense: outputs, activation (0 none, 1 ReLU, 2 sigmoid, 3 tanh, 4 leaky ReLU), 0
///                       kind 1, GRU:   hidden size, steps, flags (bit 0: returns the whole sequence)
/// ..      8           parameter count P (must match the architecture)
/// ..      4           precision of the stored weights (0 float32, 1 bfloat16, 2 int8: <see cref="Precision"/>)
/// ..      W           parameters in Network.Parameters order (layer by layer, each in its own order): with precision 0,
///                       4 * P bytes of float32; else as a predictor of that precision holds them, weights rounded or
///                       quantized, the rest float32 (<see cref="StoredWeights"/>, e.g. int8 W [k x n], n scales, n biases)
/// ..      4           metadata byte count S (at most 16 MiB)
/// ..      S           metadata (<see cref="Network.Metadata"/>):
///                       flags (uint32: bit 0 input name, 1 output name, 2 class labels, 3 input normalization)
///                       output transform (uint32: 0 none, 1 softmax, 2 log-softmax)
///                       then, for each flag set, in flag order: a name is a string (uint32 byte count, UTF-8);
///                       labels are a count (uint32) and that many strings; a normalization is its length n (uint32, 1 or the
///                       input size), n float32 means, n float32 scales
/// ..      8           XxHash64 of every byte before it
/// </code>
/// Older versions still load (with empty metadata): version 3 had no precision field (float32); version 2 had no
/// metadata section; version 1 (dense layers only) had 8 bytes per layer, outputs and activation.
/// <see cref="Network"/> files are float32; a file in bfloat16 or int8 (written by <see cref="Predictor.Save"/> or
/// <see cref="Quantize"/>) holds a predictor's weights and loads only as one (<see cref="Predictor.Load(string)"/>).
/// Readers check everything before trusting it: magic, version, sizes (against limits and against the
/// stream length, before allocating), then the checksum.
/// </summary>
public static class ModelFile
{
    /// <summary>The format version this code writes and the newest it reads.</summary>
    public const int Version = 4;

    private static ReadOnlySpan<byte> Magic => "FNETMODL"u8;
    private const int MaxLayers = 4096;
    private const int MaxWidth = 1 << 24;
    private const int FixedHeaderBytes = 8 + 4 + 4 + 4;
    private const int MaxSteps = 1 << 20;
    private const uint DenseKind = 0, GruKind = 1;
    private const int MaxMetadataBytes = 16 << 20;

    /// <summary>Bytes per layer in the layer table of a format version.</summary>
    private static int LayerEntryBytes(uint version) => version == 1 ? 8 : 16;

    /// <summary>Bytes after the layer table: the parameter count, and from version 4 the precision.</summary>
    private static int CountBytes(uint version) => version >= 4 ? 12 : 8;

    /// <summary>What a file holds: the network (its weights as stored, widened or dequantized to float32), their precision, and for int8 the quantized layers.</summary>
    internal sealed record StoredModel(Network Network, Precision Precision, Int8Dense[]? Int8);

    /// <summary>
    /// Saves atomically (<see cref="AtomicFile"/>): a crash mid-save leaves the old file (or none) but never a torn one.
    /// </summary>
    public static void Save(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream => Write(network, stream), "the model");
    }

    /// <summary>Loads a model file.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid model (the message says what is wrong), or it holds a predictor's bfloat16 or int8 weights.</exception>
    public static Network Load(string path) => ToNetwork(LoadStored(path));

    /// <summary>
    /// Quantizes a model file in one call: loads the float32 model at <paramref name="sourcePath"/>, rounds or quantizes its
    /// weights as a predictor of <paramref name="precision"/> does, and saves them (atomically) at
    /// <paramref name="destinationPath"/>, which <see cref="Predictor.Load(string)"/> then loads as that predictor, with the
    /// same results as quantizing at load. An int8 file takes about a quarter of the float32 bytes, a bfloat16 one half.
    /// </summary>
    /// <exception cref="InvalidDataException">The source is not a valid float32 model file.</exception>
    /// <exception cref="NotSupportedException">The precision does not cover one of the model's layers.</exception>
    public static void Quantize(string sourcePath, string destinationPath, Precision precision)
    {
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        if (!Enum.IsDefined(precision)) throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision.");
        using Predictor predictor = new(Load(sourcePath), new PredictorOptions { Precision = precision });
        predictor.Save(destinationPath);
    }

    /// <summary>Loads a model file in whatever precision it holds.</summary>
    internal static StoredModel LoadStored(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return ReadStored(stream);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The network of a float32 file; a file of lower precision is refused with a message that says where it loads.</summary>
    private static Network ToNetwork(StoredModel stored) => stored.Precision == Precision.Float32 ? stored.Network
        : throw new InvalidDataException($"the file holds a predictor's {stored.Precision} weights, not a float32 network to train or export: load it with Predictor.Load (or save the float32 network too).");

    /// <summary>Writes a network in the model format (float32).</summary>
    public static void Write(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        Write(network, Precision.Float32, null, stream);
    }

    /// <summary>
    /// Writes a network with its weights in <paramref name="precision"/>: float32 as they are; bfloat16 as the network
    /// holds them (already rounded by the predictor); int8 from <paramref name="int8"/>, the predictor's quantized layers.
    /// </summary>
    internal static void Write(Network network, Precision precision, Int8Dense[]? int8, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var hash = new XxHash64();
        int layers = network.Layers.Count, entry = LayerEntryBytes(Version);
        var header = new byte[FixedHeaderBytes + entry * layers + CountBytes(Version)];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)layers);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)network.InputSize);
        int l = 0;
        foreach (LayerSpec spec in network.Specs)
        {
            (uint kind, uint a, uint b, uint c) = spec switch
            {
                DenseSpec d => (DenseKind, (uint)d.Outputs, (uint)d.Activation, 0u),
                GruSpec g => (GruKind, (uint)g.HiddenSize, (uint)g.Steps, g.ReturnSequences ? 1u : 0u),
                _ => throw new NotSupportedException($"No model-file encoding for {spec.GetType().Name}."),
            };
            Span<byte> at = header.AsSpan(FixedHeaderBytes + entry * l++);
            BinaryPrimitives.WriteUInt32LittleEndian(at, kind);
            BinaryPrimitives.WriteUInt32LittleEndian(at[4..], a);
            BinaryPrimitives.WriteUInt32LittleEndian(at[8..], b);
            BinaryPrimitives.WriteUInt32LittleEndian(at[12..], c);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(FixedHeaderBytes + entry * layers), (ulong)network.ParameterCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(FixedHeaderBytes + entry * layers + 8), (uint)precision);
        stream.Write(header);
        hash.Append(header);

        ReadOnlySpan<byte> parameters = precision == Precision.Float32 ? ParameterBytes(network.Parameters) : StoredWeights.Encode(network, precision, int8);
        stream.Write(parameters);
        hash.Append(parameters);
        byte[] metadata = ModelMetadataEncoding.Encode(network.Metadata);
        if (metadata.Length > MaxMetadataBytes)
            throw new ArgumentException($"The network's metadata takes {metadata.Length} bytes, more than a model file holds ({MaxMetadataBytes}).", nameof(network));
        byte[] metadataSection = new byte[4 + metadata.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(metadataSection, (uint)metadata.Length);
        metadata.CopyTo(metadataSection, 4);
        stream.Write(metadataSection);
        hash.Append(metadataSection);
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(checksum);
    }

    /// <summary>Reads a network, validating as described on <see cref="ModelFile"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid model, or it holds a predictor's bfloat16 or int8 weights.</exception>
    public static Network Read(Stream stream) => ToNetwork(ReadStored(stream));

    /// <summary>Reads a model in whatever precision it holds, validating as described on <see cref="ModelFile"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid model.</exception>
    internal static StoredModel ReadStored(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // The length check below needs to know what is there: buffer what actually arrives, so memory
            // follows the data present, never the size a header claims.
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            buffered.Position = 0;
            stream = buffered;
        }

        var hash = new XxHash64();
        Span<byte> fixedHeader = stackalloc byte[FixedHeaderBytes];
        ReadExactly(stream, fixedHeader, "the header");
        if (!fixedHeader[..8].SequenceEqual(Magic))
            throw new InvalidDataException("not a FastNet model file (wrong magic bytes).");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(fixedHeader[8..]);
        if (version == 0 || version > Version)
            throw new InvalidDataException($"model format version {version} is not supported; this FastNet reads versions 1 to {Version}{(version > Version ? " (the file was written by a newer FastNet)" : "")}.");
        uint layerCount = BinaryPrimitives.ReadUInt32LittleEndian(fixedHeader[12..]);
        uint inputSize = BinaryPrimitives.ReadUInt32LittleEndian(fixedHeader[16..]);
        if (layerCount is 0 or > MaxLayers)
            throw new InvalidDataException($"the layer count {layerCount} is outside 1..{MaxLayers}.");
        if (inputSize is 0 or > MaxWidth)
            throw new InvalidDataException($"the input size {inputSize} is outside 1..{MaxWidth}.");
        hash.Append(fixedHeader);

        int entry = LayerEntryBytes(version);
        byte[] layerBytes = new byte[entry * layerCount + CountBytes(version)];   // at most 64 KiB: bounded by MaxLayers
        ReadExactly(stream, layerBytes, "the layer table");
        hash.Append(layerBytes);
        uint precisionCode = version >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(layerBytes.AsSpan((int)(entry * layerCount + 8))) : 0;
        if (!Enum.IsDefined((Precision)precisionCode))
            throw new InvalidDataException($"the weights' precision code {precisionCode} is unknown (0 float32, 1 bfloat16, 2 int8).");
        var precision = (Precision)precisionCode;
        var specs = new List<LayerSpec>((int)layerCount);
        long parameterCount = 0, width = inputSize, storedBytes = 0;
        for (int l = 0; l < layerCount; l++)
        {
            ReadOnlySpan<byte> at = layerBytes.AsSpan(entry * l, entry);
            LayerSpec spec = version == 1
                ? ReadDense(l, BinaryPrimitives.ReadUInt32LittleEndian(at), BinaryPrimitives.ReadUInt32LittleEndian(at[4..]))
                : ReadLayer(l, at);
            // width stays below MaxWidth x MaxSteps < 2^44: no overflow in what follows.
            if (spec.Problem((int)width) is string problem) throw new InvalidDataException($"layer {l}: {problem}");
            parameterCount += spec.ParameterCount((int)width);
            long quantizedInputs = spec is GruSpec gru ? Math.Max(width / gru.Steps, gru.HiddenSize) : width;   // the largest k of the layer's int8 matrices
            if (precision == Precision.Int8 && quantizedInputs > Int8Matrix.MaxInputs)
                throw new InvalidDataException($"layer {l} multiplies {quantizedInputs} inputs, more than an int8 layer takes ({Int8Matrix.MaxInputs}).");
            storedBytes += StoredWeights.LayerBytes(spec, width, precision);
            width = spec.OutputSize((int)width);
            if (width > MaxWidth) throw new InvalidDataException($"layer {l} gives {width} floats per sample, more than {MaxWidth}.");
            if (parameterCount > Array.MaxLength)
                throw new InvalidDataException($"layers 0 to {l} alone need {parameterCount} parameters, more than FastNet can hold.");
            specs.Add(spec);
        }

        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(layerBytes.AsSpan((int)(entry * layerCount)));
        if (declared != (ulong)parameterCount)
            throw new InvalidDataException($"the file declares {declared} parameters but its layers need {parameterCount}.");
        // Check the claimed size against what is there before allocating it.
        long metadataHeader = version >= 3 ? 4 : 0;
        long expected = storedBytes + metadataHeader + 8, remaining = stream.Length - stream.Position;
        if (remaining < expected)
            throw new InvalidDataException($"the file is truncated: {parameterCount} parameters{(precision == Precision.Float32 ? "" : $" in {precision} ({storedBytes} bytes)")}{(version >= 3 ? ", the metadata size" : "")} and a checksum need {expected} more bytes, {remaining} are left.");
        if (version < 3 && remaining > expected)
            throw new InvalidDataException($"the file has {remaining - expected} unexpected bytes after the checksum.");

        var network = new Network((int)inputSize, specs);
        byte[]? stored = null;   // lower precision: decoded only once the checksum has vouched for it
        if (precision == Precision.Float32)
        {
            Span<byte> parameters = MemoryMarshal.AsBytes(network.Parameters);
            ReadExactly(stream, parameters, "the parameters");
            hash.Append(parameters);   // the file's little-endian bytes
            if (!BitConverter.IsLittleEndian) ReverseFloats(network.Parameters);
        }
        else
        {
            if (storedBytes > Array.MaxLength)
                throw new InvalidDataException($"the {precision} parameters take {storedBytes} bytes, more than FastNet reads into one array.");
            stored = new byte[storedBytes];
            ReadExactly(stream, stored, "the parameters");
            hash.Append(stored);
        }

        byte[]? metadataBytes = null;
        if (version >= 3)
        {
            Span<byte> sizeBytes = stackalloc byte[4];
            ReadExactly(stream, sizeBytes, "the metadata size");
            hash.Append(sizeBytes);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(sizeBytes);
            remaining = stream.Length - stream.Position;
            if (size > MaxMetadataBytes) throw new InvalidDataException($"the metadata claims {size} bytes, more than {MaxMetadataBytes}.");
            if (remaining < size + 8L)
                throw new InvalidDataException($"the file is truncated: the metadata and checksum need {size + 8L} more bytes, {remaining} are left.");
            if (remaining > size + 8L)
                throw new InvalidDataException($"the file has {remaining - size - 8L} unexpected bytes after the checksum.");
            metadataBytes = new byte[size];
            ReadExactly(stream, metadataBytes, "the metadata");
            hash.Append(metadataBytes);
        }

        Span<byte> checksum = stackalloc byte[8];
        ReadExactly(stream, checksum, "the checksum");
        if (BinaryPrimitives.ReadUInt64LittleEndian(checksum) != hash.GetCurrentHashAsUInt64())
            throw new InvalidDataException("the checksum does not match: the file is corrupted.");
        Int8Dense[]? int8 = stored is null ? null : StoredWeights.Decode(stored, network, precision);
        if (metadataBytes is not null)
        {
            // Decoded only now: a corrupted file is reported as such, not as whatever its damaged bytes seem to say.
            ModelMetadata metadata = ModelMetadataEncoding.Decode(metadataBytes);
            if (metadata.Problem(network.InputSize, network.OutputSize) is string problem) throw new InvalidDataException($"the metadata does not fit the network: {problem}");
            network.Metadata = metadata;
        }

        return new StoredModel(network, precision, int8);
    }

    private static LayerSpec ReadLayer(int l, ReadOnlySpan<byte> entry)
    {
        uint kind = BinaryPrimitives.ReadUInt32LittleEndian(entry);
        uint a = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
        uint b = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
        uint c = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
        switch (kind)
        {
            case DenseKind:
                if (c != 0) throw new InvalidDataException($"layer {l} (dense) has a nonzero reserved field.");
                return ReadDense(l, a, b);
            case GruKind:
                if (a is 0 or > MaxWidth) throw new InvalidDataException($"layer {l} (GRU) has a hidden size of {a}, outside 1..{MaxWidth}.");
                if (b is 0 or > MaxSteps) throw new InvalidDataException($"layer {l} (GRU) has {b} steps, outside 1..{MaxSteps}.");
                if (c > 1) throw new InvalidDataException($"layer {l} (GRU) has unknown flags 0x{c:X}.");
                return new GruSpec((int)a, (int)b, c == 1);
            default:
                throw new InvalidDataException($"layer {l} is of an unknown kind {kind}.");
        }
    }

    private static DenseSpec ReadDense(int l, uint outputs, uint activation)
    {
        if (outputs is 0 or > MaxWidth)
            throw new InvalidDataException($"layer {l} has {outputs} outputs, outside 1..{MaxWidth}.");
        if (!Enum.IsDefined((Activation)activation))
            throw new InvalidDataException($"layer {l} has an unknown activation code {activation}.");
        return new DenseSpec((int)outputs, (Activation)activation);
    }

    private static ReadOnlySpan<byte> ParameterBytes(Span<float> parameters)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(parameters);
        byte[] bytes = new byte[parameters.Length * 4];
        for (int i = 0; i < parameters.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), parameters[i]);
        return bytes;
    }

    private static void ReverseFloats(Span<float> values)
    {
        Span<int> bits = MemoryMarshal.Cast<float, int>(values);
        for (int i = 0; i < bits.Length; i++) bits[i] = BinaryPrimitives.ReverseEndianness(bits[i]);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length) throw new InvalidDataException($"the file is truncated in {what} ({read} of {buffer.Length} bytes).");
    }
}

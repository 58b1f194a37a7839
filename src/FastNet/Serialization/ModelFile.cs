using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace FastNet.Serialization;

/// <summary>
/// The FastNet model file, version 1. All integers little-endian:
/// <code>
/// offset  size        field
/// 0       8           magic "FNETMODL"
/// 8       4           format version (1)
/// 12      4           layer count L (1 .. 4096)
/// 16      4           input size
/// 20      8 * L       per layer: output size (uint32), activation (uint32: 0 none, 1 ReLU, 2 sigmoid, 3 tanh)
/// ..      8           parameter count P (must match the architecture)
/// ..      4 * P       parameters, float32, in Network.Parameters order (per layer: weights [in x out], biases)
/// ..      8           XxHash64 of every byte before it
/// </code>
/// Readers check everything before trusting it: magic, version, sizes (against limits and against the
/// stream length, before allocating), then the checksum.
/// </summary>
public static class ModelFile
{
    /// <summary>The format version this code writes and the newest it reads.</summary>
    public const int Version = 1;

    private static ReadOnlySpan<byte> Magic => "FNETMODL"u8;
    private const int MaxLayers = 4096;
    private const int MaxWidth = 1 << 24;
    private const int FixedHeaderBytes = 8 + 4 + 4 + 4;

    /// <summary>
    /// Saves atomically: writes a temporary file beside <paramref name="path"/>, flushes it to disk, then
    /// renames it over the target, so a crash mid-save leaves the old file (or none) but never a torn one.
    /// </summary>
    public static void Save(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Write(network, stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Loads a model file.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid model (the message says what is wrong).</exception>
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
    }

    /// <summary>Writes a network in the model format.</summary>
    public static void Write(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        var hash = new XxHash64();
        int layers = network.Layers.Count;
        var header = new byte[FixedHeaderBytes + 8 * layers + 8];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)layers);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)network.InputSize);
        for (int l = 0; l < layers; l++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(FixedHeaderBytes + 8 * l), (uint)network.Layers[l].Outputs);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(FixedHeaderBytes + 8 * l + 4), (uint)network.Layers[l].Activation);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(FixedHeaderBytes + 8 * layers), (ulong)network.ParameterCount);
        stream.Write(header);
        hash.Append(header);

        ReadOnlySpan<byte> parameters = ParameterBytes(network.Parameters);
        stream.Write(parameters);
        hash.Append(parameters);
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(checksum);
    }

    /// <summary>Reads a network, validating as described on <see cref="ModelFile"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid model.</exception>
    public static Network Read(Stream stream)
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

        byte[] layerBytes = new byte[8 * layerCount + 8];   // at most 32 KiB: bounded by MaxLayers
        ReadExactly(stream, layerBytes, "the layer table");
        hash.Append(layerBytes);
        var shapes = new List<(int, int, Activation)>((int)layerCount);
        long parameterCount = 0;
        int inputs = (int)inputSize;
        for (int l = 0; l < layerCount; l++)
        {
            uint outputs = BinaryPrimitives.ReadUInt32LittleEndian(layerBytes.AsSpan(8 * l));
            uint activation = BinaryPrimitives.ReadUInt32LittleEndian(layerBytes.AsSpan(8 * l + 4));
            if (outputs is 0 or > MaxWidth)
                throw new InvalidDataException($"layer {l} has {outputs} outputs, outside 1..{MaxWidth}.");
            if (!Enum.IsDefined((Activation)activation))
                throw new InvalidDataException($"layer {l} has an unknown activation code {activation}.");
            shapes.Add((inputs, (int)outputs, (Activation)activation));
            parameterCount += (long)inputs * outputs + outputs;
            inputs = (int)outputs;
        }

        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(layerBytes.AsSpan((int)(8 * layerCount)));
        if (declared != (ulong)parameterCount)
            throw new InvalidDataException($"the file declares {declared} parameters but its layers need {parameterCount}.");
        if (parameterCount > Array.MaxLength)
            throw new InvalidDataException($"the model would have {parameterCount} parameters, more than FastNet can hold.");
        // Check the claimed size against what is there before allocating it.
        long expected = 4 * parameterCount + 8, remaining = stream.Length - stream.Position;
        if (remaining < expected)
            throw new InvalidDataException($"the file is truncated: {parameterCount} parameters and a checksum need {expected} more bytes, {remaining} are left.");
        if (remaining > expected)
            throw new InvalidDataException($"the file has {remaining - expected} unexpected bytes after the checksum.");

        var network = new Network(shapes);
        Span<byte> parameters = MemoryMarshal.AsBytes(network.Parameters);
        ReadExactly(stream, parameters, "the parameters");
        hash.Append(parameters);   // the file's little-endian bytes
        if (!BitConverter.IsLittleEndian) ReverseFloats(network.Parameters);

        Span<byte> checksum = stackalloc byte[8];
        ReadExactly(stream, checksum, "the checksum");
        if (BinaryPrimitives.ReadUInt64LittleEndian(checksum) != hash.GetCurrentHashAsUInt64())
            throw new InvalidDataException("the checksum does not match: the file is corrupted.");
        return network;
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

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FastNet.Onnx.Protobuf;
using DataType = FastNet.Onnx.Protobuf.TensorProto.Types.DataType;

namespace FastNet.Onnx.Import;

/// <summary>Decodes the data of a TensorProto (raw little-endian bytes or the typed repeated fields) into a <see cref="Value"/>.</summary>
internal static class TensorData
{
    /// <summary>The tensor as a <see cref="FloatTensor"/> (FLOAT) or an <see cref="IntTensor"/> (INT64, INT32).</summary>
    /// <exception cref="NotSupportedException">External data, segments, or another element type.</exception>
    /// <exception cref="InvalidDataException">The data does not hold as many elements as the dims say.</exception>
    public static Value Decode(TensorProto tensor, string where)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            throw new NotSupportedException($"{where}: tensor '{tensor.Name}' keeps its data in an external file; FastNet.Onnx reads models whose tensors are inside the .onnx file (save with save_as_external_data=False).");
        if (!tensor.Segment.IsEmpty) throw new NotSupportedException($"{where}: tensor '{tensor.Name}' is segmented; FastNet.Onnx reads whole tensors only.");
        long[] dims = [.. tensor.Dims];
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new InvalidDataException($"{where}: tensor '{tensor.Name}' has a negative dimension {d}.");
            // Both factors are at most Array.MaxLength here (d once checked below), so the product cannot overflow a long.
            if (d > Array.MaxLength) throw new InvalidDataException($"{where}: tensor '{tensor.Name}' has a dimension of {d}.");
            count *= d;
            if (count > Array.MaxLength) throw new InvalidDataException($"{where}: tensor '{tensor.Name}' claims {count} elements or more.");
        }

        var type = (DataType)tensor.DataType;
        switch (type)
        {
            case DataType.Float:
            {
                float[] data = tensor.RawData.IsEmpty ? [.. tensor.FloatData] : FromRaw<float>(tensor, count, 4, where);
                Check(data.Length, count, tensor, where);
                if (!BitConverter.IsLittleEndian && !tensor.RawData.IsEmpty) ReverseEach(MemoryMarshal.Cast<float, int>(data.AsSpan()));
                return new FloatTensor(dims, data);
            }
            case DataType.Int64:
            {
                long[] data = tensor.RawData.IsEmpty ? [.. tensor.Int64Data] : FromRaw<long>(tensor, count, 8, where);
                Check(data.Length, count, tensor, where);
                if (!BitConverter.IsLittleEndian && !tensor.RawData.IsEmpty) ReverseEach(data.AsSpan());
                return new IntTensor(dims, data.Select(v => (long?)v).ToArray());
            }
            case DataType.Int32:
            {
                int[] data = tensor.RawData.IsEmpty ? [.. tensor.Int32Data] : FromRaw<int>(tensor, count, 4, where);
                Check(data.Length, count, tensor, where);
                if (!BitConverter.IsLittleEndian && !tensor.RawData.IsEmpty) ReverseEach(data.AsSpan());
                return new IntTensor(dims, data.Select(v => (long?)v).ToArray());
            }
            case DataType.Bool:
            {
                // One byte per element in raw data; int32_data otherwise.
                long[] data = tensor.RawData.IsEmpty ? [.. tensor.Int32Data.Select(v => (long)v)] : [.. tensor.RawData.Span.ToArray().Select(b => (long)b)];
                Check(data.Length, count, tensor, where);
                return new IntTensor(dims, data.Select(v => (long?)v).ToArray());
            }
            default:
                throw new NotSupportedException($"{where}: tensor '{tensor.Name}' holds {type} elements; FastNet.Onnx reads FLOAT, INT64, INT32 and BOOL tensors.");
        }
    }

    private static T[] FromRaw<T>(TensorProto tensor, long count, int size, string where) where T : unmanaged
    {
        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        if (raw.Length != count * size)
            throw new InvalidDataException($"{where}: tensor '{tensor.Name}' has {raw.Length} bytes of data, but {count} elements of {size} bytes need {count * size}.");
        return MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    private static void Check(int length, long count, TensorProto tensor, string where)
    {
        if (length != count)
            throw new InvalidDataException($"{where}: tensor '{tensor.Name}' holds {length} elements, but its dimensions [{string.Join(", ", tensor.Dims)}] say {count}.");
    }

    private static void ReverseEach(Span<int> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReverseEndianness(values[i]);
    }

    private static void ReverseEach(Span<long> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReverseEndianness(values[i]);
    }

    /// <summary>A FLOAT tensor proto holding <paramref name="data"/> as raw little-endian bytes (for export).</summary>
    public static TensorProto Float(string name, long[] dims, ReadOnlySpan<float> data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float };
        tensor.Dims.AddRange(dims);
        byte[] raw = MemoryMarshal.AsBytes(data).ToArray();
        if (!BitConverter.IsLittleEndian) ReverseEach(MemoryMarshal.Cast<byte, int>(raw.AsSpan()));
        tensor.RawData = Google.Protobuf.ByteString.CopyFrom(raw);
        return tensor;
    }

    /// <summary>An INT64 tensor proto (for export).</summary>
    public static TensorProto Int64(string name, long[] dims, params long[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(data);
        return tensor;
    }
}

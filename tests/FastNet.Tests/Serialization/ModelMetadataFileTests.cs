using System.Buffers.Binary;
using FastNet.Serialization;

namespace FastNet.Tests.Serialization;

/// <summary>The metadata section of the model file (version 3), and files of version 2 that have none.</summary>
public sealed class ModelMetadataFileTests
{
    private static Network Classifier() => new NetworkBuilder(4).Dense(6, Activation.Tanh).Dense(3).Build(seed: 3);

    private static ModelMetadata Full(int features) => new()
    {
        InputName = "measurements",
        OutputName = "species logits",
        ClassLabels = ["setosa", "versicolor", "virginica ✿"],   // UTF-8 beyond ASCII
        InputNormalization = new InputNormalization(Enumerable.Range(0, features).Select(f => 5f + f).ToArray(), Enumerable.Range(0, features).Select(f => 0.5f + f).ToArray()),
        OutputTransform = OutputTransform.LogSoftmax,
    };

    private static byte[] Bytes(Network net)
    {
        using var stream = new MemoryStream();
        ModelFile.Write(net, stream);
        return stream.ToArray();
    }

    private static string Error(byte[] bytes) => Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes))).Message;

    /// <summary>Recomputes the checksum after an edit, so that the reader's other checks are what fails.</summary>
    private static byte[] Resealed(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), System.IO.Hashing.XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
        return bytes;
    }

    public static TheoryData<string> Variants => ["full", "scalar normalization", "labels only", "empty"];

    [Theory]
    [MemberData(nameof(Variants))]
    public void MetadataRoundTrips(string variant)
    {
        Network net = Classifier();
        net.Metadata = variant switch
        {
            "full" => Full(4),
            "scalar normalization" => new ModelMetadata { InputNormalization = new InputNormalization([127.5f], [255f]), OutputTransform = OutputTransform.Softmax },
            "labels only" => new ModelMetadata { ClassLabels = ["a", "", "c"] },
            _ => ModelMetadata.Empty,
        };
        Network loaded = ModelFile.Read(new MemoryStream(Bytes(net)));
        Assert.Equal(net.Metadata, loaded.Metadata);
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
    }

    [Fact]
    public void MetadataThatDoesNotFitTheNetworkIsRefused()
    {
        Network net = Classifier();
        Assert.Contains("2 class labels, but the network has 3 outputs", Assert.Throws<ArgumentException>(() => net.Metadata = new ModelMetadata { ClassLabels = ["a", "b"] }).Message);
        Assert.Contains("3 means and scales, but the network takes 4 inputs",
            Assert.Throws<ArgumentException>(() => net.Metadata = new ModelMetadata { InputNormalization = new InputNormalization([1, 2, 3], [1, 1, 1]) }).Message);
        Assert.Throws<ArgumentException>(() => new InputNormalization([1f], [0f]));
        Assert.Throws<ArgumentException>(() => new InputNormalization([float.NaN], [1f]));
        Assert.Throws<ArgumentException>(() => new InputNormalization([1f, 2f], [1f]));
        Assert.Same(ModelMetadata.Empty, net.Metadata);   // nothing changed
    }

    [Fact]
    public void CorruptOrInconsistentMetadataIsNamed()
    {
        Network net = Classifier();
        net.Metadata = Full(4);
        byte[] bytes = Bytes(net);
        int parametersStart = 20 + 16 * 2 + 8 + 4;   // header, layer table, parameter count, precision
        int metadataStart = bytes.Length - 8 - BitConverter.ToInt32(bytes.AsSpan(parametersStart + 4 * net.ParameterCount));
        Assert.Equal(parametersStart + 4 * net.ParameterCount + 4, metadataStart);

        // Any flipped bit of the metadata fails the checksum.
        byte[] flipped = (byte[])bytes.Clone();
        flipped[metadataStart + 9] ^= 4;
        Assert.Contains("checksum", Error(flipped));

        // Cut anywhere inside it: truncated.
        foreach (int cut in new[] { metadataStart - 2, metadataStart + 3, bytes.Length - 12 })
            Assert.Contains("truncated", Error(bytes[..cut]));

        // Well sealed but wrong: an unknown transform, unknown fields, labels that do not fit, a zero scale.
        byte[] transform = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(transform.AsSpan(metadataStart + 4), 7);
        Assert.Contains("unknown output transform 7", Error(Resealed(transform)));
        byte[] fields = (byte[])bytes.Clone();
        fields[metadataStart] |= 0x40;
        Assert.Contains("unknown fields 0x40", Error(Resealed(fields)));

        Network twoLabels = Classifier();
        byte[] labels = Bytes(twoLabels);
        // Rebuild with a metadata of 2 labels for 3 outputs, written by hand: flags 4, transform 0, count 2, "a", "b".
        byte[] section = [4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, (byte)'a', 1, 0, 0, 0, (byte)'b'];
        int sizeAt = labels.Length - 8 - 8 - 4;   // before: checksum, empty metadata (flags, transform), its size
        byte[] handMade = [.. labels.AsSpan(0, sizeAt), .. BitConverter.GetBytes(section.Length), .. section, .. new byte[8]];
        Assert.Contains("2 class labels, but the network has 3 outputs", Error(Resealed(handMade)));

        byte[] scale = [4 + 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, .. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(0f)];
        scale[0] = 8;   // normalization only, scalar, scale 0
        byte[] zeroScale = [.. labels.AsSpan(0, sizeAt), .. BitConverter.GetBytes(scale.Length - 4), .. scale.AsSpan(0, 4), .. scale.AsSpan(8), .. new byte[8]];
        Assert.Contains("scales must be finite and nonzero", Error(Resealed(zeroScale)));
    }

    /// <summary>A version-2 file (no metadata section), built here byte by byte, still loads with empty metadata.</summary>
    [Fact]
    public void Version2FilesStillLoad()
    {
        Network net = new NetworkBuilder(6).Gru(4, steps: 3).Dense(2, Activation.Sigmoid).Build(seed: 2);
        var bytes = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); bytes.AddRange(b); }
        bytes.AddRange("FNETMODL"u8.ToArray());
        U32(2); U32(2); U32(6);
        U32(1); U32(4); U32(3); U32(0);   // GRU: hidden 4, 3 steps, last state
        U32(0); U32(2); U32((uint)Activation.Sigmoid); U32(0);
        var count = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(count, (ulong)net.ParameterCount);
        bytes.AddRange(count);
        foreach (float p in net.Parameters) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, p); bytes.AddRange(b); }
        var checksum = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, System.IO.Hashing.XxHash64.HashToUInt64(bytes.ToArray()));
        bytes.AddRange(checksum);

        Network loaded = ModelFile.Read(new MemoryStream(bytes.ToArray()));
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Equal(ModelMetadata.Empty, loaded.Metadata);
        Assert.Contains("unexpected bytes", Error([.. bytes, 0]));
    }
}

using System.Buffers.Binary;
using FastNet.Serialization;

namespace FastNet.Tests.Serialization;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastnet-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Network Sample() => new NetworkBuilder(7).Dense(5, Activation.Relu).Dense(4, Activation.Tanh).Dense(3, Activation.Sigmoid).Dense(2).Build(seed: 9);

    private static byte[] Bytes(Network net)
    {
        using var stream = new MemoryStream();
        ModelFile.Write(net, stream);
        return stream.ToArray();
    }

    private static string Error(byte[] bytes) => Assert.Throws<InvalidDataException>(() => ModelFile.Read(new MemoryStream(bytes))).Message;

    [Fact]
    public void RoundTripIsBitwise()
    {
        Network net = Sample();
        net.Dense(1).Biases[2] = float.Epsilon;   // a denormal survives too
        string path = Path.Combine(_dir, "model.fnet");
        net.Save(path);
        Network loaded = Network.Load(path);
        Assert.Equal(net.Layers.Cast<DenseLayer>().Select(l => (l.Inputs, l.Outputs, l.Activation)), loaded.Layers.Cast<DenseLayer>().Select(l => (l.Inputs, l.Outputs, l.Activation)));
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Equal(new[] { "model.fnet" }, Directory.GetFiles(_dir).Select(Path.GetFileName));   // no temporary left behind
    }

    [Fact]
    public void TruncationAnywhereIsReported()
    {
        byte[] bytes = Bytes(Sample());
        foreach (int length in new[] { 0, 3, 8, 19, 20, 27, bytes.Length / 2, bytes.Length - 9, bytes.Length - 1 })
            Assert.Contains("truncated", Error(bytes[..length]));
    }

    [Fact]
    public void AnyFlippedParameterByteFailsTheChecksum()
    {
        byte[] bytes = Bytes(Sample());
        var rng = new Random(1);
        for (int trial = 0; trial < 20; trial++)
        {
            byte[] copy = (byte[])bytes.Clone();
            int at = rng.Next(20 + 16 * 4 + 8 + 4, bytes.Length);   // past the header (and its precision field): parameters or the checksum itself
            copy[at] ^= (byte)(1 << rng.Next(8));
            Assert.Contains("checksum", Error(copy));
        }
    }

    [Fact]
    public void WrongMagicFutureVersionAndBadHeadersAreNamed()
    {
        byte[] bytes = Bytes(Sample());
        byte[] magic = (byte[])bytes.Clone();
        magic[0] = (byte)'X';
        Assert.Contains("not a FastNet model", Error(magic));

        byte[] future = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(future.AsSpan(8), ModelFile.Version + 1);
        Assert.Contains("newer FastNet", Error(future));

        byte[] activation = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(activation.AsSpan(20 + 8), 9);   // layer 0: kind, outputs, activation
        Assert.Contains("unknown activation", Error(activation));

        byte[] count = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(count.AsSpan(20 + 16 * 4), 12345);
        Assert.Contains("declares 12345 parameters", Error(count));

        Assert.Contains("unexpected bytes", Error([.. bytes, 0]));
    }

    [Fact]
    public void AbsurdSizesAreRejectedBeforeAllocating()
    {
        // A header announcing a 16M x 16M layer (far beyond memory) in a file of a few bytes.
        byte[] bytes = Bytes(new NetworkBuilder(1).Dense(1).Build());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 1 << 24);        // input size
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), 1 << 24);        // outputs
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(36), (1UL << 48) + (1 << 24));
        long before = GC.GetAllocatedBytesForCurrentThread();
        string message = Error(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated what the header claimed");
        Assert.Contains("parameters", message);

        // 16384 x 16384 (a 1 GiB model) fits the format's limits, but the file is a few bytes long.
        byte[] large = Bytes(new NetworkBuilder(1).Dense(1).Build());
        BinaryPrimitives.WriteUInt32LittleEndian(large.AsSpan(16), 1 << 14);
        BinaryPrimitives.WriteUInt32LittleEndian(large.AsSpan(24), 1 << 14);
        BinaryPrimitives.WriteUInt64LittleEndian(large.AsSpan(36), (1UL << 28) + (1 << 14));
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated", Error(large));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the reader allocated what the header claimed");

        byte[] wide = Bytes(new NetworkBuilder(1).Dense(1).Build());
        BinaryPrimitives.WriteUInt32LittleEndian(wide.AsSpan(24), uint.MaxValue);
        Assert.Contains("outputs, outside", Error(wide));
    }

    [Fact]
    public void GruNetworksRoundTripWithTheirLayerKinds()
    {
        Network net = new NetworkBuilder(12).Gru(5, steps: 4, returnSequences: true).Gru(3, steps: 4).Dense(2).Build(seed: 4);
        Network loaded = ModelFile.Read(new MemoryStream(Bytes(net)));
        Assert.Equal(net.Layers.Select(l => l.ToString()), loaded.Layers.Select(l => l.ToString()));
        Assert.Equal((3, 5, 4, true), ((GruLayer)loaded.Layers[0]) is var g ? (g.Features, g.HiddenSize, g.Steps, g.ReturnSequences) : default);
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));

        byte[] bytes = Bytes(net);
        byte[] kind = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(kind.AsSpan(20), 7);
        Assert.Contains("unknown kind 7", Error(kind));
        byte[] steps = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(steps.AsSpan(20 + 8), 5);   // 12 inputs are not 5 steps
        Assert.Contains("whole number of steps", Error(steps));
        byte[] flags = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(flags.AsSpan(20 + 12), 6);
        Assert.Contains("unknown flags", Error(flags));
        byte[] zeroSteps = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(zeroSteps.AsSpan(20 + 8), 0);
        Assert.Contains("0 steps", Error(zeroSteps));
    }

    /// <summary>A version-1 file (8-byte dense entries), built here byte by byte, still loads.</summary>
    [Fact]
    public void Version1FilesStillLoad()
    {
        Network net = Sample();
        var layers = net.Layers.Cast<DenseLayer>().ToArray();
        var bytes = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); bytes.AddRange(b); }
        bytes.AddRange("FNETMODL"u8.ToArray());
        U32(1); U32((uint)layers.Length); U32((uint)net.InputSize);
        foreach (DenseLayer l in layers) { U32((uint)l.Outputs); U32((uint)l.Activation); }
        var count = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(count, (ulong)net.ParameterCount);
        bytes.AddRange(count);
        foreach (float p in net.Parameters) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, p); bytes.AddRange(b); }
        var checksum = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, System.IO.Hashing.XxHash64.HashToUInt64(bytes.ToArray()));
        bytes.AddRange(checksum);

        Network loaded = ModelFile.Read(new MemoryStream(bytes.ToArray()));
        Assert.Equal(layers.Select(l => (l.Inputs, l.Outputs, l.Activation)), loaded.Layers.Cast<DenseLayer>().Select(l => (l.Inputs, l.Outputs, l.Activation)));
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
    }

    [Fact]
    public void FailedSaveLeavesTheExistingFileAndNoTemporary()
    {
        string path = Path.Combine(_dir, "model.fnet");
        Network original = Sample();
        original.Save(path);
        byte[] before = File.ReadAllBytes(path);

        // Saving over a directory of that name fails at the rename, after the temporary file was written.
        string blocked = Path.Combine(_dir, "blocked");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<IOException>(() => Sample().Save(blocked));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.fnet" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void LoadErrorsNameTheFile()
    {
        string path = Path.Combine(_dir, "broken.fnet");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.StartsWith(path, Assert.Throws<InvalidDataException>(() => Network.Load(path)).Message);
    }
}

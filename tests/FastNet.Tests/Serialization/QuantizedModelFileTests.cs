using System.Buffers.Binary;
using System.IO.Hashing;
using FastNet.Inference;
using FastNet.Kernels;
using FastNet.Serialization;

namespace FastNet.Tests.Serialization;

/// <summary>Model files in a predictor's precision: the same results after a round trip, the documented bytes, the file's checks.</summary>
public sealed class QuantizedModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastnet-quantized-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PredictorOptions Options(Precision precision) => new() { Precision = precision };

    private static Network Dense()
    {
        Network net = new NetworkBuilder(100).Dense(64, Activation.Relu).Dense(10).Build(seed: 2);
        net.Metadata = new ModelMetadata { InputName = "pixels", ClassLabels = Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), OutputTransform = OutputTransform.Softmax };
        return net;
    }

    private static Network Gru() => new NetworkBuilder(5 * 9).Gru(24, steps: 5).Dense(17, Activation.Relu).Dense(4).Build(seed: 11);

    private static byte[] Bytes(Predictor predictor)
    {
        using var stream = new MemoryStream();
        predictor.Write(stream);
        return stream.ToArray();
    }

    private static byte[] Int8Bytes(Network net)
    {
        using Predictor predictor = net.CreatePredictor(Options(Precision.Int8));
        return Bytes(predictor);
    }

    private static string Error(byte[] bytes) => Assert.Throws<InvalidDataException>(() => Predictor.Read(new MemoryStream(bytes))).Message;

    /// <summary>The last 8 bytes made the XxHash64 of all before them again, so a deliberate change passes the checksum.</summary>
    private static byte[] Resealed(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
        return bytes;
    }

    [Theory]
    [InlineData(Precision.BFloat16)]
    [InlineData(Precision.Int8)]
    public void ASavedPredictorLoadsWithBitwiseTheSameResults(Precision precision)
    {
        foreach (Network net in new[] { Dense(), Gru() })
        {
            string path = Path.Combine(_dir, $"model-{precision}.fnet");
            using Predictor original = net.CreatePredictor(Options(precision));
            original.Save(path);
            using Predictor loaded = Predictor.Load(path);
            Assert.Equal(precision, loaded.Options.Precision);
            Assert.Equal(net.Metadata, loaded.Metadata);

            int d = net.InputSize, o = net.OutputSize, count = 300;
            float[] x = TestData.Uniform(new Random(3), count * d, -2f, 2f);
            float[] expected = new float[count * o], actual = new float[count * o];
            original.PredictBatch(x, expected);
            loaded.PredictBatch(x, actual);
            Assert.Equal(expected, actual);
            for (int r = 0; r < 20; r++)
            {
                original.Predict(x.AsSpan(r * d, d), expected.AsSpan(0, o));
                loaded.Predict(x.AsSpan(r * d, d), actual.AsSpan(0, o));
                Assert.Equal(expected[..o], actual[..o]);
            }
        }
    }

    [Fact]
    public void QuantizedFilesAreSmallerAndQuantizeIsOneCall()
    {
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        string source = Path.Combine(_dir, "fp32.fnet"), int8 = Path.Combine(_dir, "int8.fnet"), bf16 = Path.Combine(_dir, "bf16.fnet");
        net.Save(source);
        ModelFile.Quantize(source, int8, Precision.Int8);
        ModelFile.Quantize(source, bf16, Precision.BFloat16);
        double fp32Bytes = new FileInfo(source).Length;
        Assert.InRange(new FileInfo(int8).Length / fp32Bytes, 0.24, 0.26);   // 1 byte per weight against 4, plus scales and biases
        Assert.InRange(new FileInfo(bf16).Length / fp32Bytes, 0.49, 0.51);

        float[] x = TestData.Uniform(new Random(4), 50 * 784, 0f, 1f);
        foreach ((string path, Precision precision) in new[] { (int8, Precision.Int8), (bf16, Precision.BFloat16) })
        {
            float[] expected = new float[50 * 10], actual = new float[50 * 10];
            using (Predictor atLoad = Predictor.Load(source, Options(precision))) atLoad.PredictBatch(x, expected);
            using (Predictor fromFile = Predictor.Load(path)) fromFile.PredictBatch(x, actual);
            Assert.Equal(expected, actual);
        }
    }

    /// <summary>
    /// The int8 file read by hand against the layout documented on <see cref="ModelFile"/> and <see cref="StoredWeights"/>,
    /// the values from the quantization's definition (scale = max |w| / 127 per output, q = round(w / scale), ties to even).
    /// </summary>
    [Fact]
    public void Int8FilesHoldTheDocumentedBytes()
    {
        Network net = new NetworkBuilder(6).Dense(5, Activation.Tanh).Gru(3, steps: 1).Build(seed: 5);
        byte[] bytes = Int8Bytes(net);
        int at = 20 + 16 * 2;
        Assert.Equal((ulong)net.ParameterCount, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
        at += 12;

        // Dense [6 x 5]: q row-major, 5 scales (per column), 5 biases.
        var dense = (DenseLayer)net.Layers[0];
        at = CheckQuantized(bytes, at, dense.Weights, rows: 6, cols: 5, perColumn: true);
        at = CheckFloats(bytes, at, dense.Biases);
        // GRU weight_ih [9 x 5] and weight_hh [9 x 3]: each q row-major with 9 scales (per row, a gate unit); then both biases in float32.
        var gru = (GruLayer)net.Layers[1];
        at = CheckQuantized(bytes, at, gru.InputWeights, rows: 9, cols: 5, perColumn: false);
        at = CheckQuantized(bytes, at, gru.RecurrentWeights, rows: 9, cols: 3, perColumn: false);
        at = CheckFloats(bytes, at, gru.Parameters[(gru.InputWeights.Length + gru.RecurrentWeights.Length)..]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4)));   // after the metadata size: no metadata flags
        Assert.Equal(bytes.Length, at + 4 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)) + 8);
    }

    private static int CheckQuantized(byte[] bytes, int at, ReadOnlySpan<float> w, int rows, int cols, bool perColumn)
    {
        var scales = new double[perColumn ? cols : rows];
        for (int s = 0; s < scales.Length; s++)
        {
            double largest = 0;
            for (int t = 0; t < (perColumn ? rows : cols); t++) largest = Math.Max(largest, Math.Abs(w[perColumn ? t * cols + s : s * cols + t]));
            scales[s] = largest / 127;
        }

        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                Assert.Equal((sbyte)Math.Round(w[i * cols + j] / scales[perColumn ? j : i], MidpointRounding.ToEven), (sbyte)bytes[at + i * cols + j]);
        at += rows * cols;
        for (int s = 0; s < scales.Length; s++, at += 4)
            Assert.Equal(scales[s], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(at)), 1e-7 * scales[s]);
        return at;
    }

    private static int CheckFloats(byte[] bytes, int at, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            Assert.Equal(v, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(at)));
            at += 4;
        }

        return at;
    }

    [Fact]
    public void BFloat16FilesHoldTheRoundedWeights()
    {
        // Dense [3 x 2], then a GRU (2 features, H = 2, one step): W, b; weight_ih [6 x 2] and weight_hh [6 x 2] rounded, both biases float32.
        Network net = new NetworkBuilder(3).Dense(2).Gru(2, steps: 1).Build(seed: 6);
        using Predictor predictor = net.CreatePredictor(Options(Precision.BFloat16));
        byte[] bytes = Bytes(predictor);
        int at = 20 + 16 * 2 + 12;
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at - 4)));
        var dense = (DenseLayer)net.Layers[0];
        at = CheckRounded(bytes, at, dense.Weights);
        at = CheckFloats(bytes, at, dense.Biases);
        var gru = (GruLayer)net.Layers[1];
        at = CheckRounded(bytes, at, gru.Parameters[..(gru.InputWeights.Length + gru.RecurrentWeights.Length)]);
        at = CheckFloats(bytes, at, gru.Parameters[(gru.InputWeights.Length + gru.RecurrentWeights.Length)..]);
        Assert.Equal(bytes.Length, at + 4 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)) + 8);
    }

    /// <summary>Each value's bfloat16: round to nearest even of the top 16 bits, computed here from the float's bits.</summary>
    private static int CheckRounded(byte[] bytes, int at, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            uint bits = BitConverter.SingleToUInt32Bits(v);
            Assert.Equal((ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at)));
            at += 2;
        }

        return at;
    }

    [Fact]
    public void TheFileChecksCoverTheNewSections()
    {
        byte[] bytes = Int8Bytes(Gru());
        int header = 20 + 16 * 3 + 12;
        var rng = new Random(7);
        for (int trial = 0; trial < 20; trial++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[rng.Next(header, bytes.Length)] ^= (byte)(1 << rng.Next(8));
            Assert.Contains("checksum", Error(copy));
        }

        foreach (int length in new[] { header, header + 100, bytes.Length - 9 })
            Assert.Contains("truncated", Error(bytes[..length]));

        byte[] precision = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(precision.AsSpan(header - 4), 7);
        Assert.Contains("precision code 7 is unknown", Error(Resealed(precision)));

        // Sealed with a valid checksum, values the format forbids are still refused: -128, and a zero or NaN scale.
        byte[] minimum = (byte[])bytes.Clone();
        minimum[header + 3] = 0x80;
        Assert.Contains("-128", Error(Resealed(minimum)));
        foreach (float scale in new[] { 0f, float.NaN, -1f })
        {
            byte[] badScale = (byte[])bytes.Clone();
            BinaryPrimitives.WriteSingleLittleEndian(badScale.AsSpan(header + 72 * 9 + 4 * 5), scale);   // GRU weight_ih [72 x 9], scale 5
            Assert.Contains("layer 0's int8 weights are not valid", Error(Resealed(badScale)));
        }
    }

    [Fact]
    public void AQuantizedFileIsNotANetworkAndKeepsItsPrecision()
    {
        string path = Path.Combine(_dir, "int8.fnet");
        using (Predictor predictor = Dense().CreatePredictor(Options(Precision.Int8))) predictor.Save(path);
        Assert.Contains("load it with Predictor.Load", Assert.Throws<InvalidDataException>(() => Network.Load(path)).Message);
        Assert.Contains("holds Int8 weights", Assert.Throws<ArgumentException>(() => Predictor.Load(path, Options(Precision.BFloat16))).Message);
        using Predictor unchecked_ = Predictor.Load(path, new PredictorOptions { CheckInputs = false });
        Assert.Equal(Precision.Int8, unchecked_.Options.Precision);
        Assert.False(unchecked_.Options.CheckInputs);
    }

    [Fact]
    public void FilesOfFormatVersion3StillLoad()
    {
        Network net = Dense();
        byte[] v4 = new byte[0];
        using (var stream = new MemoryStream())
        {
            ModelFile.Write(net, stream);
            v4 = stream.ToArray();
        }

        // Version 3 is version 4 without the precision field.
        int precisionAt = 20 + 16 * 2 + 8;
        byte[] v3 = [.. v4[..precisionAt], .. v4[(precisionAt + 4)..]];
        BinaryPrimitives.WriteUInt32LittleEndian(v3.AsSpan(8), 3);
        Network loaded = ModelFile.Read(new MemoryStream(Resealed(v3)));
        Assert.True(net.Parameters.SequenceEqual(loaded.Parameters));
        Assert.Equal(net.Metadata, loaded.Metadata);
    }
}

using FastNet.Inference;
using FastNet.Onnx;

namespace FastNet.Tests.Onnx;

/// <summary>Exports run in ONNX Runtime as they run in FastNet, and import back to the same network, bit for bit.</summary>
public sealed class OnnxExportTests
{
    public static TheoryData<string> Networks => ["dense activations", "dense normalized softmax", "gru last", "gru sequence", "two grus logsoftmax"];

    private static Network Make(string kind)
    {
        Network net = kind switch
        {
            "dense activations" => new NetworkBuilder(13).Dense(11, Activation.Relu).Dense(9, Activation.Sigmoid).Dense(8, Activation.Tanh)
                .Dense(7, Activation.LeakyRelu).Dense(4).Build(seed: 1),
            "dense normalized softmax" => new NetworkBuilder(6).Dense(10, Activation.Tanh).Dense(3).Build(seed: 2),
            "gru last" => new NetworkBuilder(20).Gru(7, steps: 5).Dense(3).Build(seed: 3),
            "gru sequence" => new NetworkBuilder(12).Gru(5, steps: 4, returnSequences: true).Build(seed: 4),
            "two grus logsoftmax" => new NetworkBuilder(18).Gru(6, steps: 6, returnSequences: true).Gru(4, steps: 6).Dense(5, Activation.Relu).Dense(3).Build(seed: 5),
            _ => throw new ArgumentException(kind),
        };
        // Biases are zero after Build: give them values, so a lost or misplaced bias shows.
        var rng = new Random(kind.Length);
        foreach (Layer layer in net.Layers)
        {
            Span<float> biases = layer is DenseLayer d ? d.Biases : ((GruLayer)layer).InputBiases;
            for (int i = 0; i < biases.Length; i++) biases[i] = (float)(rng.NextDouble() - 0.5);
        }

        if (kind == "dense normalized softmax")
            net.Metadata = new ModelMetadata
            {
                InputName = "measurements", OutputName = "probabilities", ClassLabels = ["a", "b", "c"], OutputTransform = OutputTransform.Softmax,
                InputNormalization = new InputNormalization([1, 2, 3, 4, 5, 6], [0.5f, 2, 4, 1, 3, 0.25f]),
            };
        if (kind == "two grus logsoftmax")
            net.Metadata = new ModelMetadata { OutputTransform = OutputTransform.LogSoftmax, InputNormalization = new InputNormalization([0.5f], [2f]) };
        return net;
    }

    private static byte[] Export(Network net)
    {
        using var stream = new MemoryStream();
        OnnxExport.Write(net, stream);
        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void OnnxRuntimeRunsTheExportAsFastNetRunsTheNetwork(string kind)
    {
        Network net = Make(kind);
        const int rows = 9;
        float[] inputs = TestData.Uniform(new Random(7), rows * net.InputSize, -2f, 3f), expected = new float[rows * net.OutputSize];
        using (Predictor predictor = net.CreatePredictor()) predictor.PredictBatch(inputs, expected);
        float[] actual = OnnxRuntimeReference.Run(Export(net), inputs, rows, net.InputSize);
        OnnxFixture.AssertClose(expected, actual, $"{kind}: ONNX Runtime vs FastNet");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void ImportOfTheExportIsTheSameNetworkBitForBit(string kind)
    {
        Network net = Make(kind);
        Network back = OnnxImport.Read(new MemoryStream(Export(net)));
        Assert.Equal(net.Layers.Select(Describe), back.Layers.Select(Describe));
        Assert.True(net.Parameters.SequenceEqual(back.Parameters), "the parameters changed on the way");
        ModelMetadata expected = net.Metadata with { InputName = net.Metadata.InputName ?? "input", OutputName = net.Metadata.OutputName ?? "output" };
        Assert.Equal(expected, back.Metadata);
    }

    private static string Describe(Layer layer) => layer switch
    {
        DenseLayer d => $"dense {d.Inputs}->{d.Outputs} {d.Activation}",
        GruLayer g => $"gru {g.Features}x{g.Steps}->{g.HiddenSize} sequences={g.ReturnSequences}",
        _ => layer.GetType().Name,
    };

    /// <summary>PyTorch's models, imported then exported by FastNet, still give PyTorch's outputs in ONNX Runtime.</summary>
    [Theory]
    [MemberData(nameof(OnnxImportTests.Fixtures), MemberType = typeof(OnnxImportTests))]
    public void PyTorchModelsSurviveImportAndExport(string name)
    {
        OnnxFixture fixture = OnnxFixture.Load(name);
        Network net = OnnxImport.Load(fixture.ModelPath);
        float[] actual = OnnxRuntimeReference.Run(Export(net), fixture.Input, fixture.Rows, net.InputSize);
        OnnxFixture.AssertClose(fixture.Output, actual, $"{name} through FastNet into ONNX Runtime");
    }

    [Fact]
    public void SaveIsAtomicAndTheExtensionSavesTheSame()
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("fastnet-onnx-");
        try
        {
            Network net = Make("gru last");
            string path = Path.Combine(dir.FullName, "model.onnx");
            net.SaveOnnx(path);
            Assert.Equal(Export(net), File.ReadAllBytes(path));
            Assert.Equal(["model.onnx"], dir.GetFiles().Select(f => f.Name));   // no temporary left
            Assert.Throws<DirectoryNotFoundException>(() => OnnxExport.Save(net, Path.Combine(dir.FullName, "missing", "model.onnx")));
            net.Metadata = new ModelMetadata { InputName = "x", OutputName = "x" };
            Assert.Contains("two different", Assert.Throws<ArgumentException>(() => OnnxExport.Save(net, path)).Message);
            Assert.Equal(Export(Make("gru last")), File.ReadAllBytes(path));   // the failed save left the file as it was
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

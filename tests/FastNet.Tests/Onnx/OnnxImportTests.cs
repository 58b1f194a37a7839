using FastNet.Inference;
using FastNet.Onnx;

namespace FastNet.Tests.Onnx;

/// <summary>PyTorch models imported from torch.onnx.export's files predict what PyTorch predicted.</summary>
public sealed class OnnxImportTests
{
    public static TheoryData<string> Fixtures => [.. OnnxFixture.All];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ImportedModelsPredictWhatPyTorchPredicted(string name)
    {
        OnnxFixture fixture = OnnxFixture.Load(name);
        using Predictor predictor = OnnxImport.LoadPredictor(fixture.ModelPath);
        int rows = fixture.Rows;
        Assert.Equal(fixture.Input.Length / rows, predictor.InputSize);
        Assert.Equal(fixture.Output.Length / rows, predictor.OutputSize);

        var batch = new float[fixture.Output.Length];
        predictor.PredictBatch(fixture.Input, batch);
        OnnxFixture.AssertClose(fixture.Output, batch, $"{name}, PredictBatch");

        var one = new float[predictor.OutputSize];
        for (int r = 0; r < rows; r++)
        {
            predictor.Predict(fixture.Input.AsSpan(r * predictor.InputSize, predictor.InputSize), one);
            OnnxFixture.AssertClose(fixture.Output.AsSpan(r * one.Length, one.Length), one, $"{name}, Predict of row {r}");
        }
    }

    /// <summary>An imported model (with a normalization and an output transform) predicts with 0 B per call after the thread's first.</summary>
    [Theory]
    [InlineData("t1")]
    [InlineData("normalized_input")]
    [InlineData("mlp_activations")]
    [InlineData("gru_last")]
    public void ImportedPredictorsAllocateNothingPerCall(string name)
    {
        OnnxFixture fixture = OnnxFixture.Load(name);
        using Predictor predictor = OnnxImport.LoadPredictor(fixture.ModelPath);
        float[] x = fixture.Input[..predictor.InputSize], y = new float[predictor.OutputSize];
        predictor.Predict(x, y);
        Assert.Equal(0, TestData.AllocatedBytes(() =>
        {
            for (int i = 0; i < 100; i++) predictor.Predict(x, y);
        }));
    }

    [Fact]
    public void ImportedLayersAreWhatTheGraphSays()
    {
        Network mlp = OnnxImport.Load(Path.Combine(OnnxFixture.Folder, "mlp_activations.onnx"));
        Assert.Equal(20, mlp.InputSize);
        Assert.Equal(
            [(16, Activation.Relu), (12, Activation.Sigmoid), (10, Activation.Tanh), (9, Activation.LeakyRelu), (5, Activation.None)],
            mlp.Layers.Cast<DenseLayer>().Select(l => (l.Outputs, l.Activation)));
        Assert.Equal(OutputTransform.Softmax, mlp.Metadata.OutputTransform);
        Assert.Equal(("input", "output"), (mlp.Metadata.InputName, mlp.Metadata.OutputName));
        Assert.True(mlp.Layers[2] is DenseLayer { } noBias && noBias.Biases.ToArray().All(b => b == 0));   // Linear(bias=False)

        Network normalized = OnnxImport.Load(Path.Combine(OnnxFixture.Folder, "normalized_input.onnx"));
        Assert.Equal([5.8f, 3.0f, 3.7f, 1.2f], normalized.Metadata.InputNormalization!.Mean);
        Assert.Equal([0.8f, 0.4f, 1.7f, 0.75f], normalized.Metadata.InputNormalization.Scale);

        Network twoLayers = OnnxImport.Load(Path.Combine(OnnxFixture.Folder, "gru_two_layers_flat_input.onnx"));
        Assert.Equal([(6, 9, 7, true), (9, 9, 7, false)], twoLayers.Layers.Take(2).Cast<GruLayer>().Select(g => (g.Features, g.HiddenSize, g.Steps, g.ReturnSequences)));
        Network sequence = OnnxImport.Load(Path.Combine(OnnxFixture.Folder, "gru_sequence.onnx"));
        Assert.True(((GruLayer)sequence.Layers[0]).ReturnSequences);
        Assert.Equal(OutputTransform.LogSoftmax, OnnxImport.Load(Path.Combine(OnnxFixture.Folder, "matmul_add_logsoftmax.onnx")).Metadata.OutputTransform);
    }
}

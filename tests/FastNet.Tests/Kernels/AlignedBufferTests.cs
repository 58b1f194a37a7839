using FastNet.Kernels;
using FastNet.Training;

namespace FastNet.Tests.Kernels;

public class AlignedBufferTests
{
    private static unsafe long LineOffset(ReadOnlySpan<float> span)
    {
        fixed (float* p = span) return (long)p % 64;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(100_000)]   // large-object size
    public void StartsOnACacheLineZeroedAndStaysThereThroughCompactingCollections(int length)
    {
        var buffers = new AlignedBuffer[20];
        for (int i = 0; i < buffers.Length; i++)
        {
            _ = new byte[i * 24 + 8];   // shift the allocation point between buffers
            buffers[i] = new AlignedBuffer(length);
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        foreach (AlignedBuffer b in buffers)
        {
            Assert.Equal(length, b.Length);
            Assert.Equal(length, b.Span.Length);
            Assert.Equal(0, LineOffset(b.Span));
            Assert.All(b.Span.ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void EmptyAndInvalidLengths()
    {
        Assert.True(new AlignedBuffer(0).Span.IsEmpty);
        Assert.True(default(AlignedBuffer).Span.IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer((long)Array.MaxLength));
    }

    /// <summary>What the alignment is for: the buffers GEMMs split over threads write.</summary>
    [Fact]
    public void NetworkParametersTrainerGradientsAndLayerOutputsAreAligned()
    {
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Gru(16, steps: 8).Dense(10).Build(1);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(1e-3f), 33);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.Equal(0, LineOffset(net.Parameters));
        Assert.Equal(0, LineOffset(net.Layers[0].Parameters));   // the first layer starts the vector
        var inputs = new float[33 * 784];
        trainer.Step(inputs, new int[33]);
        Assert.Equal(0, LineOffset(trainer.Gradients));

        var workspace = new Workspace(net, 5, forTraining: true);
        for (int l = 0; l < net.Layers.Count; l++)
        {
            Assert.Equal(0, LineOffset(workspace.Output(l, 5)));
            Assert.Equal(0, LineOffset(workspace.OutputGradient(l, 5)));
        }

        GruWorkspace gru = ((GruLayer)net.Layers[1]).CreateWorkspace(5, forTraining: true);
        Assert.Equal(0, LineOffset(gru.ProjectionsAndDeltas));
        Assert.Equal(0, LineOffset(gru.Recurrent));
        Assert.Equal(0, LineOffset(gru.RecurrentDeltas));
        Assert.Equal(0, LineOffset(gru.GradientTransposed));
    }
}

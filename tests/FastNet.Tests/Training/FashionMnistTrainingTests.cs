using System.Numerics.Tensors;
using FastNet.Data;
using FastNet.Inference;
using FastNet.Tests.Data;
using FastNet.Training;

namespace FastNet.Tests.Training;

public class FashionMnistTrainingTests
{
    /// <summary>Workload T1 (784-128-10, ReLU, softmax cross-entropy, SGD lr 0.1, batch 64) for 10 epochs.</summary>
    [SkippableFact]
    public void T1ReachesAtLeast87PercentTestAccuracyIn10Epochs()
    {
        var (train, test) = FashionMnist.LoadOrSkip();
        Assert.Equal((60000, 784), (train.Count, train.FeatureCount));
        Assert.Equal(10000, test.Count);
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        // As WORKLOADS defines T1: a fresh permutation each epoch, the last partial batch dropped.
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 64, seed: 1) { DropLastPartialBatch = true };
        TrainingHistory history = trainer.Fit(train, epochs: 10, validation: test);
        double accuracy = history.Epochs[^1].ValidationAccuracy;
        Assert.True(accuracy >= 0.87, $"test accuracy {accuracy:P2} after 10 epochs");
    }
}

public class FashionMnistSequenceTests
{
    /// <summary>
    /// The GRU workload: each image read as 28 steps of 28 pixels, GRU(28 -> 128), last state, Dense(10), Adam
    /// (lr 0.001), batch 64, 3 epochs: at least 85% test accuracy (PyTorch reaches 86.4% with this setup).
    /// </summary>
    [SkippableFact]
    public void GruOverImageRowsReachesAtLeast85PercentIn3Epochs()
    {
        var (train, test) = FashionMnist.LoadOrSkip();
        Network net = new NetworkBuilder(784).Gru(128, steps: 28).Dense(10).Build(seed: 1);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Adam(1e-3f), batchSize: 64, seed: 1) { DropLastPartialBatch = true };
        TrainingHistory history = trainer.Fit(train, epochs: 3, validation: test);
        double accuracy = history.Epochs[^1].ValidationAccuracy;
        Assert.True(accuracy >= 0.85, $"test accuracy {accuracy:P2} after 3 epochs");

        // The same model through a predictor in each precision (Int8 and BF16 round the GRU's input projection, not its
        // recurrence): Int8 within 0.3 points of float32 and BF16 within 0.05, the bars of the dense models.
        double fp32 = PredictorAccuracy(net, Precision.Float32, test), bf16 = PredictorAccuracy(net, Precision.BFloat16, test), int8 = PredictorAccuracy(net, Precision.Int8, test);
        Console.WriteLine($"Fashion-MNIST GRU: FP32 {fp32:P2}, BF16 {bf16:P2}, Int8 {int8:P2}");
        Assert.True(Math.Abs(bf16 - fp32) <= 0.0005, $"BF16 {bf16:P2} against FP32 {fp32:P2}");
        Assert.True(Math.Abs(int8 - fp32) <= 0.003, $"Int8 {int8:P2} against FP32 {fp32:P2}");
    }

    private static double PredictorAccuracy(Network net, Precision precision, Dataset test)
    {
        using Predictor predictor = net.CreatePredictor(new PredictorOptions { Precision = precision });
        float[] outputs = new float[test.Count * 10];
        predictor.PredictBatch(test.Features, outputs);
        int right = 0;
        for (int i = 0; i < test.Count; i++) right += TensorPrimitives.IndexOfMax(outputs.AsSpan(i * 10, 10)) == test.Labels[i] ? 1 : 0;
        return (double)right / test.Count;
    }
}

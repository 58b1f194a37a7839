using FastNet.Inference;
using FastNet.Kernels;
using FastNet.Tests.Data;
using FastNet.Tests.Training;
using FastNet.Training;

namespace FastNet.Tests.Inference;

/// <summary>Precision.BFloat16: the rounded weights, computed in float32, checked against double references and FP32 on real data.</summary>
public sealed class PredictorPrecisionTests
{
    private static readonly PredictorOptions Bf16 = new() { Precision = Precision.BFloat16 };

    private static Network Net() => new NetworkBuilder(37).Dense(70, Activation.Relu).Dense(33, Activation.Tanh).Dense(129, Activation.LeakyRelu).Dense(10).Build(seed: 3);

    private static Network GruNet() => new NetworkBuilder(5 * 9).Gru(24, steps: 5).Dense(17, Activation.Relu).Dense(4).Build(seed: 11);

    /// <summary>
    /// The network's parameters with every dense weight and both GRU weight matrices (weight_ih and weight_hh, the first
    /// 3H x (F + H) of the layer's parameters) rounded to bfloat16, in double; biases as they are.
    /// </summary>
    private static double[] RoundedParameters(Network net)
    {
        double[] parameters = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        foreach (Layer layer in net.Layers)
        {
            int count = layer is GruLayer gru ? gru.InputWeights.Length + gru.RecurrentWeights.Length : ((DenseLayer)layer).Weights.Length;
            ReadOnlySpan<float> weights = layer.Parameters[..count];
            for (int i = 0; i < weights.Length; i++)
                parameters[layer.ParameterOffset + i] = BFloat16.ToSingle(BFloat16.FromSingle(weights[i]));
        }

        return parameters;
    }

    [Fact]
    public void BatchOneMatchesADoubleForwardPassOverTheRoundedWeights()
    {
        Network net = Net();
        double[] rounded = RoundedParameters(net);
        using Predictor predictor = net.CreatePredictor(Bf16);
        var rng = new Random(4);
        var y = new float[10];
        for (int trial = 0; trial < 50; trial++)
        {
            float[] x = TestData.Uniform(rng, 37, -2f, 2f);
            double[] expected = ReferenceNetwork.Forward(net, rounded, x, 1);
            predictor.Predict(x, y);
            for (int j = 0; j < 10; j++) Assert.Equal(expected[j], y[j], 2e-5 + 2e-5 * Math.Abs(expected[j]));
        }
    }

    /// <summary>Both GRU weight matrices are rounded, the biases not: batch 1 against the double reference GRU over exactly those.</summary>
    [Fact]
    public void GruBatchOneRoundsBothWeightMatrices()
    {
        Network net = GruNet();
        double[] rounded = RoundedParameters(net);
        using Predictor predictor = net.CreatePredictor(Bf16);
        var rng = new Random(14);
        var y = new float[4];
        for (int trial = 0; trial < 30; trial++)
        {
            float[] x = TestData.Uniform(rng, net.InputSize, -2f, 2f);
            double[] expected = ReferenceNetwork.Forward(net, rounded, x, 1);
            predictor.Predict(x, y);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], y[j], 2e-5 + 2e-5 * Math.Abs(expected[j]));
        }
    }

    [Fact]
    public void BatchesUseTheSameRoundedWeightsInTheFloat32Gemm()
    {
        foreach (Network net in new[] { Net(), GruNet() })
        {
            Network rounded = net.Clone();
            double[] values = RoundedParameters(net);
            Span<float> parameters = rounded.Parameters;
            for (int i = 0; i < parameters.Length; i++) parameters[i] = (float)values[i];

            int d = net.InputSize, o = net.OutputSize;
            float[] x = TestData.Uniform(new Random(5), 300 * d, -2f, 2f), expected = new float[300 * o], actual = new float[300 * o];
            using (Predictor fp32 = rounded.CreatePredictor()) fp32.PredictBatch(x, expected, maxThreads: 1);
            using (Predictor bf16 = net.CreatePredictor(Bf16)) bf16.PredictBatch(x, actual, maxThreads: 1);
            Assert.Equal(expected, actual);
            Assert.NotEqual(net.Parameters.ToArray(), rounded.Parameters.ToArray());   // the source network keeps its float32 weights
        }
    }

    [Fact]
    public void BatchOneAllocatesNothing()
    {
        foreach (Network net in new[] { Net(), GruNet() })
        {
            using Predictor predictor = net.CreatePredictor(Bf16);
            float[] x = new float[net.InputSize], y = new float[net.OutputSize];
            predictor.Predict(x, y);
            Assert.Equal(0, TestData.AllocatedBytes(() =>
            {
                for (int i = 0; i < 100; i++) predictor.Predict(x, y);
            }));
        }
    }

    /// <summary>
    /// T1 trained on Fashion-MNIST as the t1-fashion workload does: bfloat16 weights change the test accuracy by at most
    /// 0.05 points (the bar), and few predictions at all.
    /// </summary>
    [SkippableFact]
    public void OnFashionMnistBFloat16KeepsTheAccuracyOfFloat32()
    {
        var (train, test) = FashionMnist.LoadOrSkip();
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 64, seed: 1) { DropLastPartialBatch = true }.Fit(train, epochs: 10);
        using Predictor fp32 = net.CreatePredictor(), bf16 = net.CreatePredictor(Bf16);
        int right32 = 0, right16 = 0, changed = 0;
        double largest = 0;
        float[] a = new float[10], b = new float[10];
        for (int i = 0; i < test.Count; i++)
        {
            ReadOnlySpan<float> x = test.Sample(i);
            fp32.Predict(x, a);
            bf16.Predict(x, b);
            int c32 = Array.IndexOf(a, a.Max()), c16 = Array.IndexOf(b, b.Max());
            right32 += c32 == test.Labels[i] ? 1 : 0;
            right16 += c16 == test.Labels[i] ? 1 : 0;
            changed += c32 != c16 ? 1 : 0;
            for (int j = 0; j < 10; j++) largest = Math.Max(largest, Math.Abs(a[j] - b[j]));
        }

        double points = 100.0 * Math.Abs(right32 - right16) / test.Count;
        Console.WriteLine($"Fashion-MNIST T1: FP32 {100.0 * right32 / test.Count:F2}%, BF16 {100.0 * right16 / test.Count:F2}%, " +
            $"{changed} of {test.Count} predictions changed, largest logit difference {largest:G3}");
        Assert.True(points <= 0.05, $"BF16 accuracy differs from FP32 by {points:F2} points");
    }
}

using FastNet.Inference;
using FastNet.Tests.Data;
using FastNet.Tests.Training;
using FastNet.Threading;
using FastNet.Training;

namespace FastNet.Tests.Inference;

/// <summary>Precision.Int8: the predictor against a double-precision model of the quantization, against FP32, and on real data.</summary>
public sealed class PredictorInt8Tests
{
    private static readonly PredictorOptions Int8 = new() { Precision = Precision.Int8 };

    private static Network Net() => new NetworkBuilder(37).Dense(70, Activation.Relu).Dense(33, Activation.Tanh).Dense(129, Activation.LeakyRelu).Dense(10).Build(seed: 3);

    private static Network GruNet() => new NetworkBuilder(5 * 9).Gru(24, steps: 5).Dense(17, Activation.Relu).Dense(4).Build(seed: 11);

    /// <summary>
    /// The documented quantization in double, from the definitions: per output column scale_j = max |w| / 127 and
    /// q_w = round(w / scale_j); per input row [lo, hi] = [min(0, min x), max(0, max x)], s = (hi - lo) / 127,
    /// z = round(-lo / s), q_x = clamp(round(x / s) + z, 0, 127); y = s scale_j sum (q_x - z) q_w + b, then the activation.
    /// A GRU's input projection and recurrent product are quantized the same way, each step of F features one row and
    /// each state h one row, W_ih and W_hh per gate row; the double reference GRU runs over those dequantized values (its
    /// blend z * h with the state itself).
    /// </summary>
    private static double[] Reference(Network net, float[] input)
    {
        double[] x = Array.ConvertAll(input, v => (double)v);
        foreach (Layer any in net.Layers)
        {
            if (any is GruLayer gru)
            {
                int f = gru.Features, h = gru.HiddenSize;
                double[] parameters = Array.ConvertAll(gru.Parameters.ToArray(), v => (double)v);
                // weight_ih [3H x F] then weight_hh [3H x H]: each row quantized over its own largest |w|.
                foreach ((int start, int width) in new[] { (0, f), (3 * h * f, h) })
                {
                    for (int g = 0; g < 3 * h; g++)
                    {
                        int row = start + g * width;
                        double largest = Enumerable.Range(0, width).Max(i => Math.Abs(parameters[row + i]));
                        double scale = largest > 0 ? largest / 127 : 1;
                        for (int i = 0; i < width; i++) parameters[row + i] = scale * Math.Round(parameters[row + i] / scale, MidpointRounding.ToEven);
                    }
                }

                double[] steps = Enumerable.Range(0, gru.Steps).SelectMany(t => Dequantized(x.AsSpan(t * f, f).ToArray())).ToArray();
                x = ReferenceGru.Forward(gru, parameters, 0, steps, 1, initialState: null, recurrentInput: Dequantized);
                continue;
            }

            var layer = (DenseLayer)any;
            int k = layer.Inputs, n = layer.Outputs;
            double lo = Math.Min(0, x.Min()), hi = Math.Max(0, x.Max());
            double s = hi > lo ? (hi - lo) / 127 : 1;
            double z = Math.Round(-lo / s, MidpointRounding.ToEven);
            double[] qx = x.Select(v => Math.Clamp(Math.Round(v / s, MidpointRounding.ToEven) + z, 0, 127)).ToArray();
            var y = new double[n];
            for (int j = 0; j < n; j++)
            {
                double largest = Enumerable.Range(0, k).Max(i => Math.Abs((double)layer.Weights[i * n + j]));
                double scale = largest > 0 ? largest / 127 : 1;
                double sum = 0;
                for (int i = 0; i < k; i++) sum += (qx[i] - z) * Math.Round(layer.Weights[i * n + j] / scale, MidpointRounding.ToEven);
                y[j] = ReferenceNetwork.Activate(layer.Activation, s * scale * sum + layer.Biases[j]);
            }

            x = y;
        }

        return x;
    }

    /// <summary>An input row as its 7-bit quantization represents it: s (q_x - z), with s, z and q_x as in <see cref="Reference"/>.</summary>
    private static double[] Dequantized(double[] x)
    {
        double lo = Math.Min(0, x.Min()), hi = Math.Max(0, x.Max());
        double s = hi > lo ? (hi - lo) / 127 : 1;
        double z = Math.Round(-lo / s, MidpointRounding.ToEven);
        return x.Select(v => s * (Math.Clamp(Math.Round(v / s, MidpointRounding.ToEven) + z, 0, 127) - z)).ToArray();
    }

    [Fact]
    public void BatchOneFollowsTheDocumentedQuantizationAndStaysNearFloat32()
    {
        Network net = Net();
        using Predictor int8 = net.CreatePredictor(Int8), fp32 = net.CreatePredictor();
        var rng = new Random(4);
        float[] y = new float[10], exact = new float[10];
        double worst = 0;
        for (int trial = 0; trial < 50; trial++)
        {
            float[] x = TestData.Uniform(rng, 37, -2f, 2f);
            double[] expected = Reference(net, x);
            int8.Predict(x, y);
            fp32.Predict(x, exact);
            // float32 scaling against double can move a value across a rounding boundary of the next layer's levels
            // now and then: one level of one input, a small fraction of the output's scale.
            for (int j = 0; j < 10; j++) Assert.Equal(expected[j], y[j], 1e-3 + 1e-3 * Math.Abs(expected[j]));
            for (int j = 0; j < 10; j++) worst = Math.Max(worst, Math.Abs(y[j] - exact[j]) / (1 + Math.Abs(exact[j])));
        }

        // Four layers of 7-bit inputs and int8 weights: a few percent of quantization error, where a wrong result is far off.
        Assert.True(worst < 0.15, $"Int8 is {worst:G3} (relative) from float32");
        Assert.True(worst > 0, "Int8 gave exactly the float32 outputs: nothing was quantized");
    }

    [Fact]
    public void BatchesGiveEveryRowTheBitsOfItsBatchOneCallAtAnyThreadCount()
    {
        Network net = Net();
        using Predictor predictor = net.CreatePredictor(Int8);
        const int count = 600;   // more than one block of 256
        float[] x = TestData.Uniform(new Random(5), count * 37, -2f, 2f);
        float[] one = new float[count * 10], serial = new float[count * 10], parallel = new float[count * 10];
        for (int r = 0; r < count; r++) predictor.Predict(x.AsSpan(r * 37, 37), one.AsSpan(r * 10, 10));
        predictor.PredictBatch(x, serial, maxThreads: 1);
        predictor.PredictBatch(x, parallel, maxThreads: -1);
        Assert.Equal(one, serial);
        Assert.Equal(one, parallel);
    }

    [Fact]
    public void CallsAllocateNothing()
    {
        foreach (Network net in new[] { Net(), GruNet() })
        {
            using Predictor predictor = net.CreatePredictor(Int8);
            int d = net.InputSize, o = net.OutputSize;
            float[] x = TestData.Uniform(new Random(6), 64 * d), y = new float[64 * o];
            predictor.Predict(x.AsSpan(0, d), y.AsSpan(0, o));
            predictor.PredictBatch(x, y);
            Assert.Equal(0, TestData.AllocatedBytes(() =>
            {
                for (int i = 0; i < 100; i++) predictor.Predict(x.AsSpan(0, d), y.AsSpan(0, o));
                predictor.PredictBatch(x, y);
            }, WorkerPool.Shared.WorkerAllocatedBytes));
        }
    }

    [Fact]
    public void GruProjectionsAndRecurrenceFollowTheDocumentedQuantization()
    {
        Network net = GruNet();
        using Predictor int8 = net.CreatePredictor(Int8), fp32 = net.CreatePredictor();
        var rng = new Random(12);
        float[] y = new float[4], exact = new float[4];
        double worst = 0;
        for (int trial = 0; trial < 30; trial++)
        {
            float[] x = TestData.Uniform(rng, net.InputSize, -2f, 2f);
            double[] expected = Reference(net, x);
            int8.Predict(x, y);
            fp32.Predict(x, exact);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], y[j], 1e-3 + 1e-3 * Math.Abs(expected[j]));
            for (int j = 0; j < 4; j++) worst = Math.Max(worst, Math.Abs(y[j] - exact[j]) / (1 + Math.Abs(exact[j])));
        }

        Assert.True(worst < 0.1, $"Int8 is {worst:G3} (relative) from float32");
        Assert.True(worst > 0, "Int8 gave exactly the float32 outputs: nothing was quantized");
    }

    /// <summary>
    /// With a GRU too every product is the per-row integer arithmetic, and the gates work row by row: a batch row gets the
    /// bits of its batch-1 call at any thread count. A NaN in one step is named.
    /// </summary>
    [Fact]
    public void GruBatchesGiveEveryRowTheBitsOfItsBatchOneCall()
    {
        Network net = GruNet();
        using Predictor predictor = net.CreatePredictor(Int8);
        const int count = 300;
        int d = net.InputSize;
        float[] x = TestData.Uniform(new Random(13), count * d, -2f, 2f);
        float[] one = new float[count * 4], serial = new float[count * 4], parallel = new float[count * 4];
        for (int r = 0; r < count; r++) predictor.Predict(x.AsSpan(r * d, d), one.AsSpan(r * 4, 4));
        predictor.PredictBatch(x, serial, maxThreads: 1);
        predictor.PredictBatch(x, parallel, maxThreads: -1);
        Assert.Equal(one, serial);
        Assert.Equal(one, parallel);

        x[270 * d + 3 * 9 + 2] = float.NaN;   // sample 270, step 3, feature 2
        string message = Assert.Throws<ArgumentException>(() => predictor.PredictBatch(x, serial)).Message;
        Assert.Contains("sample 270", message);
        Assert.Contains($"feature {3 * 9 + 2}", message);
    }

    [Fact]
    public void NonFiniteResultsAreReportedNotHidden()
    {
        Network net = new NetworkBuilder(4).Dense(3).Build(seed: 1);
        net.Layers[0].Parameters[0] = 3e38f;
        net.Layers[0].Parameters[3] = 3e38f;   // weights (0, 0) and (1, 0): their sum overflows float32
        using Predictor predictor = net.CreatePredictor(Int8);
        Assert.Throws<ArithmeticException>(() => predictor.Predict([1f, 1f, 0f, 0f], new float[3]));
        using Predictor unchecked_ = net.CreatePredictor(Int8 with { CheckInputs = false });
        Assert.Throws<ArithmeticException>(() => unchecked_.Predict([float.NaN, 1f, 0f, 0f], new float[3]));
    }

    /// <summary>Int8 scans the inputs only when an output is not finite: a bad input must still be named, through every layer and activation.</summary>
    [Fact]
    public void BadInputsAreNamedThoughTheScanRunsOnlyOnNonFiniteOutputs()
    {
        using Predictor predictor = Net().CreatePredictor(Int8);
        float[] x = TestData.Uniform(new Random(7), 37);
        x[20] = float.NaN;
        Assert.Contains("feature 20", Assert.Throws<ArgumentException>(() => predictor.Predict(x, new float[10])).Message);
        x[20] = float.NegativeInfinity;
        Assert.Contains("feature 20", Assert.Throws<ArgumentException>(() => predictor.Predict(x, new float[10])).Message);

        float[] batch = TestData.Uniform(new Random(8), 400 * 37), outputs = new float[400 * 10];
        batch[300 * 37 + 5] = float.PositiveInfinity;
        string message = Assert.Throws<ArgumentException>(() => predictor.PredictBatch(batch, outputs)).Message;
        Assert.Contains("sample 300", message);
        Assert.Contains("feature 5", message);
    }

    /// <summary>T1 trained on Fashion-MNIST as the t1-fashion workload does: Int8 within 0.3 points of float32 (the bar).</summary>
    [SkippableFact]
    public void OnFashionMnistInt8KeepsTheAccuracyOfFloat32()
    {
        var (train, test) = FashionMnist.LoadOrSkip();
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 64, seed: 1) { DropLastPartialBatch = true }.Fit(train, epochs: 10);
        using Predictor fp32 = net.CreatePredictor(), int8 = net.CreatePredictor(Int8);
        float[] a = new float[test.Count * 10], b = new float[test.Count * 10];
        fp32.PredictBatch(test.Features, a);
        int8.PredictBatch(test.Features, b);
        int right32 = 0, right8 = 0, changed = 0;
        for (int i = 0; i < test.Count; i++)
        {
            int c32 = TensorIndexOfMax(a.AsSpan(i * 10, 10)), c8 = TensorIndexOfMax(b.AsSpan(i * 10, 10));
            right32 += c32 == test.Labels[i] ? 1 : 0;
            right8 += c8 == test.Labels[i] ? 1 : 0;
            changed += c32 != c8 ? 1 : 0;
        }

        double points = 100.0 * Math.Abs(right32 - right8) / test.Count;
        Console.WriteLine($"Fashion-MNIST T1: FP32 {100.0 * right32 / test.Count:F2}%, Int8 {100.0 * right8 / test.Count:F2}%, {changed} of {test.Count} predictions changed");
        Assert.True(points <= 0.3, $"Int8 accuracy differs from FP32 by {points:F2} points");
        Assert.True(changed > 0, "no prediction changed: the Int8 predictor did not quantize");
    }

    private static int TensorIndexOfMax(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
}

using FastNet.Training;

namespace FastNet.Tests.Training;

/// <summary>Optimizers against their update rules written out in double, step by step (PyTorch's semantics).</summary>
public class OptimizerTests
{
    private static readonly float[][] GradientSequence =
    [
        [0.5f, -1f, 2f, 0f],
        [0.25f, -0.5f, -1f, 3f],
        [-0.75f, 1.5f, 0.5f, -2f],
    ];

    [Theory]
    [InlineData(0f, false, 0f)]
    [InlineData(0.9f, false, 0f)]
    [InlineData(0.9f, true, 0f)]
    [InlineData(0.5f, false, 0.01f)]
    [InlineData(0.8f, true, 0.1f)]
    public void SgdMatchesItsDefinition(float momentum, bool nesterov, float weightDecay)
    {
        const double lr = 0.1;
        float[] p = [1f, -2f, 0.5f, 3f];
        double[] expected = Array.ConvertAll(p, v => (double)v), velocity = new double[4];
        var sgd = new Sgd((float)lr, momentum, nesterov, weightDecay);
        for (int t = 0; t < GradientSequence.Length; t++)
        {
            for (int i = 0; i < 4; i++)
            {
                double g = GradientSequence[t][i] + weightDecay * expected[i];
                if (momentum != 0)
                {
                    velocity[i] = t == 0 ? g : momentum * velocity[i] + g;   // torch: buf = g on the first step
                    g = nesterov ? g + momentum * velocity[i] : velocity[i];
                }

                expected[i] -= lr * g;
            }

            sgd.Update(p, GradientSequence[t]);
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p[i], 1e-5);
        }
    }

    /// <summary>
    /// torch.optim.Adam adds the weight decay to the gradient (g = grad + wd p); torch.optim.AdamW instead shrinks the
    /// parameters first (p *= 1 - lr wd) and steps on the raw gradient, so the decay never enters m or v.
    /// </summary>
    [Theory]
    [InlineData(false, 0f)]
    [InlineData(false, 0.05f)]
    [InlineData(true, 0f)]
    [InlineData(true, 0.01f)]
    [InlineData(true, 0.5f)]
    public void AdamAndAdamWMatchTheirDefinitions(bool decoupled, float weightDecay)
    {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        float[] p = [1f, -2f, 0.5f, 3f];
        double[] expected = Array.ConvertAll(p, v => (double)v), m = new double[4], v = new double[4];
        Optimizer optimizer = decoupled ? new AdamW((float)lr, weightDecay: weightDecay) : new Adam((float)lr, weightDecay: weightDecay);
        for (int t = 1; t <= GradientSequence.Length; t++)
        {
            for (int i = 0; i < 4; i++)
            {
                double g = GradientSequence[t - 1][i];
                if (decoupled) expected[i] *= 1 - lr * weightDecay;
                else g += weightDecay * expected[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t)), vHat = v[i] / (1 - Math.Pow(b2, t));
                expected[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }

            optimizer.Update(p, GradientSequence[t - 1]);
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], p[i], 1e-5);
        }
    }

    [Fact]
    public void AdamsFirstStepMovesEachParameterByTheLearningRate()
    {
        // With bias correction, step 1 is lr * g / (|g| + eps): a move of lr against the gradient's sign.
        float[] p = [0f, 0f, 0f];
        new Adam(0.01f).Update(p, [3f, -0.001f, 100f]);
        Assert.Equal([-0.01f, 0.01f, -0.01f], p.Select(x => MathF.Round(x, 6)).ToArray());
    }

    [Fact]
    public void AdamWsFirstStepShrinksThenMovesByTheLearningRate()
    {
        // Step 1: p (1 - lr wd) - lr g / (|g| + eps). Adam's L2 form would instead add wd p to g, which for p = 10,
        // g = 0.5 flips nothing but, for g = -0.5, turns the move around (g + wd p = +0.5 > 0).
        float[] w = [10f, 10f], l2 = [10f, 10f];
        new AdamW(0.1f, weightDecay: 0.1f).Update(w, [0.5f, -0.5f]);
        new Adam(0.1f, weightDecay: 0.1f).Update(l2, [0.5f, -0.5f]);
        Assert.Equal(10 * (1 - 0.01) - 0.1, w[0], 1e-5);
        Assert.Equal(10 * (1 - 0.01) + 0.1, w[1], 1e-5);
        Assert.Equal(10 - 0.1, l2[1], 1e-5);   // Adam: g = -0.5 + 1 = 0.5 > 0, a step down
    }

    [Fact]
    public void AdamWWithoutDecayIsAdamBitForBit()
    {
        var rng = new Random(5);
        float[] a = TestData.Uniform(rng, 37), b = (float[])a.Clone();   // 37: vector blocks and a scalar tail
        var adam = new Adam(0.003f);
        var adamW = new AdamW(0.003f, weightDecay: 0f);
        for (int t = 0; t < 4; t++)
        {
            float[] g = TestData.Uniform(rng, 37);
            adam.Update(a, g);
            adamW.Update(b, g);
        }

        Assert.Equal(a, b);
    }

    [Fact]
    public void AdamWTrainsANetworkWithTheTrainer()
    {
        // Same XOR-like data and seed as the other optimizers' trainer tests: the loss falls.
        var rng = new Random(2);
        float[] x = TestData.Uniform(rng, 64 * 3);
        int[] y = new int[64];
        for (int i = 0; i < 64; i++) y[i] = x[3 * i] * x[3 * i + 1] > 0 ? 1 : 0;
        Network net = new NetworkBuilder(3).Dense(16, Activation.Tanh).Dense(2).Build(seed: 4);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new AdamW(0.02f), batchSize: 64, maxThreads: 1);
        float first = trainer.Step(x, y), last = first;
        for (int s = 0; s < 300; s++) last = trainer.Step(x, y);
        Assert.True(last < 0.3f * first, $"loss {first} -> {last}");
    }

    [Fact]
    public void OptimizerRejectsADifferentParameterCount()
    {
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        sgd.Update(new float[4], new float[4]);
        Assert.Throws<InvalidOperationException>(() => sgd.Update(new float[5], new float[5]));
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => sgd.Update(new float[4], new float[3])).ParamName);
    }
}

public class LearningRateScheduleTests
{
    [Fact]
    public void StepDecayMultipliesEveryStepEpochs()
    {
        var s = new StepDecay(stepEpochs: 3, factor: 0.5f);
        Assert.Equal([0.4f, 0.4f, 0.4f, 0.2f, 0.2f, 0.2f, 0.1f], Enumerable.Range(1, 7).Select(e => s.RateAt(e, 0.4f)));
    }

    [Fact]
    public void CosineDecayFollowsTheHalfCosine()
    {
        var s = new CosineDecay(totalEpochs: 4, minimumRate: 0.01f);
        double[] expected = Enumerable.Range(0, 4).Select(e => 0.01 + (0.1 - 0.01) * (1 + Math.Cos(Math.PI * e / 4)) / 2).ToArray();
        for (int e = 1; e <= 4; e++) Assert.Equal(expected[e - 1], s.RateAt(e, 0.1f), 1e-6);
        Assert.Equal(s.RateAt(4, 0.1f), s.RateAt(9, 0.1f));   // held after the last epoch
        Assert.True(new CosineDecay(3).RateAt(3, 0.1f) > 0f);
    }

    [Fact]
    public void FitAppliesTheScheduleEachEpoch()
    {
        Network net = new NetworkBuilder(4).Dense(3).Build();
        var data = FastNet.Data.Dataset.WithLabels(new float[8 * 4], 4, new int[8], 3);
        var sgd = new Sgd(0.8f);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, sgd, batchSize: 4, maxThreads: 1) { Schedule = new StepDecay(1, 0.5f) };
        trainer.Fit(data, epochs: 3);
        Assert.Equal(0.2f, sgd.LearningRate);   // epochs ran at 0.8, 0.4, 0.2
    }
}

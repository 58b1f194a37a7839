using FastNet.Data;
using FastNet.Training;

namespace FastNet.Tests.Training;

/// <summary>
/// The textbook exercises of ../shared/seeds as tests: their networks, numbers and one-step updates. Where a
/// seed's hand derivation is wrong, the mathematically correct value (confirmed by finite differences) is
/// asserted and the comment says what the seed got wrong.
/// </summary>
public class SeedExerciseTests
{
    /// <summary>
    /// Seed 000: 3-3-2, ReLU on both layers, half squared error, lr 0.01, x = [0.9, 0.1, -1], y = [0, 1].
    /// The seed stores each layer as [outputs x (1 + inputs)] with the bias in column 0; FastNet's weights are
    /// [inputs x outputs] with separate biases, so W[i, j] = seed[j, i + 1] and b[j] = seed[j, 0].
    /// </summary>
    [Fact]
    public void Seed000ForwardPassCostAndOneSgdStep()
    {
        double[,] w1 = { { 0.3, 0.9, 1, 0.4 }, { 0.6, 0.8, -0.3, -0.6 }, { -1.0, 0.1, -0.4, -0.2 } };
        double[,] w2 = { { 0.3, 0.8, 0.2, 0 }, { -0.1, 0.0, -0.6, 0.1 } };
        Network net = new NetworkBuilder(3).Dense(3, Activation.Relu).Dense(2, Activation.Relu).Build();
        SetFromSeedLayout(net.Dense(0), w1);
        SetFromSeedLayout(net.Dense(1), w2);
        float[] x = [0.9f, 0.1f, -1f], y = [0f, 1f];

        var trainer = new Trainer(net, Loss.HalfSquaredError, new Sgd(0.01f), batchSize: 1, maxThreads: 1);
        float cost = trainer.ComputeGradients(x, y);
        Assert.Equal(1.379138, cost, 1e-6);   // J = 0.5 * (1.326^2 + 1^2)

        // The hidden activations a2 and outputs a3 the seed prints, recomputed independently in double.
        double[] p = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        double[] a3 = ReferenceNetwork.Forward(net, p, x, 1);
        Assert.Equal(1.326, a3[0], 1e-6);
        Assert.Equal(0.0, a3[1], 1e-12);
        Network hiddenOnly = new NetworkBuilder(3).Dense(3, Activation.Relu).Build();
        net.Dense(0).Weights.CopyTo(hiddenOnly.Dense(0).Weights);
        net.Dense(0).Biases.CopyTo(hiddenOnly.Dense(0).Biases);
        double[] a2 = ReferenceNetwork.Forward(hiddenOnly, Array.ConvertAll(hiddenOnly.Parameters.ToArray(), v => (double)v), x, 1);
        Assert.Equal([0.81, 1.89, 0.0], a2.Select(v => Math.Round(v, 6)).ToArray());

        GradientCheckTests.AssertGradientsMatch(trainer.Gradients, ReferenceNetwork.NumericGradient(net, Loss.HalfSquaredError, x, [0.0, 1.0], 1));
        trainer.Step(x, y);

        // Updated w2: the seed's values are right.
        AssertSeedLayout(net.Dense(1), new double[,] { { 0.28674, 0.7892594, 0.1749386, 0 }, { -0.1, 0, -0.6, 0.1 } });

        // Updated w1. The seed prints [[0.296022, 0.8904528, 0.9997348, 0.4], [0.596022, 0.7904528, -0.3002652, -0.6], ...]:
        // its dE/da2_j uses a3[0] * w2[0][j] with j running over the *input* columns (bias first), so it pairs hidden
        // unit i with the weight of hidden unit i-1, and it multiplies by a3 instead of (a3 - y) * relu'(z3).
        // Correct: delta3 = (a3 - y) * relu'(z3) = [1.326, 0]; delta2 = (W2^T delta3) * relu'(z2) = [1.0608, 0.2652, 0];
        // dW1[j, :] = delta2[j] * [1, 0.9, 0.1, -1].
        AssertSeedLayout(net.Dense(0), new double[,]
        {
            { 0.289392, 0.8904528, 0.9989392, 0.410608 },
            { 0.597348, 0.7976132, -0.3002652, -0.597348 },
            { -1.0, 0.1, -0.4, -0.2 },
        });
        Assert.NotEqual(0.296022f, net.Dense(0).Biases[0], 1e-6f);   // the seed's wrong value
    }

    /// <summary>
    /// Seed 001 (problem 2d): 2-3-1, sigmoid hidden layer, linear output, L = (yhat - y)^2, x = [1, 2], y = 8.
    /// Hidden weights per unit [bias, w1, w2]: [0.01, 0.02, 0.03], [0.03, 0.01, 0.02], [0.02, 0.03, 0.01];
    /// output [bias, v1, v2, v3] = [0.01, 0.02, 0.03, 0.04].
    /// </summary>
    [Fact]
    public void Seed001PredictionAndGradients()
    {
        double[,] w = { { 0.01, 0.02, 0.03 }, { 0.03, 0.01, 0.02 }, { 0.02, 0.03, 0.01 } };
        double[,] v = { { 0.01, 0.02, 0.03, 0.04 } };
        Network net = new NetworkBuilder(2).Dense(3, Activation.Sigmoid).Dense(1).Build();
        SetFromSeedLayout(net.Dense(0), w);
        SetFromSeedLayout(net.Dense(1), v);
        float[] x = [1f, 2f], y = [8f];
        var trainer = new Trainer(net, Loss.MeanSquaredError, new Sgd(0.1f), batchSize: 1, maxThreads: 1);
        float loss = trainer.ComputeGradients(x, y);

        // Independent arithmetic from the seed's formulas: z = [0.09, 0.08, 0.07], a = sigmoid(z).
        double[] a = [Sigmoid(0.09), Sigmoid(0.08), Sigmoid(0.07)];
        double yhat = 0.01 + 0.02 * a[0] + 0.03 * a[1] + 0.04 * a[2];   // 0.0567 (the seed rounds a to 0.52 and prints 0.056)
        double dL = 2 * (yhat - 8);                                        // -15.887 (seed: -15.888)
        Assert.Equal((yhat - 8) * (yhat - 8), loss, 1e-4);
        Assert.Equal(dL, trainer.BiasGradients(1)[0], 1e-4);
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(dL * a[j], trainer.WeightGradients(1)[j], 1e-4);   // seed: -8.262 for all three (a rounded)
            double hidden = dL * v[0, j + 1] * a[j] * (1 - a[j]);
            Assert.Equal(hidden, trainer.BiasGradients(0)[j], 1e-5);
            Assert.Equal(hidden * 1, trainer.WeightGradients(0)[0 * 3 + j], 1e-5);
            Assert.Equal(hidden * 2, trainer.WeightGradients(0)[1 * 3 + j], 1e-5);
        }

        // The seed's printed dW rows (-0.0792, -0.0792, -0.1584), (-0.1187, ...), (-0.1584, ...) agree to rounding;
        // its first matrix prints -0.0492 for the first entry, a typo of -0.0792.
        Assert.Equal(-0.0792, trainer.BiasGradients(0)[0], 1e-3);
        Assert.Equal(-0.1187, trainer.BiasGradients(0)[1], 1e-3);
        Assert.Equal(-0.3168, trainer.WeightGradients(0)[1 * 3 + 2], 1e-3);
    }

    /// <summary>Seed 002: regression y = log(X beta + 20), X of 900 x 5 normals, a 5-4-4-1 ReLU net, full-batch GD with lr 0.1.</summary>
    [Fact]
    public void Seed002RegressionReachesLowMse()
    {
        var rng = new Random(2);
        const int n = 900;
        var beta = Enumerable.Range(0, 5).Select(_ => Normal(rng)).ToArray();
        var features = new float[n * 5];
        var targets = new float[n];
        for (int i = 0; i < n; i++)
        {
            double xb = 0;
            for (int j = 0; j < 5; j++) { features[i * 5 + j] = (float)Normal(rng); xb += features[i * 5 + j] * beta[j]; }
            targets[i] = (float)Math.Log(xb + 20);
        }

        var data = Dataset.WithTargets(features, 5, targets, 1);
        Network net = new NetworkBuilder(5).Dense(4, Activation.Relu).Dense(4, Activation.Relu).Dense(1).Build(seed: 2);
        // The seed's gradient is (yhat - y) / n, the gradient of half the squared error.
        var trainer = new Trainer(net, Loss.HalfSquaredError, new Sgd(0.1f), batchSize: n, maxThreads: 1);
        trainer.Fit(data, epochs: 500);
        double mse = 2 * trainer.Evaluate(data).Loss;
        Assert.True(mse < 0.05, $"MSE {mse}");
    }

    /// <summary>Seed 003: XOR, sigmoid units, squared error, plain SGD with lr 1 on the four patterns.</summary>
    [Fact]
    public void Seed003NetworkLearnsXor()
    {
        float[] x = [0, 0, 0, 1, 1, 0, 1, 1];
        float[] y = [0, 1, 1, 0];
        Network net = new NetworkBuilder(2).Dense(4, Activation.Sigmoid).Dense(1, Activation.Sigmoid).Build(seed: 3);
        var trainer = new Trainer(net, Loss.HalfSquaredError, new Sgd(1f), batchSize: 4, maxThreads: 1);
        for (int epoch = 0; epoch < 10000; epoch++) trainer.Step(x, y);
        var evaluator = new Trainer(net, Loss.HalfSquaredError, new Sgd(1f), batchSize: 4, maxThreads: 1);
        Assert.True(evaluator.ComputeGradients(x, y) < 0.01f);
        double[] output = ReferenceNetwork.Forward(net, Array.ConvertAll(net.Parameters.ToArray(), v => (double)v), x, 4);
        for (int i = 0; i < 4; i++) Assert.Equal(y[i], Math.Round(output[i]));
    }

    /// <summary>
    /// Seed 004: 3-4-4-2, sigmoid hidden layers, linear output, half squared error averaged over the batch,
    /// x of 5 uniform inputs and y of 5 normal targets, weights N(0, 0.01^2): gradient descent drives the loss to zero.
    /// </summary>
    [Fact]
    public void Seed004LossFallsTowardsZero()
    {
        var rng = new Random(12345);
        Network net = new NetworkBuilder(3).Dense(4, Activation.Sigmoid).Dense(4, Activation.Sigmoid).Dense(2).Build();
        foreach (DenseLayer layer in net.Layers)
        {
            Span<float> weights = layer.Weights;
            for (int i = 0; i < weights.Length; i++) weights[i] = (float)(0.01 * Normal(rng));
        }

        float[] x = TestData.Uniform(rng, 5 * 3, 0f, 1f);
        float[] y = Enumerable.Range(0, 10).Select(_ => (float)Normal(rng)).ToArray();
        var trainer = new Trainer(net, Loss.HalfSquaredError, new Adam(0.01f), batchSize: 5, maxThreads: 1);
        float first = trainer.ComputeGradients(x, y), last = first;
        for (int i = 0; i < 5000; i++) last = trainer.Step(x, y);
        Assert.True(last < 1e-3f * first, $"loss {first} -> {last}");
    }

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Copies a [outputs x (1 + inputs)] matrix with the bias in column 0 into a layer.</summary>
    private static void SetFromSeedLayout(DenseLayer layer, double[,] seed)
    {
        for (int j = 0; j < layer.Outputs; j++)
        {
            layer.Biases[j] = (float)seed[j, 0];
            for (int i = 0; i < layer.Inputs; i++) layer.Weights[i * layer.Outputs + j] = (float)seed[j, i + 1];
        }
    }

    private static void AssertSeedLayout(DenseLayer layer, double[,] expected)
    {
        for (int j = 0; j < layer.Outputs; j++)
        {
            Assert.Equal(expected[j, 0], layer.Biases[j], 1e-6);
            for (int i = 0; i < layer.Inputs; i++) Assert.Equal(expected[j, i + 1], layer.Weights[i * layer.Outputs + j], 1e-6);
        }
    }
}

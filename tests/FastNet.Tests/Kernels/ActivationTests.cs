using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

public class ActivationTests
{
    private static double Reference(Activation act, double x) => act switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        Activation.LeakyRelu => x > 0 ? x : 0.01 * x,
        _ => x,
    };

    public static TheoryData<Activation> All() => new(Enum.GetValues<Activation>());

    [Theory]
    [MemberData(nameof(All))]
    public void ForwardMatchesDoubleReferenceIncludingExtremes(Activation act)
    {
        float[] x = [.. TestData.Uniform(new Random(1), 203, -10f, 10f), 100f, -100f, 88.8f, -88.8f, 1e30f, -1e30f, 0f];
        var y = new float[x.Length];
        Activations.Forward(act, x, y);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(float.IsFinite(y[i]), $"{act}({x[i]}) = {y[i]}");
            Assert.Equal(Reference(act, x[i]), y[i], 1e-6 * Math.Max(1, Math.Abs(Reference(act, x[i]))));
        }
    }

    /// <summary>dx from the backward function against a central finite difference of the double reference.</summary>
    [Theory]
    [MemberData(nameof(All))]
    public void BackwardMatchesFiniteDifferences(Activation act)
    {
        var rng = new Random(2);
        float[] x = TestData.Uniform(rng, 301, -4f, 4f);
        for (int i = 0; i < x.Length; i++) if (Math.Abs(x[i]) < 1e-2f) x[i] = 0.5f;   // keep ReLU's kink out of the difference
        float[] dy = TestData.Uniform(rng, x.Length), y = new float[x.Length], dx = new float[x.Length];
        Activations.Forward(act, x, y);
        Activations.Backward(act, y, dy, dx);
        const double h = 1e-5;
        for (int i = 0; i < x.Length; i++)
        {
            double numeric = dy[i] * (Reference(act, x[i] + h) - Reference(act, x[i] - h)) / (2 * h);
            Assert.Equal(numeric, dx[i], 2e-6);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void WorkInPlace(Activation act)
    {
        float[] x = TestData.Uniform(new Random(3), 37, -3f, 3f);
        float[] expected = new float[x.Length], dExpected = new float[x.Length];
        Activations.Forward(act, x, expected);
        Activations.Backward(act, expected, x, dExpected);
        float[] inPlace = (float[])x.Clone();
        Activations.Forward(act, inPlace, inPlace);
        Assert.Equal(expected, inPlace);
        float[] grad = (float[])x.Clone();
        Activations.Backward(act, expected, grad, grad);
        Assert.Equal(dExpected, grad);
    }

    [Fact]
    public void MismatchedLengthsThrowNamingTheSpan()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Activations.Relu(new float[4], new float[3])).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Activations.SigmoidBackward(new float[4], new float[3], new float[4])).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Activations.TanhBackward(new float[4], new float[4], new float[2])).ParamName);
        Assert.Equal("activation", Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward((Activation)42, new float[1], new float[1])).ParamName);
    }
}

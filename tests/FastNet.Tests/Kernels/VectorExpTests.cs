using System.Runtime.Intrinsics;
using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

public class VectorExpTests
{
    /// <summary>Against Math.Exp in double over the whole clamped range, on both vector widths.</summary>
    [Fact]
    public void MatchesMathExpWithinThreeUlpsAndKeepsNaN()
    {
        double worst = 0;
        for (float x = -87f; x <= 88f; x += 0.00731f)
        {
            double expected = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(VectorExp.Exp(Vector512.Create(x))[0] - expected) / expected);
            Assert.Equal(VectorExp.Exp(Vector512.Create(x))[0], VectorExp.Exp(Vector256.Create(x))[0]);
        }

        Assert.True(worst < 3.6e-7, $"largest relative error {worst:E2}");   // 3 ulp of float is 3 x 2^-23 ~ 3.6e-7
        Assert.Equal(1f, VectorExp.Exp(Vector512<float>.Zero)[0]);
        Assert.True(float.IsNaN(VectorExp.Exp(Vector512.Create(float.NaN))[0]));
        Assert.True(float.IsNaN(VectorExp.Exp(Vector256.Create(float.NaN))[0]));
        // Clamped: finite and tiny, or finite and huge, never 0 or infinity.
        Assert.InRange(VectorExp.Exp(Vector512.Create(-1000f))[0], 1e-38f, 2e-38f);
        Assert.InRange(VectorExp.Exp(Vector512.Create(float.PositiveInfinity))[0], 1e38f, float.MaxValue);
    }
}

using System.Runtime.CompilerServices;
using System.Numerics;

namespace FastNet.Training;

/// <summary>
/// Adam with PyTorch's torch.optim.Adam semantics (weight decay as an L2 term added to the gradient):
/// g = grad + weightDecay * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
/// </summary>
public sealed class Adam : Optimizer
{
    private float[]? _m, _v;

    /// <summary>Creates the optimizer with PyTorch's defaults.</summary>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate)
    {
        Beta1 = InRange(beta1, 0f, 1f, nameof(beta1));
        Beta2 = InRange(beta2, 0f, 1f, nameof(beta2));
        Epsilon = InRange(epsilon, float.Epsilon, float.PositiveInfinity, nameof(epsilon));
        WeightDecay = InRange(weightDecay, 0f, float.PositiveInfinity, nameof(weightDecay));
    }

    /// <summary>Decay of the first-moment estimate.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second-moment estimate.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Epsilon { get; }

    /// <summary>L2 weight decay coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    protected override void Apply(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        float[] m = State(ref _m, parameters.Length), v = State(ref _v, parameters.Length);
        double t = Steps;
        float correction1 = (float)(1 - Math.Pow(Beta1, t));
        float sqrtCorrection2 = (float)Math.Sqrt(1 - Math.Pow(Beta2, t));
        float lr = LearningRate, b1 = Beta1, b2 = Beta2;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // The scalar loop's operations in the same order, a vector at a time (so the same bits).
            var vb1 = new Vector<float>(b1);
            var vb2 = new Vector<float>(b2);
            var vOneMinusB1 = new Vector<float>(1 - b1);
            var vOneMinusB2 = new Vector<float>(1 - b2);
            var vDecay = new Vector<float>(WeightDecay);
            var vStep = new Vector<float>(lr / correction1);
            var vSqrtCorrection2 = new Vector<float>(sqrtCorrection2);
            var vEpsilon = new Vector<float>(Epsilon);
            for (; i <= parameters.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var p = new Vector<float>(parameters[i..]);
                Vector<float> g = new Vector<float>(gradients[i..]) + vDecay * p;
                Vector<float> mi = vb1 * new Vector<float>(m, i) + vOneMinusB1 * g;
                Vector<float> vi = vb2 * new Vector<float>(v, i) + vOneMinusB2 * g * g;
                mi.CopyTo(m, i);
                vi.CopyTo(v, i);
                (p - vStep * mi / (Vector.SquareRoot(vi) / vSqrtCorrection2 + vEpsilon)).CopyTo(parameters[i..]);
            }
        }

        for (; i < parameters.Length; i++)
        {
            float g = gradients[i] + WeightDecay * parameters[i];
            float mi = m[i] = b1 * m[i] + (1 - b1) * g;
            float vi = v[i] = b2 * v[i] + (1 - b2) * g * g;
            // PyTorch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; step = lr / (1 - b1^t).
            parameters[i] -= lr / correction1 * mi / (MathF.Sqrt(vi) / sqrtCorrection2 + Epsilon);
        }
    }
}

using System.Runtime.CompilerServices;
namespace FastNet.Training;

/// <summary>
/// Adam with PyTorch's torch.optim.Adam semantics (weight decay as an L2 term added to the gradient):
/// g = grad + weightDecay * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
/// For weight decay as most models are trained today, see <see cref="AdamW"/>.
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

    internal override float[]?[] StateArrays => [_m, _v];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    protected override void Apply(Span<float> parameters, ReadOnlySpan<float> gradients) =>
        AdamUpdate.Apply(parameters, gradients, State(ref _m, parameters.Length), State(ref _v, parameters.Length), Steps,
            LearningRate, Beta1, Beta2, Epsilon, l2: WeightDecay, shrink: 1f);
}

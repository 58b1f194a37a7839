using System.Runtime.CompilerServices;
namespace FastNet.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization"), with PyTorch's torch.optim.AdamW
/// semantics: the weight decay shrinks the parameters directly instead of entering the gradient, so it is not
/// rescaled by Adam's per-parameter step size:
/// p *= 1 - lr * weightDecay;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
/// </summary>
/// <remarks>
/// The decay applies to every parameter the optimizer updates, biases included, as torch.optim.AdamW does when
/// given all of a model's parameters. With a learning-rate schedule the shrink follows the scheduled rate.
/// </remarks>
public sealed class AdamW : Optimizer
{
    private float[]? _m, _v;

    /// <summary>Creates the optimizer; the defaults are PyTorch's (including weight decay 0.01).</summary>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 1e-2f)
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

    /// <summary>Decoupled weight decay: each step multiplies the parameters by 1 - learningRate * weightDecay.</summary>
    public float WeightDecay { get; }

    internal override float[]?[] StateArrays => [_m, _v];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    protected override void Apply(Span<float> parameters, ReadOnlySpan<float> gradients) =>
        AdamUpdate.Apply(parameters, gradients, State(ref _m, parameters.Length), State(ref _v, parameters.Length), Steps,
            LearningRate, Beta1, Beta2, Epsilon, l2: 0f, shrink: (float)(1 - (double)LearningRate * WeightDecay));
}

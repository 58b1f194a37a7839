using System.Runtime.CompilerServices;
using FastNet.Kernels;

namespace FastNet.Training;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's torch.optim.SGD semantics:
/// g = grad + weightDecay * p;  v = momentum * v + g (v starts at 0, so v = g on the first step);
/// p -= lr * (nesterov ? g + momentum * v : v).
/// </summary>
public sealed class Sgd : Optimizer
{
    private float[]? _velocity;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size.</param>
    /// <param name="momentum">Momentum factor in [0, 1); 0 is plain SGD.</param>
    /// <param name="nesterov">Nesterov momentum (needs momentum &gt; 0).</param>
    /// <param name="weightDecay">L2 penalty coefficient added to the gradient.</param>
    public Sgd(float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f) : base(learningRate)
    {
        Momentum = InRange(momentum, 0f, 1f, nameof(momentum));
        WeightDecay = InRange(weightDecay, 0f, float.PositiveInfinity, nameof(weightDecay));
        if (nesterov && momentum == 0f) throw new ArgumentException("Nesterov momentum needs a positive momentum.", nameof(nesterov));
        Nesterov = nesterov;
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 weight decay coefficient.</summary>
    public float WeightDecay { get; }

    /// <summary>Plain SGD (no momentum, no weight decay): p -= lr * g, which a trainer can fuse into the gradient GEMM.</summary>
    internal bool IsPlain => Momentum == 0f && WeightDecay == 0f;

    internal override float[]?[] StateArrays => [_velocity];

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    protected override void Apply(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        float lr = LearningRate;
        if (Momentum == 0f && WeightDecay == 0f)
        {
            Axpy.Run(-lr, gradients, parameters);   // p += (-lr) * g
            return;
        }

        float[]? velocity = Momentum == 0f ? null : State(ref _velocity, parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i] + WeightDecay * parameters[i];
            if (velocity is not null)
            {
                float v = Momentum * velocity[i] + g;   // velocity starts at 0: v = g on the first step
                velocity[i] = v;
                g = Nesterov ? g + Momentum * v : v;
            }

            parameters[i] -= lr * g;
        }
    }
}

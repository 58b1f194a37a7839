namespace FastNet.Training;

/// <summary>
/// Updates parameters from their gradients. An optimizer keeps per-parameter state (momentum, moments),
/// sized on first use, so give each trainer its own instance.
/// </summary>
public abstract class Optimizer
{
    private float _learningRate;

    /// <summary>Creates an optimizer with a learning rate.</summary>
    protected Optimizer(float learningRate) => LearningRate = learningRate;

    /// <summary>Step size; may be changed between steps (a learning-rate schedule does).</summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0f) || !float.IsFinite(value))
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "The learning rate must be positive and finite.");
            _learningRate = value;
        }
    }

    /// <summary>Number of updates applied so far.</summary>
    public long Steps { get; internal set; }

    /// <summary>Applies one update: parameters -= f(gradients). Allocates only on the first call (its state).</summary>
    public void Update(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        Guard.SameLength(gradients.Length, parameters.Length, nameof(gradients), nameof(parameters));
        Steps++;
        Apply(parameters, gradients);
    }

    /// <summary>
    /// The per-parameter state arrays (momentum, moments), null where not allocated yet, so that a trainer can
    /// checkpoint and restore the optimizer (<see cref="TrainingCheckpoint"/>). An optimizer defined outside FastNet
    /// exposes none: a restore then resets its learning rate and step count only.
    /// </summary>
    internal virtual float[]?[] StateArrays => [];

    /// <summary>Counts an update the trainer applied itself (plain SGD fused into the weight-gradient GEMM).</summary>
    internal void CountFusedStep() => Steps++;

    /// <summary>The update rule itself; <see cref="Steps"/> already counts this step.</summary>
    protected abstract void Apply(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>Returns a state buffer of the parameters' length, allocating it (zeroed) once.</summary>
    protected static float[] State(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length != length)
        {
            if (buffer is not null)
                throw new InvalidOperationException($"This optimizer holds state for {buffer.Length} parameters and cannot update {length}: use one optimizer per network.");
            buffer = new float[length];
        }

        return buffer;
    }

    /// <summary>Checks an optional hyper-parameter lies in [min, max).</summary>
    protected static float InRange(float value, float min, float max, string name)
    {
        if (!(value >= min && value < max))
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in [{min}, {max}).");
        return value;
    }
}

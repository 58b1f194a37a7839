namespace FastNet.Inference;

/// <summary>How a <see cref="Predictor"/> treats its inputs. The defaults are the safe ones.</summary>
public sealed record PredictorOptions
{
    /// <summary>The defaults: inputs are checked.</summary>
    public static PredictorOptions Default { get; } = new();

    /// <summary>
    /// Whether every input is checked for NaN and infinity before the forward pass (an <see cref="ArgumentException"/>
    /// names the first bad value). On by default. Turn it off only where the caller validates inputs itself and the
    /// scan's cost matters (one vectorized pass over the input; see bench/results for its measured cost). Outputs
    /// are checked either way: a prediction whose outputs are not finite throws instead of returning an answer.
    /// </summary>
    public bool CheckInputs { get; init; } = true;

    /// <summary>How the predictor stores weights: <see cref="Precision.Float32"/> (the default), <see cref="Precision.BFloat16"/> or <see cref="Precision.Int8"/>.</summary>
    public Precision Precision { get; init; } = Precision.Float32;
}

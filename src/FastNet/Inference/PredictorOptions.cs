namespace FastNet.Inference;

/// <summary>How a <see cref="Predictor"/> treats its inputs. The defaults are the safe ones.</summary>
public sealed record PredictorOptions
{
    /// <summary>The defaults: inputs are checked.</summary>
    public static PredictorOptions Default { get; } = new();

    /// <summary>
    /// Whether every input is checked for NaN and infinity (an <see cref="ArgumentException"/> names the first bad value).
    /// On by default. In float32 with a dense first layer it costs no pass over the inputs (the first GEMM looks at its
    /// product; see <see cref="Predictor"/>): +0.3% of a 1,024-row T1 PredictBatch on a Zen 5 thread, where a scan cost
    /// 2.5% (bench/results/zen5-avx512/input-check-flag.md); the other paths scan the input (one vectorized pass). Turn it
    /// off only where the caller validates inputs itself. Outputs are checked either way: a prediction whose outputs are
    /// not finite throws instead of returning an answer.
    /// </summary>
    public bool CheckInputs { get; init; } = true;

    /// <summary>How the predictor stores weights: <see cref="Precision.Float32"/> (the default), <see cref="Precision.BFloat16"/> or <see cref="Precision.Int8"/>.</summary>
    public Precision Precision { get; init; } = Precision.Float32;
}

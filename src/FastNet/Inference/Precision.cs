namespace FastNet.Inference;

/// <summary>How a predictor stores its weights (<see cref="PredictorOptions.Precision"/>). Arithmetic is float32 in every case.</summary>
public enum Precision
{
    /// <summary>Weights as trained, float32.</summary>
    Float32 = 0,

    /// <summary>
    /// Dense weights rounded to bfloat16 (to nearest, ties to even): batch-1 calls stream half the bytes and widen
    /// each weight to float32 with a shift (<see cref="Kernels.BFloat16"/>); biases and activations stay float32.
    /// Batch calls multiply the same rounded values in the float32 GEMM. Dense layers only so far: a network with a
    /// GRU layer is refused.
    /// </summary>
    BFloat16 = 1,
}

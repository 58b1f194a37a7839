namespace FastNet.Inference;

/// <summary>How a predictor stores its weights (<see cref="PredictorOptions.Precision"/>). Arithmetic is float32, except the integer products of <see cref="Int8"/>.</summary>
public enum Precision
{
    /// <summary>Weights as trained, float32.</summary>
    Float32 = 0,

    /// <summary>
    /// Dense weights rounded to bfloat16 (to nearest, ties to even): batch-1 calls stream half the bytes and widen
    /// each weight to float32 with a shift (<see cref="Kernels.BFloat16"/>); biases and activations stay float32.
    /// Batch calls multiply the same rounded values in the float32 GEMM. In a GRU layer both weight matrices (W_ih and
    /// W_hh) are rounded: the recurrent product, a step's W_hh streamed from cache, is most of a GRU's batch-1 call.
    /// </summary>
    BFloat16 = 1,

    /// <summary>
    /// Dense weights quantized to int8, symmetric per output (scale = largest |weight| of the output / 127); each
    /// layer's input row quantized when it arrives, to 7 bits over the row's own range (with a zero point); products
    /// summed exactly in int32, then scaled back to float32, where bias and activation apply. A quarter of the weight
    /// bytes, and integer dot-product instructions (AVX-VNNI, AVX-512BW, AVX2; scalar elsewhere) that all give the same
    /// bits. Batch calls run the same per-row arithmetic, so a row's result does not depend on its batch or on the thread
    /// count. In a GRU layer both products are quantized the same way: the input projection x_t W_ih^T (each step of each
    /// sample one row) and the recurrent product h W_hh^T (each step's state one row), weights per gate unit; the gates
    /// and the state stay float32.
    /// </summary>
    Int8 = 2,
}

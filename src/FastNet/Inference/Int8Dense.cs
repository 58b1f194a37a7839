using FastNet.Kernels;

namespace FastNet.Inference;

/// <summary>
/// A dense layer for <see cref="Precision.Int8"/>: y = act(x W + b) with W quantized per output column
/// (<see cref="Int8Matrix"/>), each input row quantized on the fly to 7 bits (<see cref="Int8Activations"/>), the
/// products summed exactly in int32 (<see cref="Int8Gemv"/>); bias and activation in float32.
/// </summary>
internal sealed class Int8Dense(Int8Matrix weights, float[] biases, Activation activation)
{
    /// <summary>The quantized weights.</summary>
    public Int8Matrix Weights { get; } = weights;

    /// <summary>Biases as trained, float32.</summary>
    public float[] Biases { get; } = biases;

    public Activation Activation { get; } = activation;

    public int Inputs => Weights.Inputs;

    public int Outputs => Weights.Outputs;

    /// <summary>Bytes one quantized input row takes: k rounded up to whole quads.</summary>
    public int QuantizedRowBytes => Weights.QuadRows * 4;

    /// <summary>Quantizes a trained layer's weights; biases and activation are kept.</summary>
    public static Int8Dense Quantize(DenseLayer layer) =>
        new(Int8Matrix.Quantize(layer.Weights, layer.Inputs, layer.Outputs), layer.Biases.ToArray(), layer.Activation);

    /// <summary>Rows <paramref name="first"/> .. <paramref name="end"/>-1 of x [rows x Inputs] into y [rows x Outputs]; <paramref name="quantized"/> holds one quantized row.</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int first, int end, Span<byte> quantized)
    {
        int k = Inputs, n = Outputs;
        Span<byte> q = quantized.Slice(0, QuantizedRowBytes);
        for (int r = first; r < end; r++)
        {
            (float scale, int zeroPoint) = Int8Activations.Quantize(x.Slice(r * k, k), q);
            Span<float> row = y.Slice(r * n, n);
            Int8Gemv.MultiplyRow(q, scale, zeroPoint, Weights, Biases, row);
            if (Activation != Activation.None) Activations.Forward(Activation, row, row);
        }
    }
}

using FastNet.Kernels;

namespace FastNet.Inference;

/// <summary>
/// A dense layer for <see cref="Precision.Int8"/>: y = act(x W + b) with W quantized per output column
/// (<see cref="Int8Matrix"/>), each input row quantized on the fly to 7 bits (<see cref="Int8Activations"/>), the
/// products summed exactly in int32 (<see cref="Int8Gemv"/>); bias and activation in float32.
/// </summary>
internal sealed class Int8Dense(Int8Matrix weights, float[] biases, Activation activation, Int8Dense? recurrent = null)
{
    /// <summary>The quantized weights.</summary>
    public Int8Matrix Weights { get; } = weights;

    /// <summary>Biases as trained, float32.</summary>
    public float[] Biases { get; } = biases;

    public Activation Activation { get; } = activation;

    /// <summary>For a GRU's input projection, the layer's recurrent product h W_hh^T [H x 3H] quantized the same way (no bias); else null.</summary>
    public Int8Dense? Recurrent { get; } = recurrent;

    public int Inputs => Weights.Inputs;

    public int Outputs => Weights.Outputs;

    /// <summary>Bytes one quantized input row takes: k rounded up to whole quads.</summary>
    public int QuantizedRowBytes => Weights.QuadRows * 4;

    /// <summary>Quantizes a trained layer's weights; biases and activation are kept.</summary>
    public static Int8Dense Quantize(DenseLayer layer) =>
        new(Int8Matrix.Quantize(layer.Weights, layer.Inputs, layer.Outputs), layer.Biases.ToArray(), layer.Activation);

    /// <summary>
    /// A GRU's input projection as a dense layer without activation: x_t W_ih^T + [b_ir + b_hr, b_iz + b_hz, b_in]
    /// (<see cref="GruLayer.FoldBiases"/>), [F x 3H], quantized per gate unit (per row of PyTorch's weight_ih), with the
    /// recurrent product (W_hh per gate unit; each step's state row quantized like any input row) as <see cref="Recurrent"/>.
    /// </summary>
    public static Int8Dense QuantizeInputProjection(GruLayer layer) =>
        InputProjection(layer, Int8Matrix.Quantize(layer.TransposedInputWeights(), layer.Features, 3 * layer.HiddenSize),
            Int8Matrix.Quantize(layer.TransposedRecurrentWeights(), layer.HiddenSize, 3 * layer.HiddenSize));

    /// <summary>
    /// A GRU's input projection from its quantized W_ih^T [F x 3H] and the layer's biases, carrying the recurrent product
    /// over its quantized W_hh^T [H x 3H] (as <see cref="QuantizeInputProjection"/> makes them or a model file holds them).
    /// </summary>
    public static Int8Dense InputProjection(GruLayer layer, Int8Matrix transposedInputWeights, Int8Matrix transposedRecurrentWeights)
    {
        var bias = new float[3 * layer.HiddenSize];
        layer.FoldBiases(bias);
        var recurrent = new Int8Dense(transposedRecurrentWeights, new float[3 * layer.HiddenSize], Activation.None);
        return new(transposedInputWeights, bias, Activation.None, recurrent);
    }

    /// <summary>
    /// Rows <paramref name="first"/> .. <paramref name="end"/>-1 of x [rows x Inputs] into y [rows x Outputs]; <paramref name="quantized"/>
    /// holds <see cref="Int8Gemv.RowBlock"/> quantized rows. Rows go in blocks of that many, the rest one by one (the
    /// same bits either way). A row holding NaN or infinity gives a row of NaN (whatever the activation), so a bad
    /// input always reaches the outputs of the last layer, where the predictor looks for it.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int first, int end, Span<byte> quantized)
    {
        int k = Inputs, n = Outputs, stride = QuantizedRowBytes;
        Span<float> scales = stackalloc float[Int8Gemv.RowBlock];
        Span<int> zeroPoints = stackalloc int[Int8Gemv.RowBlock];
        int r = first;
        for (; r + Int8Gemv.RowBlock <= end; r += Int8Gemv.RowBlock)
        {
            bool finite = true;
            for (int i = 0; i < Int8Gemv.RowBlock; i++)
            {
                (scales[i], zeroPoints[i]) = Int8Activations.Quantize(x.Slice((r + i) * k, k), quantized.Slice(i * stride, stride));
                finite &= !float.IsNaN(scales[i]);
            }

            if (!finite) break;   // the rows one by one below: they handle a bad row on its own
            Span<float> rows = y.Slice(r * n, Int8Gemv.RowBlock * n);
            Int8Gemv.MultiplyRows(quantized, stride, scales, zeroPoints, Weights, Biases, rows);
            if (Activation != Activation.None) Activations.Forward(Activation, rows, rows);
        }

        Span<byte> q = quantized.Slice(0, stride);
        for (; r < end; r++)
        {
            (float scale, int zeroPoint) = Int8Activations.Quantize(x.Slice(r * k, k), q);
            Span<float> row = y.Slice(r * n, n);
            if (float.IsNaN(scale))
            {
                row.Fill(float.NaN);
                continue;
            }

            Int8Gemv.MultiplyRow(q, scale, zeroPoint, Weights, Biases, row);
            if (Activation != Activation.None) Activations.Forward(Activation, row, row);
        }
    }
}

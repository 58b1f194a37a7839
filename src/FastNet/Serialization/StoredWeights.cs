using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FastNet.Inference;
using FastNet.Kernels;

namespace FastNet.Serialization;

/// <summary>
/// The parameter section of a model file whose weights are stored in a predictor's precision (<see cref="Precision.BFloat16"/>
/// or <see cref="Precision.Int8"/>), layer by layer in <see cref="Network.Parameters"/> order. What each precision
/// rounds is stored rounded; everything else is float32 as trained:
/// <code>
/// dense [k inputs x n outputs]   weights [k x n]: bfloat16 (uint16 each), or int8 (one byte each, in [-127, 127])
///                                  followed by n float32 scales (one per output column);
///                                biases: n float32
/// GRU (F features, H hidden)     bfloat16: weight_ih [3H x F] and weight_hh [3H x H] in bfloat16, then bias_ih [3H] and
///                                  bias_hh [3H] in float32;
///                                int8: weight_ih [3H x F] in int8 followed by 3H float32 scales (one per row, a gate
///                                  unit), weight_hh [3H x H] the same way, then bias_ih [3H] and bias_hh [3H] in float32
/// </code>
/// Weight (i, j) of an int8 tensor is scale * q. All little-endian.
/// </summary>
internal static class StoredWeights
{
    /// <summary>Bytes of one layer's stored parameters, given its input width (the shape in the layer table).</summary>
    public static long LayerBytes(LayerSpec spec, long inputWidth, Precision precision)
    {
        if (precision == Precision.Float32) return 4 * spec.ParameterCount((int)inputWidth);
        long weightBytes = precision == Precision.BFloat16 ? 2 : 1;
        switch (spec)
        {
            case DenseSpec dense:
            {
                long k = inputWidth, n = dense.Outputs;
                return k * n * weightBytes + (precision == Precision.Int8 ? 4 * n : 0) + 4 * n;
            }

            case GruSpec gru:
            {
                long f = inputWidth / gru.Steps, h = gru.HiddenSize, g = 3 * h;
                return g * (f + h) * weightBytes + (precision == Precision.Int8 ? 2 * 4 * g : 0) + 4 * 2 * g;
            }

            default:
                throw new NotSupportedException($"No stored encoding for {spec.GetType().Name}.");
        }
    }

    /// <summary>
    /// The section for <paramref name="network"/> in <paramref name="precision"/>: bfloat16 weights are the network's own
    /// (already rounded, so this is exact); int8 ones come from <paramref name="int8"/>, the predictor's quantized layers.
    /// </summary>
    public static byte[] Encode(Network network, Precision precision, Int8Dense[]? int8)
    {
        long total = 0, width = network.InputSize;
        foreach (Layer layer in network.Layers)
        {
            total += LayerBytes(layer.Spec, width, precision);
            width = layer.OutputSize;
        }

        var bytes = new byte[total];
        int at = 0;
        for (int l = 0; l < network.Layers.Count; l++)
        {
            Layer layer = network.Layers[l];
            Split(layer, out Span<float> weights, out Span<float> rest);
            if (precision == Precision.BFloat16)
            {
                foreach (float w in weights) at = WriteUInt16(bytes, at, BFloat16.FromSingle(w));
            }
            else
            {
                // A dense layer's matrix is its W [k x n]; a GRU's are W_ih^T [F x 3H] and W_hh^T [H x 3H], stored back as
                // weight_ih [3H x F] and weight_hh [3H x H].
                bool transposed = layer is GruLayer;
                foreach (Int8Matrix q in transposed ? [int8![l].Weights, int8[l].Recurrent!.Weights] : new[] { int8![l].Weights })
                {
                    int rows = transposed ? q.Outputs : q.Inputs, cols = transposed ? q.Inputs : q.Outputs;
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                            bytes[at++] = (byte)(transposed ? q.Value(j, i) : q.Value(i, j));
                    foreach (float scale in q.Scales) at = WriteSingle(bytes, at, scale);
                }
            }

            foreach (float value in rest) at = WriteSingle(bytes, at, value);
        }

        return bytes;
    }

    /// <summary>
    /// Fills <paramref name="network"/>'s parameters from a section checked by its checksum: bfloat16 weights widened to
    /// float32, int8 weights as scale * q (what they stand for; the predictor computes with the integers). Returns the
    /// int8 layers for <see cref="Precision.Int8"/>, else null.
    /// </summary>
    /// <exception cref="InvalidDataException">An int8 value is -128, or a scale is not positive and finite.</exception>
    public static Int8Dense[]? Decode(ReadOnlySpan<byte> bytes, Network network, Precision precision)
    {
        Int8Dense[]? int8 = precision == Precision.Int8 ? new Int8Dense[network.Layers.Count] : null;
        int at = 0;
        for (int l = 0; l < network.Layers.Count; l++)
        {
            Layer layer = network.Layers[l];
            var gru = layer as GruLayer;
            Split(layer, out Span<float> weights, out Span<float> rest);
            var matrices = new List<Int8Matrix>(2);
            if (precision == Precision.BFloat16)
            {
                for (int i = 0; i < weights.Length; i++, at += 2) weights[i] = BFloat16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]));
            }
            else if (gru is null)
            {
                var dense = (DenseLayer)layer;
                matrices.Add(ReadInt8(bytes, ref at, weights, dense.Inputs, dense.Outputs, perColumn: true, l));
            }
            else
            {
                int g = 3 * gru.HiddenSize;
                matrices.Add(ReadInt8(bytes, ref at, weights[..(g * gru.Features)], g, gru.Features, perColumn: false, l));
                matrices.Add(ReadInt8(bytes, ref at, weights[(g * gru.Features)..], g, gru.HiddenSize, perColumn: false, l));
            }

            for (int i = 0; i < rest.Length; i++, at += 4) rest[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[at..]);
            if (int8 is not null)
            {
                int8[l] = gru is null
                    ? new Int8Dense(matrices[0], ((DenseLayer)layer).Biases.ToArray(), ((DenseLayer)layer).Activation)
                    : Int8Dense.InputProjection(gru, matrices[0], matrices[1]);
            }
        }

        return int8;
    }

    /// <summary>
    /// A layer's parameters as stored: first what the precision rounds (a dense W; a GRU's weight_ih and weight_hh, which
    /// follows it), then the float32 rest in the layer's order (the biases).
    /// </summary>
    private static void Split(Layer layer, out Span<float> weights, out Span<float> rest)
    {
        Span<float> all = layer.Parameters;
        int count = layer switch
        {
            DenseLayer dense => dense.Weights.Length,
            GruLayer gru => gru.InputWeights.Length + gru.RecurrentWeights.Length,
            _ => throw new NotSupportedException($"No stored encoding for {layer.GetType().Name}."),
        };
        weights = all[..count];
        rest = all[count..];
    }

    /// <summary>
    /// One stored int8 tensor [rows x cols] and its scales (one per output: per column for a dense W, per row for a GRU's
    /// weight_ih and weight_hh) from <paramref name="at"/>, its dequantized values written to <paramref name="weights"/>;
    /// returns it as the kernels' matrix (a GRU's transposed, [cols x rows]).
    /// </summary>
    /// <exception cref="InvalidDataException">A value is -128, or a scale is not positive and finite.</exception>
    private static Int8Matrix ReadInt8(ReadOnlySpan<byte> bytes, ref int at, Span<float> weights, int rows, int cols, bool perColumn, int layer)
    {
        ReadOnlySpan<sbyte> values = MemoryMarshal.Cast<byte, sbyte>(bytes.Slice(at, rows * cols));
        at += rows * cols;
        var scales = new float[perColumn ? cols : rows];
        for (int j = 0; j < scales.Length; j++, at += 4) scales[j] = BinaryPrimitives.ReadSingleLittleEndian(bytes[at..]);
        Int8Matrix matrix;
        try
        {
            matrix = perColumn ? Int8Matrix.FromValues(values, scales, rows, cols) : Int8Matrix.FromValues(Transposed(values, rows, cols), scales, cols, rows);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"layer {layer}'s int8 weights are not valid: {e.Message}", e);
        }

        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                weights[i * cols + j] = scales[perColumn ? j : i] * values[i * cols + j];
        return matrix;
    }

    /// <summary>The transpose of a row-major [rows x cols] matrix.</summary>
    private static sbyte[] Transposed(ReadOnlySpan<sbyte> values, int rows, int cols)
    {
        var transposed = new sbyte[values.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                transposed[j * rows + i] = values[i * cols + j];
        return transposed;
    }

    private static int WriteUInt16(byte[] bytes, int at, ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), value);
        return at + 2;
    }

    private static int WriteSingle(byte[] bytes, int at, float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), value);
        return at + 4;
    }
}

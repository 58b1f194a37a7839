namespace FastNet;

/// <summary>
/// How raw inputs become what a network was trained on: x' = (x - Mean) / Scale, per feature (one mean and scale
/// per input float) or for all features alike (one of each). A predictor whose network carries one applies it to
/// every input, so callers pass raw measurements. ONNX writes it as a Sub and a Div in front of the first layer.
/// </summary>
public sealed class InputNormalization
{
    private readonly float[] _mean;
    private readonly float[] _scale;

    /// <summary>Creates a normalization from copies of <paramref name="mean"/> and <paramref name="scale"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ or are 0, a mean is not finite, or a scale is 0 or not finite.</exception>
    public InputNormalization(ReadOnlySpan<float> mean, ReadOnlySpan<float> scale)
    {
        if (mean.Length == 0) throw new ArgumentException("A normalization needs at least one mean and scale.", nameof(mean));
        Guard.SameLength(scale.Length, mean.Length, nameof(scale), nameof(mean));
        for (int i = 0; i < mean.Length; i++)
        {
            if (!float.IsFinite(mean[i])) throw new ArgumentException($"Mean {i} is {mean[i]}: means must be finite.", nameof(mean));
            if (!float.IsFinite(scale[i]) || scale[i] == 0f)
                throw new ArgumentException($"Scale {i} is {scale[i]}: scales must be finite and nonzero (x is divided by them).", nameof(scale));
        }

        _mean = mean.ToArray();
        _scale = scale.ToArray();
    }

    /// <summary>
    /// The standardization of <paramref name="features"/>-wide rows of <paramref name="data"/>: each feature's mean and
    /// population standard deviation over the rows (a feature that never varies gets scale 1).
    /// </summary>
    public static InputNormalization Standardize(ReadOnlySpan<float> data, int features)
    {
        Guard.Positive(features);
        if (data.Length == 0 || data.Length % features != 0)
            throw new ArgumentException($"'{nameof(data)}' has {data.Length} values: not a positive whole number of rows of {features}.", nameof(data));
        int rows = data.Length / features;
        var mean = new double[features];
        var variance = new double[features];
        for (int i = 0; i < data.Length; i++) mean[i % features] += data[i];
        for (int f = 0; f < features; f++) mean[f] /= rows;
        for (int i = 0; i < data.Length; i++) variance[i % features] += (data[i] - mean[i % features]) * (data[i] - mean[i % features]);
        var m = new float[features];
        var s = new float[features];
        for (int f = 0; f < features; f++)
        {
            m[f] = (float)mean[f];
            double std = Math.Sqrt(variance[f] / rows);
            s[f] = std > 0 ? (float)std : 1f;
        }

        return new InputNormalization(m, s);
    }

    /// <summary>The means subtracted: one per input feature, or one for all.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The scales divided by: one per input feature, or one for all.</summary>
    public IReadOnlyList<float> Scale => _scale;

    /// <summary>1 (the same for every feature) or the number of input features.</summary>
    public int Length => _mean.Length;

    /// <summary>y = (x - mean) / scale over whole rows of <paramref name="features"/> floats (x and y may be the same span).</summary>
    internal void Apply(ReadOnlySpan<float> x, Span<float> y, int features)
    {
        if (_mean.Length == 1)
        {
            float mean = _mean[0], scale = _scale[0];
            System.Numerics.Tensors.TensorPrimitives.Subtract(x, mean, y);
            System.Numerics.Tensors.TensorPrimitives.Divide(y[..x.Length], scale, y);
            return;
        }

        for (int row = 0; row < x.Length; row += features)
        {
            Span<float> yr = y.Slice(row, features);
            System.Numerics.Tensors.TensorPrimitives.Subtract(x.Slice(row, features), _mean, yr);
            System.Numerics.Tensors.TensorPrimitives.Divide(yr, _scale, yr);
        }
    }
}

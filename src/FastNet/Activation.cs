namespace FastNet;

/// <summary>An element-wise activation function applied after an affine map.</summary>
public enum Activation
{
    /// <summary>The identity: y = x.</summary>
    None = 0,

    /// <summary>Rectified linear unit: y = max(x, 0).</summary>
    Relu = 1,

    /// <summary>Logistic sigmoid: y = 1 / (1 + exp(-x)).</summary>
    Sigmoid = 2,

    /// <summary>Hyperbolic tangent: y = tanh(x).</summary>
    Tanh = 3,

    /// <summary>
    /// Leaky rectified linear unit: y = x for x &gt; 0, else <see cref="Kernels.Activations.LeakyReluSlope"/> * x
    /// (0.01, PyTorch's default negative_slope).
    /// </summary>
    LeakyRelu = 4,
}

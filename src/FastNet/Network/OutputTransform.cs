namespace FastNet;

/// <summary>
/// What a predictor applies to the network's last layer outputs before returning them from
/// <see cref="Inference.Predictor.Predict"/>: the form a model's users expect (an imported ONNX model that ends in
/// Softmax answers probabilities). Training never sees it: losses take the last layer's raw outputs (logits).
/// </summary>
public enum OutputTransform
{
    /// <summary>The last layer's outputs as they are.</summary>
    None = 0,

    /// <summary>Softmax over each output row: exp(x_j - max) / sum_k exp(x_k - max).</summary>
    Softmax = 1,

    /// <summary>Log-softmax over each output row: x_j - max - log(sum_k exp(x_k - max)).</summary>
    LogSoftmax = 2,
}

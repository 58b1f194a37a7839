namespace FastNet.Training;

/// <summary>The loss a <see cref="Trainer"/> minimises, computed on the network's last-layer output.</summary>
public enum Loss
{
    /// <summary>
    /// Softmax cross-entropy on logits (use a last layer without activation), averaged over the batch.
    /// Targets are class labels, or one-hot / probability rows.
    /// </summary>
    SoftmaxCrossEntropy,

    /// <summary>0.5 * sum (yhat - y)^2 per sample, averaged over the batch (the textbook convention).</summary>
    HalfSquaredError,

    /// <summary>sum (yhat - y)^2 over all elements divided by their count (PyTorch's MSELoss).</summary>
    MeanSquaredError,

    /// <summary>Binary cross-entropy on logits, averaged over all elements (targets in 0..1).</summary>
    BinaryCrossEntropy,
}

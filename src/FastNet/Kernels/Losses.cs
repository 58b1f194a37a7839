using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace FastNet.Kernels;

/// <summary>
/// Loss functions over a batch of row-major [rows x cols] predictions, each with its gradient
/// with respect to the predictions.
/// </summary>
/// <remarks>
/// Every function returns the loss and, when <c>gradient</c> is not empty, overwrites it with
/// dLoss/dPrediction (same shape as the predictions). Sums are accumulated in double. Pass an empty
/// gradient span to evaluate the loss only. The gradient must not overlap the predictions.
/// </remarks>
public static class Losses
{
    /// <summary>
    /// Mean over rows of -log softmax(z)[label]: log-sum-exp(z) - z[label], computed with the row maximum
    /// subtracted so logits of any finite size stay finite. Gradient: (softmax(z) - onehot(label)) / rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> gradient, int rows, int cols)
    {
        CheckShapes(logits, gradient, rows, cols);
        Guard.MinLength(labels.Length, rows, nameof(labels));
        bool withGradient = !gradient.IsEmpty;
        float inverseRows = rows == 0 ? 0f : 1f / rows;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)cols)
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} of row {r} is outside 0..{cols - 1}.");
            ReadOnlySpan<float> z = logits.Slice(r * cols, cols);
            // One fused sweep per row (class counts are small: a call per primitive would cost more than the math).
            float max = z[0];
            for (int j = 1; j < cols; j++) max = MathF.Max(max, z[j]);
            float sum = 0f;
            if (withGradient)
            {
                Span<float> g = gradient.Slice(r * cols, cols);
                for (int j = 0; j < cols; j++) sum += g[j] = MathF.Exp(z[j] - max);
                float scale = inverseRows / sum;   // softmax / rows
                for (int j = 0; j < cols; j++) g[j] *= scale;
                g[label] -= inverseRows;
            }
            else
            {
                for (int j = 0; j < cols; j++) sum += MathF.Exp(z[j] - max);
            }

            // sum >= 1 (the maximum contributes exp(0)), so the log is finite.
            total += max + Math.Log(sum) - z[label];
        }

        return rows == 0 ? 0f : (float)(total / rows);
    }

    /// <summary>
    /// Mean over rows of -sum_j t[j] * log softmax(z)[j] for target distributions t (one-hot rows included).
    /// Gradient: (softmax(z) * sum_j t[j] - t) / rows, which is (softmax(z) - t) / rows when t sums to 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        CheckShapes(logits, gradient, rows, cols);
        Guard.Matrix(targets.Length, rows, cols, nameof(targets));
        bool withGradient = !gradient.IsEmpty;
        float inverseRows = rows == 0 ? 0f : 1f / rows;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> z = logits.Slice(r * cols, cols);
            ReadOnlySpan<float> t = targets.Slice(r * cols, cols);
            float max = z[0];
            for (int j = 1; j < cols; j++) max = MathF.Max(max, z[j]);
            float sum = 0f, targetMass = 0f;
            Span<float> g = withGradient ? gradient.Slice(r * cols, cols) : default;
            for (int j = 0; j < cols; j++)
            {
                float e = MathF.Exp(z[j] - max);
                if (withGradient) g[j] = e;
                sum += e;
                targetMass += t[j];
            }

            double logSumExp = max + Math.Log(sum);
            for (int j = 0; j < cols; j++)
                if (t[j] != 0f) total += t[j] * (logSumExp - z[j]);   // 0 * log(0) counts as 0

            if (withGradient)
            {
                // The same arithmetic as the label overload when t is one-hot (targetMass == 1): same bits.
                float scale = inverseRows / sum * targetMass;
                for (int j = 0; j < cols; j++) g[j] = g[j] * scale - t[j] * inverseRows;
            }
        }

        return rows == 0 ? 0f : (float)(total / rows);
    }

    /// <summary>
    /// Half squared error averaged over the batch: (1 / rows) * sum_r 0.5 * ||yhat_r - y_r||^2 (the textbook
    /// convention of the seed exercises). Gradient: (yhat - y) / rows.
    /// </summary>
    public static float HalfSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        CheckShapes(predictions, gradient, rows, cols);
        Guard.Matrix(targets.Length, rows, cols, nameof(targets));
        double sumSquares = SquaredDifferences(predictions, targets, gradient, rows * cols, rows == 0 ? 0f : 1f / rows);
        return rows == 0 ? 0f : (float)(0.5 * sumSquares / rows);
    }

    /// <summary>
    /// Mean squared error over all elements: sum (yhat - y)^2 / (rows * cols). Gradient: 2 (yhat - y) / (rows * cols).
    /// </summary>
    public static float MeanSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        CheckShapes(predictions, gradient, rows, cols);
        Guard.Matrix(targets.Length, rows, cols, nameof(targets));
        long count = (long)rows * cols;
        double sumSquares = SquaredDifferences(predictions, targets, gradient, (int)count, count == 0 ? 0f : 2f / count);
        return count == 0 ? 0f : (float)(sumSquares / count);
    }

    /// <summary>
    /// Binary cross-entropy on logits, averaged over all elements:
    /// -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] = max(z, 0) - z t + log(1 + exp(-|z|)),
    /// the form that never overflows. Gradient: (sigmoid(z) - t) / (rows * cols).
    /// </summary>
    public static float BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> gradient, int rows, int cols)
    {
        CheckShapes(logits, gradient, rows, cols);
        Guard.Matrix(targets.Length, rows, cols, nameof(targets));
        int count = rows * cols;
        double total = 0;
        for (int i = 0; i < count; i++)
        {
            double z = logits[i], t = targets[i];
            total += Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));
        }

        if (!gradient.IsEmpty && count > 0)
        {
            Span<float> g = gradient[..count];
            TensorPrimitives.Sigmoid(logits[..count], g);
            TensorPrimitives.Subtract(g, targets[..count], g);
            TensorPrimitives.Multiply(g, 1f / count, g);
        }

        return count == 0 ? 0f : (float)(total / count);
    }

    /// <summary>Sum of (p - t)^2 in double; gradient (if any) = scale * (p - t).</summary>
    private static double SquaredDifferences(ReadOnlySpan<float> p, ReadOnlySpan<float> t, Span<float> gradient, int count, float scale)
    {
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            double d = (double)p[i] - t[i];
            sum += d * d;
        }

        if (!gradient.IsEmpty && count > 0)
        {
            Span<float> g = gradient[..count];
            TensorPrimitives.Subtract(p[..count], t[..count], g);
            TensorPrimitives.Multiply(g, scale, g);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private static void CheckShapes(ReadOnlySpan<float> predictions, Span<float> gradient, int rows, int cols,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(predictions))] string name = "")
    {
        Guard.Matrix(predictions.Length, rows, cols, name);
        if (gradient.IsEmpty) return;
        Guard.MinLength(gradient.Length, (long)rows * cols, nameof(gradient));
        if (gradient.Overlaps(predictions))
            throw new ArgumentException($"'{nameof(gradient)}' overlaps '{name}'; the gradient needs its own memory.", nameof(gradient));
    }
}

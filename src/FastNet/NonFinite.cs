using System.Numerics.Tensors;

namespace FastNet;

/// <summary>
/// Finds NaN and infinity in data before it reaches the arithmetic, so that bad data is reported as bad data
/// (naming the sample and the value) and never as a diverging learning rate or a confident answer.
/// </summary>
internal static class NonFinite
{
    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1 when every value is finite.</summary>
    /// <remarks>A vectorized scan (TensorPrimitives.IsFiniteAll) first; the element-wise search runs only when it fails.</remarks>
    public static int IndexOf(ReadOnlySpan<float> values)
    {
        if (TensorPrimitives.IsFiniteAll(values)) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> for <paramref name="name"/> when a row-major block of samples holds a
    /// non-finite value, naming the sample (<paramref name="firstSample"/> + row), the column and the value.
    /// </summary>
    /// <param name="values">Rows of <paramref name="width"/> values.</param>
    /// <param name="width">Values per sample.</param>
    /// <param name="name">The argument that holds the values.</param>
    /// <param name="what">What a column is: "feature", "target".</param>
    /// <param name="firstSample">Index of the first row among the caller's samples.</param>
    public static void ThrowIfAny(ReadOnlySpan<float> values, int width, string name, string what, int firstSample = 0)
    {
        int i = IndexOf(values);
        if (i < 0) return;
        throw new ArgumentException(
            $"'{name}' holds a non-finite value: sample {firstSample + i / width}, {what} {i % width} is {values[i]}. " +
            "The data must be finite (clean or impute NaN and infinity first); this is the data, not the learning rate.", name);
    }
}

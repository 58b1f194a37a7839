using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace FastNet.Kernels;

/// <summary>
/// Element-wise activation functions over spans, each forward beside its backward.
/// </summary>
/// <remarks>
/// Backward functions take the forward <em>output</em> y (not the input): every derivative here is a
/// function of y, so a layer keeps only its activations. <c>x</c> and <c>y</c> may be the same span
/// (in place); <c>dy</c> and <c>dx</c> may be the same span too. Lengths are checked before the
/// unchecked vector loops run.
/// </remarks>
public static class Activations
{
    /// <summary>The slope of <see cref="Activation.LeakyRelu"/> for negative inputs: 0.01, PyTorch's default.</summary>
    public const float LeakyReluSlope = 0.01f;

    /// <summary>y = act(x) for any <see cref="Activation"/>.</summary>
    public static void Forward(Activation activation, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (activation)
        {
            case Activation.None:
                Guard.MinLength(y.Length, x.Length, nameof(y));
                if (!x.Overlaps(y, out int offset) || offset != 0) x.CopyTo(y);
                break;
            case Activation.Relu: Relu(x, y); break;
            case Activation.Sigmoid: Sigmoid(x, y); break;
            case Activation.Tanh: Tanh(x, y); break;
            case Activation.LeakyRelu: LeakyRelu(x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    /// <summary>dx = dy * act'(x), written in terms of y = act(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Backward(Activation activation, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        switch (activation)
        {
            case Activation.None:
                CheckBackward(y, dy, dx);
                if (!dy.Overlaps(dx, out int offset) || offset != 0) dy.CopyTo(dx);
                break;
            case Activation.Relu: ReluBackward(y, dy, dx); break;
            case Activation.Sigmoid: SigmoidBackward(y, dy, dx); break;
            case Activation.Tanh: TanhBackward(y, dy, dx); break;
            case Activation.LeakyRelu: LeakyReluBackward(y, dy, dx); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    /// <summary>y = max(x, 0).</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.MinLength(y.Length, x.Length, nameof(y));
        TensorPrimitives.Max(x, 0f, y);
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (the subgradient at 0 is taken as 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(y, dy, dx);
        ref float yr = ref MemoryMarshal.GetReference(y), dyr = ref MemoryMarshal.GetReference(dy), dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var positive = Vector.GreaterThan(Vector.LoadUnsafe(ref yr, (nuint)i), Vector<float>.Zero);
                Vector.ConditionalSelect(positive, Vector.LoadUnsafe(ref dyr, (nuint)i), Vector<float>.Zero).StoreUnsafe(ref dxr, (nuint)i);
            }
        }

        for (; i < y.Length; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }

    /// <summary>y = 1 / (1 + exp(-x)); finite for every finite x (0 and 1 at the extremes).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.MinLength(y.Length, x.Length, nameof(y));
        TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary>dx = dy * y * (1 - y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(y, dy, dx);
        ref float yr = ref MemoryMarshal.GetReference(y), dyr = ref MemoryMarshal.GetReference(dy), dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var yv = Vector.LoadUnsafe(ref yr, (nuint)i);
                (Vector.LoadUnsafe(ref dyr, (nuint)i) * yv * (Vector<float>.One - yv)).StoreUnsafe(ref dxr, (nuint)i);
            }
        }

        for (; i < y.Length; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
    }

    /// <summary>y = tanh(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.MinLength(y.Length, x.Length, nameof(y));
        TensorPrimitives.Tanh(x, y);
    }

    /// <summary>dx = dy * (1 - y^2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(y, dy, dx);
        ref float yr = ref MemoryMarshal.GetReference(y), dyr = ref MemoryMarshal.GetReference(dy), dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var yv = Vector.LoadUnsafe(ref yr, (nuint)i);
                (Vector.LoadUnsafe(ref dyr, (nuint)i) * (Vector<float>.One - yv * yv)).StoreUnsafe(ref dxr, (nuint)i);
            }
        }

        for (; i < y.Length; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
    }

    /// <summary>y = x for x &gt; 0, else <see cref="LeakyReluSlope"/> * x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void LeakyRelu(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.MinLength(y.Length, x.Length, nameof(y));
        ref float xr = ref MemoryMarshal.GetReference(x), yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var slope = new Vector<float>(LeakyReluSlope);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = Vector.LoadUnsafe(ref xr, (nuint)i);
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * slope).StoreUnsafe(ref yr, (nuint)i);
            }
        }

        for (; i < x.Length; i++) y[i] = x[i] > 0f ? x[i] : LeakyReluSlope * x[i];
    }

    /// <summary>dx = dy where y &gt; 0, else <see cref="LeakyReluSlope"/> * dy (y has the sign of x; at 0 the left slope is taken).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void LeakyReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckBackward(y, dy, dx);
        ref float yr = ref MemoryMarshal.GetReference(y), dyr = ref MemoryMarshal.GetReference(dy), dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var slope = new Vector<float>(LeakyReluSlope);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var d = Vector.LoadUnsafe(ref dyr, (nuint)i);
                Vector.ConditionalSelect(Vector.GreaterThan(Vector.LoadUnsafe(ref yr, (nuint)i), Vector<float>.Zero), d, d * slope).StoreUnsafe(ref dxr, (nuint)i);
            }
        }

        for (; i < y.Length; i++) dx[i] = y[i] > 0f ? dy[i] : LeakyReluSlope * dy[i];
    }

    private static void CheckBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Guard.SameLength(dy.Length, y.Length, nameof(dy), nameof(y));
        Guard.MinLength(dx.Length, y.Length, nameof(dx));
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastNet.Training;

/// <summary>
/// The Adam update shared by <see cref="Adam"/> (weight decay as an L2 term in the gradient) and
/// <see cref="AdamW"/> (decoupled weight decay: the parameters shrink before the step). Per parameter:
/// p *= shrink;  g = grad + l2 * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
/// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)   (PyTorch's order of operations).
/// A shrink of 1 and an l2 of 0 change no bits (p * 1 = p, g + 0 * p = g for finite p).
/// </summary>
internal static class AdamUpdate
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public static void Apply(Span<float> parameters, ReadOnlySpan<float> gradients, float[] m, float[] v, long step,
        float learningRate, float beta1, float beta2, float epsilon, float l2, float shrink)
    {
        double t = step;
        float correction1 = (float)(1 - Math.Pow(beta1, t));
        float sqrtCorrection2 = (float)Math.Sqrt(1 - Math.Pow(beta2, t));
        float lr = learningRate, b1 = beta1, b2 = beta2;
        bool decoupled = shrink != 1f;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // The scalar loop's operations in the same order, a vector at a time (so the same bits).
            var vb1 = new Vector<float>(b1);
            var vb2 = new Vector<float>(b2);
            var vOneMinusB1 = new Vector<float>(1 - b1);
            var vOneMinusB2 = new Vector<float>(1 - b2);
            var vDecay = new Vector<float>(l2);
            var vShrink = new Vector<float>(shrink);
            var vStep = new Vector<float>(lr / correction1);
            var vSqrtCorrection2 = new Vector<float>(sqrtCorrection2);
            var vEpsilon = new Vector<float>(epsilon);
            for (; i <= parameters.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var p = new Vector<float>(parameters[i..]);
                if (decoupled) p *= vShrink;
                Vector<float> g = new Vector<float>(gradients[i..]) + vDecay * p;
                Vector<float> mi = vb1 * new Vector<float>(m, i) + vOneMinusB1 * g;
                Vector<float> vi = vb2 * new Vector<float>(v, i) + vOneMinusB2 * g * g;
                mi.CopyTo(m, i);
                vi.CopyTo(v, i);
                (p - vStep * mi / (Vector.SquareRoot(vi) / vSqrtCorrection2 + vEpsilon)).CopyTo(parameters[i..]);
            }
        }

        for (; i < parameters.Length; i++)
        {
            float p = decoupled ? parameters[i] * shrink : parameters[i];
            float g = gradients[i] + l2 * p;
            float mi = m[i] = b1 * m[i] + (1 - b1) * g;
            float vi = v[i] = b2 * v[i] + (1 - b2) * g * g;
            // PyTorch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; step = lr / (1 - b1^t).
            parameters[i] = p - lr / correction1 * mi / (MathF.Sqrt(vi) / sqrtCorrection2 + epsilon);
        }
    }
}

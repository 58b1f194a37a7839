using System.Runtime.CompilerServices;

namespace FastNet.Kernels;

/// <summary>
/// A dense layer's weights W [k x n] quantized to int8, symmetric per output column:
/// W[i, j] ~ <see cref="Scales"/>[j] * q[i, j] with q in [-127, 127] and Scales[j] = max_i |W[i, j]| / 127, packed for
/// <see cref="Int8Gemv"/>.
/// </summary>
/// <remarks>
/// Layout (<see cref="Packed"/>): the columns are cut into panels of <see cref="PanelColumns"/>; each panel is stored
/// whole, one "quad row" after another: for inputs 4r .. 4r+3 and each of the panel's 64 columns, its 4 weights in
/// consecutive bytes. One 32-bit lane then holds the 4 weights a u8 x s8 dot-product instruction (vpdpbusd, or
/// vpmaddubsw + vpmaddwd) multiplies with 4 consecutive inputs, and a panel is read front to back. k is padded to a
/// multiple of 4 and n to a multiple of 64 with zero weights, so padding adds nothing to any sum.
/// </remarks>
internal sealed class Int8Matrix
{
    /// <summary>Columns per panel: 8 vectors of 8 int32 lanes (or 4 of 16).</summary>
    public const int PanelColumns = 64;

    /// <summary>Bytes of one quad row of a panel: 64 columns x 4 inputs.</summary>
    public const int QuadRowBytes = PanelColumns * 4;

    /// <summary>
    /// The largest k whose int32 sums cannot overflow: every term |q_x - z| * |q_w| is at most 127 * 127, and
    /// 133,143 such terms still fit in 2^31 - 1. Wider layers are refused.
    /// </summary>
    public const int MaxInputs = 131_072;

    private readonly byte[] _storage;   // pinned; the packed bytes start at _offset, on a cache-line boundary
    private readonly int _offset;

    private Int8Matrix(int k, int n, float[] scales, int[] columnSums)
    {
        Inputs = k;
        Outputs = n;
        Scales = scales;
        ColumnSums = columnSums;
        // Aligned so that no 32- or 64-byte load of a quad row straddles two cache lines (managed arrays are only
        // 8-byte aligned; a split load costs about as much as two).
        _storage = GC.AllocateArray<byte>(PackedLength + GemmBlocking.Alignment - 1, pinned: true);
        _offset = AlignmentOffset(_storage);
    }

    private static unsafe int AlignmentOffset(byte[] pinned)
    {
        int misalignment = (int)((nint)Unsafe.AsPointer(ref pinned[0]) % GemmBlocking.Alignment);
        return misalignment == 0 ? 0 : GemmBlocking.Alignment - misalignment;
    }

    /// <summary>Bytes of the packed weights: whole panels of whole quad rows.</summary>
    private int PackedLength => PaddedOutputs / PanelColumns * QuadRows * QuadRowBytes;

    /// <summary>k: rows of W, the layer's inputs.</summary>
    public int Inputs { get; }

    /// <summary>n: columns of W, the layer's outputs.</summary>
    public int Outputs { get; }

    /// <summary>Quad rows: k rounded up to a multiple of 4, over 4.</summary>
    public int QuadRows => (Inputs + 3) / 4;

    /// <summary>n rounded up to whole panels.</summary>
    public int PaddedOutputs => (Outputs + PanelColumns - 1) / PanelColumns * PanelColumns;

    /// <summary>Per column j, the float32 value of one step of q[., j].</summary>
    public float[] Scales { get; }

    /// <summary>The int8 weights (stored as bytes) in the panel layout described on the class, from a cache-line boundary.</summary>
    public Span<byte> Packed => _storage.AsSpan(_offset, PackedLength);

    /// <summary>Per column j, sum_i q[i, j]: what a zero point z on the inputs subtracts, z * ColumnSums[j].</summary>
    public int[] ColumnSums { get; }

    /// <summary>Quantizes W [k x n] row-major: per column, scale = max |W| / 127 (1 for an all-zero column), q = round(W / scale), ties to even.</summary>
    public static Int8Matrix Quantize(ReadOnlySpan<float> weights, int k, int n)
    {
        CheckShape(k, n);
        Guard.SameLength(weights.Length, k * n, nameof(weights), "k x n");
        var scales = new float[n];
        for (int j = 0; j < n; j++)
        {
            float largest = 0f;
            for (int i = 0; i < k; i++) largest = MathF.Max(largest, MathF.Abs(weights[i * n + j]));
            if (!float.IsFinite(largest))
                throw new ArgumentException($"Column {j} of the weights holds a value that is not finite: it cannot be quantized.", nameof(weights));
            scales[j] = largest > 0f ? largest / 127f : 1f;
        }

        var values = new sbyte[k * n];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++)
                values[i * n + j] = (sbyte)Math.Clamp(MathF.Round(weights[i * n + j] / scales[j]), -127f, 127f);
        return FromValues(values, scales, k, n);
    }

    /// <summary>A matrix from its int8 values q [k x n] row-major (each in [-127, 127]) and per-column scales: what a model file stores.</summary>
    public static Int8Matrix FromValues(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int k, int n)
    {
        CheckShape(k, n);
        Guard.SameLength(values.Length, k * n, nameof(values), "k x n");
        Guard.SameLength(scales.Length, n, nameof(scales), "n");
        for (int j = 0; j < n; j++)
        {
            if (!(float.IsFinite(scales[j]) && scales[j] > 0f))
                throw new ArgumentException($"Scale {j} is {scales[j]}: scales must be positive and finite.", nameof(scales));
        }

        var matrix = new Int8Matrix(k, n, scales.ToArray(), new int[n]);
        Span<byte> packed = matrix.Packed;
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < n; j++)
            {
                sbyte q = values[i * n + j];
                if (q == sbyte.MinValue)
                    throw new ArgumentException($"Weight ({i}, {j}) is -128: int8 weights are symmetric, in [-127, 127].", nameof(values));
                packed[Offset(i, j, matrix.QuadRows)] = (byte)q;
                matrix.ColumnSums[j] += q;
            }
        }

        return matrix;
    }

    /// <summary>q[i, j], the int8 value of weight (i, j).</summary>
    public sbyte Value(int i, int j) => (sbyte)Packed[Offset(i, j, QuadRows)];

    /// <summary>Where weight (i, j) lies in <see cref="Packed"/>: its panel, its quad row in the panel, its column, its place in the quad.</summary>
    private static int Offset(int i, int j, int quadRows) =>
        (j / PanelColumns * quadRows + i / 4) * QuadRowBytes + j % PanelColumns * 4 + i % 4;

    private static void CheckShape(int k, int n)
    {
        Guard.Positive(k);
        Guard.Positive(n);
        if (k > MaxInputs)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"Int8 layers take at most {MaxInputs:N0} inputs: more could overflow the int32 sums.");
    }
}

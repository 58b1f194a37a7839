namespace FastNet.Kernels;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose
{
    /// <summary>op(X) = X.</summary>
    None = 0,

    /// <summary>op(X) = X<sup>T</sup>.</summary>
    Transposed = 1,
}

namespace FastNet.Onnx;

/// <summary>
/// ONNX stacks a GRU's gates z, r, h; FastNet (like PyTorch) r, z, n. Converting swaps the first two blocks of
/// rows, which is its own inverse: the same call converts either way, and exactly (a permutation).
/// </summary>
internal static class GruGateOrder
{
    /// <summary><paramref name="gates"/> ([3 x hidden] rows of <paramref name="width"/>) with the first two gate blocks swapped.</summary>
    public static float[] SwapFirstTwo(ReadOnlySpan<float> gates, int hidden, int width)
    {
        int block = hidden * width;
        var result = new float[3 * block];
        gates.Slice(block, block).CopyTo(result);
        gates[..block].CopyTo(result.AsSpan(block));
        gates.Slice(2 * block, block).CopyTo(result.AsSpan(2 * block));
        return result;
    }
}

namespace FastNet.Kernels;

/// <summary>
/// Where a micro-kernel reads its A panel: element (r, p) is <c>RowR[DepthOffsets[p]]</c>. Rows and depth steps each
/// have any layout: a packed panel (rows 1 apart, depth steps Mr apart), a row-major A in place (rows lda apart,
/// depth steps 1), a transposed A in place (rows 1 apart, depth steps lda), and rows gathered from anywhere on either
/// side (a mini-batch where its samples lie). Rows beyond the kernel's row count are never read.
/// </summary>
internal unsafe struct APanel
{
    public float* Row0, Row1, Row2, Row3, Row4, Row5;
    public nint* DepthOffsets;

    /// <summary>Rows <paramref name="rowStride"/> apart from <paramref name="first"/>.</summary>
    public static APanel Strided(float* first, nint rowStride, nint* depthOffsets) => new()
    {
        Row0 = first, Row1 = first + rowStride, Row2 = first + 2 * rowStride,
        Row3 = first + 3 * rowStride, Row4 = first + 4 * rowStride, Row5 = first + 5 * rowStride,
        DepthOffsets = depthOffsets,
    };

    /// <summary>Rows <c>rows[0 .. count-1]</c> of a row-major matrix (row r at <c>a + rows[r] * lda + column</c>).</summary>
    public static APanel Gathered(float* a, nint lda, int* rows, int count, int column, nint* depthOffsets)
    {
        // Rows past count repeat the first: valid addresses, never read.
        float* Row(int r) => a + (nint)rows[r < count ? r : 0] * lda + column;
        return new APanel { Row0 = Row(0), Row1 = Row(1), Row2 = Row(2), Row3 = Row(3), Row4 = Row(4), Row5 = Row(5), DepthOffsets = depthOffsets };
    }
}

using FastNet.Kernels;

namespace FastNet.Tests.Kernels;

/// <summary>
/// How the GEMM cuts its work: blocks of M and N (equal, on the tile grid) and the thread grid (the fewest bytes from
/// beyond L2 for the largest rectangle). Every expected value is worked by hand in the comments.
/// </summary>
public sealed class GemmSplitTests
{
    [Theory]
    [InlineData(512, 384, 64, 256)]      // two blocks of 4 panels, not 6 + 2
    [InlineData(1024, 384, 64, 384)]     // 16 panels in 3 blocks: 6, 6, 4
    [InlineData(1024, 192, 16, 176)]     // 64 panels in 6 blocks: 11 each, the last 9
    [InlineData(100, 384, 64, 128)]      // one block, whole panels
    [InlineData(1027, 1020, 6, 516)]     // 172 row panels in 2 blocks of 86
    [InlineData(967, 1020, 6, 972)]      // 162 row panels in one block
    [InlineData(5, 6, 6, 6)]
    [InlineData(64, 8, 16, 16)]          // a block narrower than one step still takes one
    [InlineData(0, 384, 64, 64)]         // never 0: loops step by it
    public void BlocksAreEqualOnTheTileGrid(int extent, int maxBlock, int step, int block)
        => Assert.Equal(block, GemmBlocking.EvenBlock(extent, maxBlock, step));

    /// <summary>
    /// Cost of a grid = the largest rectangle's rows x its column blocks (A read once per block of NB columns) + its
    /// columns x its row blocks (B packed once per block of MB packed rows; once where MB is 0).
    /// </summary>
    [Theory]
    // 1024^3 on four threads, AVX-512 tiles (171 x 16 of 6 x 64), NB 384: 1 x 4 is 1026 x 256 (1026 + 256 = 1282),
    // 2 x 2 is 516 x 512 (516 * 2 + 512 = 1544), 4 x 1 is 258 x 1024 (258 * 3 + 1024 = 1798).
    [InlineData(4, 171, 16, 6, 64, 384, 0, 1, 4)]
    // The same with NB 1024 (a 2 MiB L2 at a shallower KC): 2 x 2 costs 516 + 512 = 1028, less than 1282.
    [InlineData(4, 171, 16, 6, 64, 1024, 0, 2, 2)]
    // Transposed A packed in blocks of MB 1020, two threads: 1 x 2 is 1026 x 512 (1026 * 2 + 512 * 2 = 3076),
    // 2 x 1 is 516 x 1024 (516 * 3 + 1024 = 2572).
    [InlineData(2, 171, 16, 6, 64, 384, 1020, 2, 1)]
    // ... and with B packed once (MB 0): 1 x 2 costs 1026 * 2 + 512 = 2564, less than 2572.
    [InlineData(2, 171, 16, 6, 64, 384, 0, 1, 2)]
    // Three threads: the grids of three rectangles are 1 x 3 (1026 x 384: 1026 + 384) and 3 x 1 (342 x 1024: 342 * 3 + 1024).
    [InlineData(3, 171, 16, 6, 64, 384, 0, 1, 3)]
    // More rectangles first: eight threads but 2 x 1 tiles give two rectangles.
    [InlineData(8, 2, 1, 6, 16, 192, 0, 2, 1)]
    // AVX2 tiles on a Zen 3 (NB 192), 16 threads, 1024^3 (171 x 64 tiles of 6 x 16): 2 x 8 is 516 x 128 (516 + 128 = 644),
    // 4 x 4 is 258 x 256 (258 * 2 + 256 = 772), 1 x 16 is 1026 x 64 (1090), 8 x 2 is 132 x 512 (132 * 3 + 512 = 908).
    [InlineData(16, 171, 64, 6, 16, 192, 0, 2, 8)]
    public void TheGridMovesTheLeastData(int tasks, int tileRows, int tileCols, int mr, int nr, int nb, int mb, int rows, int cols)
        => Assert.Equal((rows, cols), GemmParallel<PortableKernel>.ChooseGrid(tasks, tileRows, tileCols, mr, nr, nb, mb));
}

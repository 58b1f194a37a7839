namespace FastNet.Tests;

/// <summary>Seeded random test data.</summary>
internal static class TestData
{
    /// <summary>
    /// Bytes allocated while <paramref name="action"/> runs, by the calling thread (plus <paramref name="otherThreads"/>,
    /// a counter of other threads' bytes): the fewest over up to ten runs, stopping at the first that allocated nothing.
    /// </summary>
    /// <remarks>
    /// Why not one window: with other test classes running in parallel, GC.GetAllocatedBytesForCurrentThread now and
    /// then jumps by most of an 8 KB allocation quantum (7-8 KB, or a few hundred bytes) that the measured code did not
    /// allocate: the runtime retires the thread's allocation context. Seen about once in five runs of the kernel and
    /// GRU tests on the portable path, before and after this session's changes, with and without tiered compilation.
    /// An allocation made by every call shows in every run, so the smallest figure still catches it. Five runs were
    /// not always enough: once in about ten full-suite runs (right after a build, the machine busy) two FP32 predictor
    /// tests saw bytes in all five.
    /// </remarks>
    public static long AllocatedBytes(Action action, Func<long>? otherThreads = null)
    {
        long fewest = long.MaxValue;
        for (int attempt = 0; attempt < 10 && fewest != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread() + (otherThreads?.Invoke() ?? 0);
            action();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() + (otherThreads?.Invoke() ?? 0) - before);
        }

        return fewest;
    }

    public static float[] Uniform(Random rng, int length, float low = -1f, float high = 1f)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = low + (float)rng.NextDouble() * (high - low);
        return x;
    }
}

/// <summary>Typed access to a network's layers in tests.</summary>
internal static class NetworkTestExtensions
{
    public static DenseLayer Dense(this Network network, int index) => (DenseLayer)network.Layers[index];
}

namespace FastNet.Tests;

/// <summary>The measuring helpers the allocation tests rely on must be able to fail.</summary>
public class TestDataTests
{
    [Fact]
    public void AllocatedBytesSeesAnAllocationMadeOnEveryRun()
    {
        object? keep = null;
        Assert.True(TestData.AllocatedBytes(() => keep = new byte[1000]) >= 1000);
        Assert.NotNull(keep);
        long workerBytes = 0;
        Assert.True(TestData.AllocatedBytes(() => workerBytes += 64, () => workerBytes) >= 64);   // other threads' counter
        Assert.Equal(0, TestData.AllocatedBytes(() => { }));
    }
}

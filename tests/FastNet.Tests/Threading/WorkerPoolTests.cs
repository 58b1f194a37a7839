using FastNet.Kernels;
using FastNet.Threading;

namespace FastNet.Tests.Threading;

public class WorkerPoolTests
{
    private sealed class CountingJob(int failAt = -1) : IParallelJob
    {
        public int[] Runs { get; } = new int[64];

        public void Execute(int task)
        {
            Interlocked.Increment(ref Runs[task]);
            if (task == failAt) throw new InvalidOperationException($"task {task} failed");
        }
    }

    [Fact]
    public void RunsEveryTaskExactlyOnce()
    {
        for (int round = 0; round < 200; round++)
        {
            var job = new CountingJob();
            int tasks = 1 + round % 17;
            WorkerPool.Shared.Run(job, tasks);
            for (int t = 0; t < job.Runs.Length; t++) Assert.Equal(t < tasks ? 1 : 0, job.Runs[t]);
        }
    }

    [Fact]
    public void RethrowsATasksExceptionAndKeepsWorkingEvenWhenBusy()
    {
        // Busy (another caller holds the pool): the tasks run inline under the same contract.
        var busy = new CountingJob(failAt: 2);
        var holder = new BlockingJob();
        var thread = new Thread(() => WorkerPool.Shared.Run(holder, 2));
        thread.Start();
        holder.Started.Wait();
        Assert.Equal("task 2 failed", Assert.Throws<InvalidOperationException>(() => WorkerPool.Shared.Run(busy, 5)).Message);
        Assert.All(busy.Runs.Take(5), r => Assert.Equal(1, r));
        holder.Release.Set();
        thread.Join();
    }

    private sealed class BlockingJob : IParallelJob
    {
        public ManualResetEventSlim Started { get; } = new();
        public ManualResetEventSlim Release { get; } = new();

        public void Execute(int task)
        {
            Started.Set();
            Release.Wait();
        }
    }

    [Fact]
    public void RethrowsATasksExceptionAndKeepsWorking()
    {
        var failing = new CountingJob(failAt: 3);
        var e = Assert.Throws<InvalidOperationException>(() => WorkerPool.Shared.Run(failing, 8));
        Assert.Equal("task 3 failed", e.Message);
        Assert.All(failing.Runs.Take(8), r => Assert.Equal(1, r));   // the other tasks still ran

        var next = new CountingJob();
        WorkerPool.Shared.Run(next, 8);
        Assert.All(next.Runs.Take(8), r => Assert.Equal(1, r));
    }

    [Fact]
    public void ConcurrentGemmCallersGetTheSingleThreadedBits()
    {
        const int m = 150, n = 170, k = 300;
        var rng = new Random(11);
        float[] a = TestData.Uniform(rng, m * k), b = TestData.Uniform(rng, k * n), expected = new float[m * n];
        Gemm.Multiply(a, b, expected, m, n, k, maxThreads: 1);
        var failures = 0;
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var c = new float[m * n];
            for (int i = 0; i < 30; i++)
            {
                Gemm.Multiply(a, b, c, m, n, k, maxThreads: 2);
                if (!c.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref failures);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, failures);
    }
}

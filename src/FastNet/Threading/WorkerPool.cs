using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace FastNet.Threading;

/// <summary>A unit of parallel work: <see cref="Execute"/> runs one numbered task of a job.</summary>
internal interface IParallelJob
{
    void Execute(int task);
}

/// <summary>
/// A fork-join pool of dedicated worker threads that runs a job's tasks without allocating.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="Parallel.For(int, int, Action{int})"/>: it allocates on every call (its task,
/// closures and state, a few hundred bytes), and a sleeping thread-pool worker takes tens of
/// microseconds to wake, which is the whole budget of a small GEMM. Here workers spin briefly after
/// each job (training issues GEMMs back to back), then block on their own monitor.
/// </para>
/// <para>
/// One job runs at a time. A caller that finds the pool busy (another thread's job, or a task of a job
/// calling in again) runs its tasks itself: still correct, since results never depend on which thread
/// runs a task.
/// </para>
/// </remarks>
internal sealed class WorkerPool
{
    /// <summary>
    /// How many times an idle worker polls for its next ticket, Thread.SpinWait(20) apart, before it blocks: about 2 ms
    /// (a SpinWait(20) took about 1 us on Zen 5), longer than the gaps between a training step's GEMMs. Polling 20 times
    /// as often changed no epoch (bench/results/zen5-avx512/worker-poll.md).
    /// </summary>
    private const int SpinIterations = 2000;

    private static readonly Lazy<WorkerPool> s_shared = new(() => new WorkerPool(Environment.ProcessorCount - 1));

    private readonly object[] _wake;   // worker i blocks on _wake[i] (Monitor.Wait) once it stops spinning
    private readonly int[] _ticket;   // written by the caller: the job generation worker i is asked to help with
    private readonly int[] _done;     // written by worker i: the last generation it finished helping with
    private readonly long[] _allocated;   // bytes worker i had allocated when it last finished a job
    private readonly object _gate = new();

    // The current job. Written before the tickets are handed out and stable until every helper is done.
    private IParallelJob? _job;
    private int _taskCount;
    private int _nextTask;
    private int _generation;
    private ExceptionDispatchInfo? _failure;

    private WorkerPool(int workers)
    {
        workers = Math.Max(0, workers);
        _wake = new object[workers];
        _ticket = new int[workers];
        _done = new int[workers];
        _allocated = new long[workers];
        for (int i = 0; i < workers; i++)
        {
            _wake[i] = new object();
            int index = i;
            new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"FastNet worker {i + 1}" }.Start();
        }
    }

    /// <summary>The process-wide pool: one worker per core besides the caller's.</summary>
    public static WorkerPool Shared => s_shared.Value;

    /// <summary>
    /// Runs tasks 0 .. <paramref name="taskCount"/>-1 of <paramref name="job"/> on the caller and up to
    /// <paramref name="taskCount"/> - 1 workers, and returns when all are done. The first exception a task
    /// throws is rethrown here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    public void Run(IParallelJob job, int taskCount)
    {
        if (taskCount <= 1 || _wake.Length == 0 || !Monitor.TryEnter(_gate))
        {
            RunInline(job, taskCount);
            return;
        }

        try
        {
            _job = job;
            _taskCount = taskCount;
            _failure = null;
            _nextTask = 0;
            int generation = ++_generation;
            int helpers = Math.Min(taskCount - 1, _wake.Length);
            for (int i = 0; i < helpers; i++)
            {
                Volatile.Write(ref _ticket[i], generation);   // release: the job fields above are visible first
                lock (_wake[i]) Monitor.Pulse(_wake[i]);      // the worker re-checks its ticket under this lock: no lost wake-up
            }

            RunTasks();
            var spin = new SpinWait();
            for (int i = 0; i < helpers; i++)
                while (Volatile.Read(ref _done[i]) != generation) spin.SpinOnce(sleep1Threshold: -1);

            _job = null;
            _failure?.Throw();
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>
    /// Bytes the workers had allocated as of their last finished job, summed: lets tests prove that jobs
    /// allocate nothing on any thread without counting the test host's own threads.
    /// </summary>
    internal long WorkerAllocatedBytes()
    {
        long sum = 0;
        for (int i = 0; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
        return sum;
    }

    /// <summary>All tasks on the caller, with the same contract: every task runs, the first exception is rethrown.</summary>
    private static void RunInline(IParallelJob job, int taskCount)
    {
        ExceptionDispatchInfo? failure = null;
        for (int t = 0; t < taskCount; t++)
        {
            try
            {
                job.Execute(t);
            }
            catch (Exception e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e);
            }
        }

        failure?.Throw();
    }

    /// <summary>Claims and runs tasks of the current job until none are left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void RunTasks()
    {
        IParallelJob job = _job!;
        int count = _taskCount;
        int task;
        while ((task = Interlocked.Increment(ref _nextTask) - 1) < count)
        {
            try
            {
                job.Execute(task);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimized from the first call (see Gemm)
    private void WorkerLoop(int index)
    {
        object wake = _wake[index];
        int seen = 0;
        while (true)
        {
            int ticket;
            int spins = 0;
            while ((ticket = Volatile.Read(ref _ticket[index])) == seen)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(20);
                }
                else
                {
                    lock (wake)
                    {
                        while (Volatile.Read(ref _ticket[index]) == seen) Monitor.Wait(wake);
                    }

                    spins = 0;
                }
            }

            seen = ticket;
            RunTasks();   // may find every task already claimed: then it just reports done
            Volatile.Write(ref _allocated[index], GC.GetAllocatedBytesForCurrentThread());
            Volatile.Write(ref _done[index], ticket);
        }
    }
}

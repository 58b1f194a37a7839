using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>
/// One GEMM shape (a WORKLOADS one by name, or any MxKxN) called a given number of times on one thread, FastNet or OpenBLAS, after one call that
/// compiles the code and makes the pack buffers: gemm-calls SHAPE CALLS [openblas]. Nothing is timed. It is what
/// bench/cache-sim.sh runs under a cache simulator: the counts of a run with CALLS = 0 taken from one with CALLS = n are
/// the n calls' own.
/// </summary>
internal static class GemmCallsHarness
{
    public static void Run(string[] args)
    {
        GemmShape shape = args.Length > 1 ? GemmShape.Parse(args[1]) : throw new ArgumentException("gemm-calls SHAPE CALLS [openblas]");
        int calls = args.Length > 2 && int.TryParse(args[2], out int n) && n >= 0 ? n : throw new ArgumentException("gemm-calls: CALLS must be a whole number, 0 or more.");
        bool openBlas = args.Length > 3 && args[3] == "openblas";
        if (openBlas && !OpenBlas.IsAvailable) throw new InvalidOperationException("gemm-calls: OpenBLAS (libopenblas.so.0) is not installed.");
        if (openBlas) OpenBlas.SetNumThreads(1);

        var operands = new GemmOperands(shape);
        for (int i = 0; i <= calls; i++)
        {
            if (openBlas) QuickHarness.CallOpenBlas(operands, shape);
            else Gemm.Multiply(operands.A, operands.B, operands.C, shape.M, shape.N, shape.K, shape.TransA, shape.TransB, maxThreads: 1);
        }

        // What ran, on stderr so that a simulator's own output on stdout stays apart.
        Console.Error.WriteLine(openBlas ? $"OpenBLAS {OpenBlas.CoreName}" : GemmConfiguration.Current.ToString());
    }
}

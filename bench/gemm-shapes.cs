#:project ../src/FastNet/FastNet.csproj
// Any GEMM shape under a Stopwatch, for before/after runs on shapes the quick harness does not list (a workload's
// every product, say): GFLOP/s, the median of many calls after a warm-up, through the public Gemm.Multiply alone, so
// that the same file builds against an older revision's src/FastNet (copy it into that revision's bench/).
//   dotnet run -c Release bench/gemm-shapes.cs -- THREADS SHAPE [SHAPE...]
// SHAPE is MxKxN (C[M x N] = A[M x K] B[K x N], row-major), optionally followed by ",tA" (A stored K x M), ",tB"
// (B stored N x K) and ",beta1" (C accumulated: C = AB + C), e.g. 1024x256x1024,tA,beta1 for T2's weight gradient.
using System.Diagnostics;
using FastNet.Kernels;

if (args.Length < 2 || !int.TryParse(args[0], out int threads) || threads < 1)
{
    Console.Error.WriteLine("usage: gemm-shapes.cs THREADS MxKxN[,tA][,tB][,beta1] ...");
    return 2;
}

foreach (string shape in args[1..])
{
    string[] parts = shape.Split(',');
    int[] mkn = Array.ConvertAll(parts[0].Split('x'), int.Parse);
    if (mkn.Length != 3) throw new ArgumentException($"'{shape}': the size is MxKxN.");
    (int m, int k, int n) = (mkn[0], mkn[1], mkn[2]);
    Transpose transA = parts.Contains("tA") ? Transpose.Transposed : Transpose.None;
    Transpose transB = parts.Contains("tB") ? Transpose.Transposed : Transpose.None;
    float beta = parts.Contains("beta1") ? 1f : 0f;

    var rng = new Random(1);
    float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
    foreach (float[] x in new[] { a, b }) for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
    void Call() => Gemm.Multiply(a, b, c, m, n, k, transA, transB, alpha: 1e-6f, beta: beta, maxThreads: threads);

    long warm = Stopwatch.GetTimestamp();   // past tiered compilation (it installs optimized code after ~100 ms)
    while (Stopwatch.GetElapsedTime(warm).TotalMilliseconds < 300) Call();
    double flops = 2.0 * m * n * k;
    int repetitions = (int)Math.Clamp(1e10 / flops, 11, 2001);
    var seconds = new double[repetitions];
    for (int r = 0; r < repetitions; r++)
    {
        long start = Stopwatch.GetTimestamp();
        Call();
        seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    Array.Sort(seconds);
    Console.WriteLine($"{shape,-26} {threads,2} thread(s): {flops / seconds[repetitions / 2] / 1e9,7:F1} GFLOP/s (median of {repetitions})");
}

return 0;

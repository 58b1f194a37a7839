using FastNet.Kernels;

namespace FastNet.Benchmarks;

/// <summary>A GEMM of ../shared/WORKLOADS.md: C[M x N] = op(A) * op(B), with its operands.</summary>
public sealed class GemmShape
{
    public GemmShape(string name, int m, int n, int k, Transpose transA = Transpose.None, Transpose transB = Transpose.None)
    {
        (Name, M, N, K, TransA, TransB) = (name, m, n, k, transA, transB);
    }

    public string Name { get; }
    public int M { get; }
    public int N { get; }
    public int K { get; }
    public Transpose TransA { get; }
    public Transpose TransB { get; }
    public double Flops => 2.0 * M * N * K;
    public int Lda => TransA == Transpose.None ? K : M;
    public int Ldb => TransB == Transpose.None ? N : K;

    /// <summary>The standard shapes, the two training variants of the (64, 784, 128) layer included.</summary>
    public static GemmShape[] Workloads { get; } =
    [
        new("64x784x128", 64, 128, 784),
        new("128x784x128", 128, 128, 784),
        new("256x784x1024", 256, 1024, 784),
        new("256x1024x1024", 256, 1024, 1024),
        new("1024x1024x1024", 1024, 1024, 1024),
        new("1x784x128", 1, 128, 784),
        new("1x128x10", 1, 10, 128),      // T1's output layer at batch 1
        new("1x1024x10", 1, 10, 1024),    // T2's output layer at batch 1
        new("dW=XT*dY 784x64x128", 784, 128, 64, Transpose.Transposed, Transpose.None),
        new("dX=dY*WT 64x128x784", 64, 784, 128, Transpose.None, Transpose.Transposed),
    ];

    /// <summary>
    /// A workload shape by its name, else any product written as gemm-shapes.cs takes it: MxKxN (C[M x N] = A[M x K]
    /// B[K x N], row-major), optionally with ",tA" (A stored K x M) and ",tB" (B stored N x K).
    /// </summary>
    public static GemmShape Parse(string text)
    {
        GemmShape? workload = Workloads.FirstOrDefault(s => s.Name == text);
        if (workload is not null) return workload;
        string[] parts = text.Split(',');
        string[] mkn = parts[0].Split('x');
        if (mkn.Length != 3 || !mkn.All(d => int.TryParse(d, out int v) && v > 0) || parts.Skip(1).Any(p => p is not ("tA" or "tB")))
            throw new ArgumentException($"'{text}' is neither a workload shape ({string.Join(", ", Workloads.Select(s => s.Name))}) nor MxKxN[,tA][,tB].");
        return new GemmShape(text, int.Parse(mkn[0]), int.Parse(mkn[2]), int.Parse(mkn[1]),
            parts.Contains("tA") ? Transpose.Transposed : Transpose.None, parts.Contains("tB") ? Transpose.Transposed : Transpose.None);
    }

    public override string ToString() => Name;
}

/// <summary>Operands of one shape, allocated once.</summary>
internal sealed class GemmOperands
{
    public GemmOperands(GemmShape shape)
    {
        var rng = new Random(42);
        A = new float[shape.M * shape.K];
        B = new float[shape.K * shape.N];
        C = new float[shape.M * shape.N];
        for (int i = 0; i < A.Length; i++) A[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < B.Length; i++) B[i] = (float)rng.NextDouble() - 0.5f;
    }

    public float[] A { get; }
    public float[] B { get; }
    public float[] C { get; }
}

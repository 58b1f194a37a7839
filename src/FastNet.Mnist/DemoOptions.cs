using FastNet.Mnist.Data;

namespace FastNet.Mnist;

/// <summary>Update rules the demo offers.</summary>
internal enum OptimizerKind
{
    /// <summary>Plain SGD (default learning rate 0.1).</summary>
    Sgd,

    /// <summary>SGD with Nesterov momentum 0.9 (default learning rate 0.05).</summary>
    Momentum,

    /// <summary>Adam (default learning rate 0.001).</summary>
    Adam,

    /// <summary>AdamW: Adam with decoupled weight decay (default learning rate 0.001).</summary>
    AdamW,
}

/// <summary>Everything one demo run is told on its command line, with the defaults of a plain run.</summary>
internal sealed record DemoOptions
{
    public DatasetKind Dataset { get; init; } = DatasetKind.Mnist;

    /// <summary>Widths of the ReLU hidden layers, input side first (empty: a linear classifier).</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [512, 128];

    public int Epochs { get; init; } = 15;

    /// <summary>Learning rate; null takes <see cref="DefaultLearningRate"/> of the optimizer.</summary>
    public float? LearningRate { get; init; }

    public int BatchSize { get; init; } = 32;

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Momentum;

    /// <summary>Weight decay of the optimizer (0: none): an L2 term for sgd, momentum and adam, decoupled for adamw.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Whether the learning rate follows a cosine from its initial value down to 0 over the epochs.</summary>
    public bool Cosine { get; init; } = true;

    /// <summary>Most threads per GEMM; -1 for every core.</summary>
    public int Threads { get; init; } = -1;

    /// <summary>Seeds the initial weights and the shuffles.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Folder with IDX files (or iris.json) to use instead of the download and cache.</summary>
    public string? DataFolder { get; init; }

    /// <summary>Folder for downloaded data; null for <see cref="DataLoader.DefaultCacheFolder"/>.</summary>
    public string? CacheFolder { get; init; }

    /// <summary>Model file to write; null for "&lt;dataset&gt;-model.fnet" in the current folder.</summary>
    public string? SavePath { get; init; }

    /// <summary>PNG of the loss and accuracy curves; null for "&lt;dataset&gt;-training.png" in the current folder.</summary>
    public string? PlotPath { get; init; }

    /// <summary>The npm client used for downloads: program and leading arguments.</summary>
    public IReadOnlyList<string> NpmCommand { get; init; } = ["npm"];

    public string DatasetName => Dataset.ToString().ToLowerInvariant();

    public string ModelPath => Path.GetFullPath(SavePath ?? $"{DatasetName}-model.fnet");

    public string PlotFile => Path.GetFullPath(PlotPath ?? $"{DatasetName}-training.png");

    public float EffectiveLearningRate => LearningRate ?? DefaultLearningRate(Optimizer);

    public static float DefaultLearningRate(OptimizerKind optimizer) => optimizer switch
    {
        OptimizerKind.Sgd => 0.1f,
        OptimizerKind.Momentum => 0.05f,
        _ => 0.001f,
    };
}

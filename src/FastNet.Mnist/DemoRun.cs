using System.Diagnostics;
using FastNet.Data;
using FastNet.Inference;
using FastNet.Mnist.Data;
using FastNet.Training;
using Spectre.Console;

namespace FastNet.Mnist;

/// <summary>
/// One run of the demo: load the data, build and train the network with live progress, then report (epoch
/// table, confusion matrix, misclassified samples), save the model and plot the curves. Ctrl+C (the token)
/// stops training after the current batch; everything after still happens.
/// </summary>
internal sealed class DemoRun(DemoOptions options, IAnsiConsole console)
{
    /// <summary>Misclassified test images drawn at the end.</summary>
    private const int MisclassifiedShown = 4;

    /// <summary>Runs the demo and returns the process exit code.</summary>
    public int Execute(CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        console.Write(new Rule($"[bold]FastNet[/] demo: {options.DatasetName}").LeftJustified());
        // Where the results go is checked before any work, so a typo costs seconds, not a training run.
        OutputPaths.CheckWritable(options.ModelPath, "--save");
        OutputPaths.CheckWritable(options.PlotFile, "--plot");
        if (options.Threads > Environment.ProcessorCount)
        {
            console.MarkupLine($"[yellow]--threads {options.Threads} is more than this machine's {Environment.ProcessorCount} cores: using {Environment.ProcessorCount}.[/]");
            options = options with { Threads = Environment.ProcessorCount };
        }

        var loader = new DataLoader(options.CacheFolder ?? DataLoader.DefaultCacheFolder(), options.NpmCommand,
            line => console.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
        DemoData data = loader.Load(options.Dataset, options.DataFolder, cancellationToken);
        if (options.BatchSize > data.Train.Count)
        {
            console.MarkupLine($"[yellow]--batch-size {options.BatchSize} is more than the {data.Train.Count:N0} training samples: using {data.Train.Count:N0} (one step per epoch).[/]");
            options = options with { BatchSize = data.Train.Count };
        }

        var builder = new NetworkBuilder(data.Train.FeatureCount);
        foreach (int width in options.Hidden) builder.Dense(width, Activation.Relu);
        Network network = builder.Dense(data.ClassNames.Count).Build(options.Seed);
        Optimizer optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(options.EffectiveLearningRate, weightDecay: options.WeightDecay),
            OptimizerKind.Momentum => new Sgd(options.EffectiveLearningRate, momentum: 0.9f, nesterov: true, weightDecay: options.WeightDecay),
            OptimizerKind.Adam => new Adam(options.EffectiveLearningRate, weightDecay: options.WeightDecay),
            _ => new AdamW(options.EffectiveLearningRate, weightDecay: options.WeightDecay),
        };
        var trainer = new Trainer(network, Loss.SoftmaxCrossEntropy, optimizer, options.BatchSize, options.Threads, options.Seed)
        {
            Schedule = options.Cosine ? new CosineDecay(options.Epochs) : null,
        };
        string layers = string.Join("-", new[] { network.InputSize }.Concat(network.Layers.Select(l => l.OutputSize)));
        console.MarkupLine($"Network [bold]{layers}[/] (ReLU hidden, softmax cross-entropy), {network.ParameterCount:N0} parameters; " +
                           $"{options.Optimizer.ToString().ToLowerInvariant()} lr {options.EffectiveLearningRate}, batch {options.BatchSize}, " +
                           $"{options.Epochs} epochs, {(options.Threads == -1 ? $"{Environment.ProcessorCount} threads" : $"{options.Threads} thread(s)")}, seed {options.Seed}.");

        var epochs = new List<EpochReport>();
        string? divergence = null;
        bool cancelled = false;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var progress = new EpochProgress(context, options.Epochs, epochs);
                try
                {
                    cancelled = trainer.Fit(data.Train, options.Epochs, data.Test, progress, progress, cancellationToken).Cancelled;
                }
                catch (TrainingDivergedException e)
                {
                    divergence = e.Message;
                }

                progress.StopCurrent(cancelled ? "stopped by Ctrl+C" : divergence is not null ? "diverged" : null);
            });

        if (epochs.Count > 0) console.Write(ConsoleReport.Epochs(epochs));
        if (cancelled) console.MarkupLine("[yellow]Stopped by Ctrl+C after the current batch; reporting and saving what was trained.[/]");
        if (divergence is not null)
            console.MarkupLine($"[red]Training diverged:[/] {Markup.Escape(divergence)} (The demo takes it as --learning-rate.)");

        bool usable = ReportTestSet(network, data);
        bool saved = true;
        if (usable)
        {
            if (divergence is not null) console.MarkupLine("[yellow]Saving the last good parameters (before the divergence), not a trained model.[/]");
            saved = SaveModel(network, data);
        }
        else
        {
            console.MarkupLine($"[red]Not saving a model:[/] its outputs are not finite on the test set, so {Markup.Escape(options.ModelPath)} was left as it was.");
        }

        bool plotted = SavePlot(epochs, data);   // tried even when the model could not be saved
        console.MarkupLine($"[grey]Done in {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s.[/]");
        if (divergence is not null) return ExitCodes.Diverged;
        if (!saved || !plotted || !usable) return ExitCodes.Failed;
        return cancelled ? ExitCodes.Cancelled : ExitCodes.Success;
    }

    /// <summary>
    /// Final accuracy, the confusion matrix, and a few misclassified images, from the saved-model predictor path.
    /// Returns false, after saying so, when the model's outputs are not finite (parameters that overflow).
    /// </summary>
    private bool ReportTestSet(Network network, DemoData data)
    {
        Dataset test = data.Test;
        int classes = data.ClassNames.Count;
        var outputs = new float[test.Count * classes];
        try
        {
            using Predictor predictor = network.CreatePredictor();
            predictor.PredictBatch(test.Features, outputs, options.Threads);
        }
        catch (ArithmeticException e)
        {
            console.MarkupLine($"[red]No test accuracy:[/] {Markup.Escape(e.Message)}");
            return false;
        }

        var confusion = new int[classes, classes];
        var wrong = new List<(int Index, int Predicted, float Confidence)>();
        for (int i = 0; i < test.Count; i++)
        {
            ReadOnlySpan<float> row = outputs.AsSpan(i * classes, classes);
            int predicted = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
            confusion[test.Labels[i], predicted]++;
            if (predicted != test.Labels[i] && wrong.Count < MisclassifiedShown)
            {
                var probabilities = new float[classes];
                FastNet.Kernels.Softmax.Forward(row, probabilities, 1, classes);
                wrong.Add((i, predicted, probabilities[predicted]));
            }
        }

        int right = 0;
        for (int c = 0; c < classes; c++) right += confusion[c, c];
        console.MarkupLine($"Test accuracy: [bold]{ConsoleReport.Percent((double)right / test.Count)}[/] ({right:N0} of {test.Count:N0} held-out samples).");
        console.Write(ConsoleReport.Confusion(confusion, data.ClassNames));

        if (data.ImageSide is not int side || wrong.Count == 0) return true;
        var panels = wrong.Select(w => new Panel(new Text(ConsoleReport.ImageArt(test.Sample(w.Index), side)))
            .Header(Markup.Escape($"{data.ClassNames[test.Labels[w.Index]]} read as {data.ClassNames[w.Predicted]} ({100 * w.Confidence:F0}%)")));
        console.MarkupLine("Some misclassified test images:");
        console.Write(new Columns(panels).Collapse());
        return true;
    }

    /// <summary>
    /// Saves the network with what a user of the file needs: the class names, and the standardisation the data had
    /// (Iris), so that Predictor.Load(path).PredictLabel(raw sample) answers a species name.
    /// </summary>
    private bool SaveModel(Network network, DemoData data)
    {
        string path = options.ModelPath;
        try
        {
            Network model = network.Clone();   // the run's network keeps working on standardised data
            model.Metadata = new ModelMetadata
            {
                InputName = data.ImageSide is null ? "features" : "pixels",
                OutputName = "logits",
                ClassLabels = data.ClassNames,
                InputNormalization = data.Normalization,
            };
            model.Save(path);
            string rawInputs = data.Normalization is null ? "" : ", raw measurements: the model standardises them itself";
            console.MarkupLine($"Saved the model to [bold]{Markup.Escape(path)}[/] with its class names{rawInputs} (load it with Predictor.Load; PredictLabel names the class).");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]Could not save the model:[/] {Markup.Escape(e.Message)}");   // the message names the path
            return false;
        }
    }

    private bool SavePlot(IReadOnlyList<EpochReport> epochs, DemoData data)
    {
        if (epochs.Count == 0) return true;
        string path = options.PlotFile;
        try
        {
            TrainingPlot.Save(epochs, $"FastNet, {data.Name}: {string.Join("-", options.Hidden.Prepend(data.Train.FeatureCount).Append(data.ClassNames.Count))} MLP", path);
            console.MarkupLine($"Saved the loss and accuracy curves to [bold]{Markup.Escape(path)}[/].");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or TypeInitializationException)
        {
            console.MarkupLine($"[red]Could not write the plot {Markup.Escape(path)}:[/] {Markup.Escape(e.Message)}");
            return false;
        }
    }

    /// <summary>
    /// Receives Fit's per-batch and per-epoch reports on the training thread and drives one Spectre progress bar
    /// per epoch (Spectre redraws on its own thread; descriptions are refreshed at most ten times a second).
    /// </summary>
    private sealed class EpochProgress(ProgressContext context, int totalEpochs, List<EpochReport> epochs)
        : IProgress<BatchProgress>, IProgress<EpochReport>
    {
        private ProgressTask? _task;
        private int _epoch;
        private long _lastDescription;

        public void Report(BatchProgress value)
        {
            bool newEpoch = value.Epoch != _epoch;
            if (newEpoch)
            {
                _epoch = value.Epoch;
                _task = context.AddTask(Label(value.Epoch, ""), maxValue: value.SamplesInEpoch);
            }

            _task!.Value = value.SamplesDone;
            if (newEpoch || Stopwatch.GetElapsedTime(_lastDescription).TotalMilliseconds >= 100)
            {
                _lastDescription = Stopwatch.GetTimestamp();
                _task.Description = Label(value.Epoch, $"loss {value.BatchLoss:F3}, {value.SamplesPerSecond:N0} samples/s");
            }
        }

        public void Report(EpochReport value)
        {
            epochs.Add(value);
            if (_task is null) return;
            _task.Description = Label(value.Epoch,
                $"test acc. {ConsoleReport.Percent(value.ValidationAccuracy)}, {value.SamplesPerSecond:N0} samples/s");
            _task.StopTask();
        }

        public void StopCurrent(string? why)
        {
            if (_task is null || _task.IsFinished) return;
            if (why is not null) _task.Description = Label(_epoch, why);
            _task.StopTask();
        }

        private string Label(int epoch, string text) => Markup.Escape($"Epoch {epoch,2}/{totalEpochs}  {text}");
    }
}

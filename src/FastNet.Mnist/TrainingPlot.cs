using FastNet.Training;
using ScottPlot;

namespace FastNet.Mnist;

/// <summary>The loss and accuracy curves of a run as a PNG (ScottPlot): losses on the left axis, accuracy on the right.</summary>
internal static class TrainingPlot
{
    public static void Save(IReadOnlyList<EpochReport> epochs, string title, string path)
    {
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss (softmax cross-entropy)");
        plot.Axes.Right.Label.Text = "test accuracy (%)";

        var trainLoss = plot.Add.Scatter(x, epochs.Select(e => e.TrainLoss).ToArray());
        trainLoss.LegendText = "train loss";
        var testLoss = plot.Add.Scatter(x, epochs.Select(e => e.ValidationLoss).ToArray());
        testLoss.LegendText = "test loss";
        var accuracy = plot.Add.Scatter(x, epochs.Select(e => 100 * e.ValidationAccuracy).ToArray());
        accuracy.LegendText = "test accuracy";
        accuracy.Axes.YAxis = plot.Axes.Right;
        plot.ShowLegend(Alignment.MiddleCenter);

        // Written beside the target and renamed, so an existing plot is replaced whole or not at all.
        string full = System.IO.Path.GetFullPath(path);
        string temporary = full + ".tmp.png";
        try
        {
            plot.SavePng(temporary, 900, 540);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}

using FastNet.Data;

namespace FastNet.Mnist.Data;

/// <summary>A loaded dataset: its train/test sets and how to show its classes and samples.</summary>
/// <param name="Name">Short name ("mnist", "fashion", "iris").</param>
/// <param name="Train">Training set (integer labels).</param>
/// <param name="Test">Held-out test set.</param>
/// <param name="ClassNames">One display name per class.</param>
/// <param name="ImageSide">Width and height of a square image sample (28 for the MNIST family), or null when samples are not images.</param>
/// <param name="Normalization">What turned raw samples into <paramref name="Train"/> and <paramref name="Test"/> (Iris's standardisation), or null.</param>
internal sealed record DemoData(string Name, Dataset Train, Dataset Test, IReadOnlyList<string> ClassNames, int? ImageSide, InputNormalization? Normalization = null);

namespace FastNet.Onnx.Import;

/// <summary>
/// What the importer knows about one ONNX value while it walks the graph: a constant it can compute with, or the
/// activations of the network it is building, whose batch size is only known at run time.
/// </summary>
internal abstract record Value;

/// <summary>A float tensor known at import time (initializers, Constant nodes, folded results).</summary>
internal sealed record FloatTensor(long[] Dims, float[] Data) : Value
{
    public static FloatTensor Scalar(float value) => new([], [value]);
}

/// <summary>
/// An integer tensor (int64 or int32 in the file) known at import time, except that an element may be the batch
/// size (null): what Shape of the activations gives, and what Gather, Unsqueeze and Concat make of it.
/// </summary>
internal sealed record IntTensor(long[] Dims, long?[] Data) : Value
{
    public bool IsConstant => Data.All(v => v.HasValue);
}

/// <summary>A tensor of one repeated value whose shape names the batch size (null): ConstantOfShape of a shape that does.</summary>
internal sealed record FilledTensor(long?[] Dims, float Fill) : Value;

/// <summary>How an activation value relates to the layers built so far.</summary>
internal enum ActivationKind
{
    /// <summary>The output of the last layer (the network's input when there is none), all of it.</summary>
    Output,

    /// <summary>The last step only of the sequence that the last layer, a GRU, outputs (h_T).</summary>
    GruLastStep,

    /// <summary>The raw input minus a mean (a Sub at the input), before any layer.</summary>
    Centered,
}

/// <summary>
/// Activations of the network being built: <see cref="Dims"/> with the batch axis at <see cref="BatchAxis"/> (its entry
/// is unused). Invariant: the other axes, in their order, lay out one sample's floats row-major exactly as FastNet
/// stores them (a sequence is step-major), so reshapes and transposes that keep that order are free.
/// </summary>
/// <param name="Dims">The shape; the entry at the batch axis is a placeholder.</param>
/// <param name="BatchAxis">Which axis is the batch.</param>
/// <param name="Kind">How the value relates to the layers built so far.</param>
/// <param name="Version">The builder's version when the value was made: a value from before a later change of the layer stack is stale.</param>
/// <param name="TimeAxis">The step axis of a GRU's sequence output, or -1.</param>
/// <param name="Transform">A Softmax or LogSoftmax already applied: only the graph output may be such a value.</param>
internal sealed record ActivationValue(long[] Dims, int BatchAxis, int Version, ActivationKind Kind, int TimeAxis = -1,
    OutputTransform Transform = OutputTransform.None) : Value
{
    public int Rank => Dims.Length;

    /// <summary>Floats per sample: the product of every dimension but the batch.</summary>
    public long SampleSize
    {
        get
        {
            long size = 1;
            for (int i = 0; i < Dims.Length; i++) if (i != BatchAxis) size *= Dims[i];
            return size;
        }
    }

    /// <summary>Whether rows of the value are samples: every axis before the batch has size 1.</summary>
    public bool BatchLeads => Dims.Take(BatchAxis).All(d => d == 1);

    public string Shape => "[" + string.Join(", ", Dims.Select((d, i) => i == BatchAxis ? "batch" : d.ToString())) + "]";
}

/// <summary>
/// Activations concatenated along an axis where each has size 1: h_n of a multi-layer GRU (Concat of every layer's
/// Y_h). Only a Gather of one entry reads it, which gives that entry back.
/// </summary>
internal sealed record StackedActivations(ActivationValue[] Entries, int Axis) : Value;

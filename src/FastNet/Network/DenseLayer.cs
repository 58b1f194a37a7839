namespace FastNet;

/// <summary>
/// A fully connected layer y = act(x W + b) of a <see cref="Network"/>: a view of its parameters.
/// </summary>
/// <remarks>
/// <see cref="Weights"/> is row-major [<see cref="Inputs"/> x <see cref="Outputs"/>]: the weight from
/// input i to output j is <c>Weights[i * Outputs + j]</c>, so a batch X [batch x inputs] times W gives
/// the outputs [batch x outputs] directly. (A textbook matrix that maps inputs to outputs as W x, of shape
/// [outputs x inputs], is the transpose of this.) Writing through the spans changes the network.
/// </remarks>
public sealed class DenseLayer
{
    private readonly float[] _parameters;

    internal DenseLayer(int index, int inputs, int outputs, Activation activation, float[] parameters, int offset)
    {
        Index = index;
        Inputs = inputs;
        Outputs = outputs;
        Activation = activation;
        _parameters = parameters;
        WeightOffset = offset;
    }

    /// <summary>Position of the layer in the network, from 0.</summary>
    public int Index { get; }

    /// <summary>Width of the layer's input.</summary>
    public int Inputs { get; }

    /// <summary>Width of the layer's output.</summary>
    public int Outputs { get; }

    /// <summary>Activation applied after the affine map.</summary>
    public Activation Activation { get; }

    /// <summary>Weights, row-major [Inputs x Outputs].</summary>
    public Span<float> Weights => _parameters.AsSpan(WeightOffset, Inputs * Outputs);

    /// <summary>Biases, one per output.</summary>
    public Span<float> Biases => _parameters.AsSpan(BiasOffset, Outputs);

    /// <summary>Number of parameters: Inputs * Outputs + Outputs.</summary>
    public int ParameterCount => Inputs * Outputs + Outputs;

    /// <summary>Offset of the weights in the network's parameter vector (biases follow them).</summary>
    internal int WeightOffset { get; }

    internal int BiasOffset => WeightOffset + Inputs * Outputs;

    /// <inheritdoc/>
    public override string ToString() => $"Dense {Inputs} -> {Outputs}, {Activation}";
}

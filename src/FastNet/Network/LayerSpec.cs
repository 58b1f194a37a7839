namespace FastNet;

/// <summary>What a layer is, without its parameters: enough to rebuild it (clones, model files, the builder).</summary>
internal abstract record LayerSpec
{
    /// <summary>Floats per sample leaving a layer that takes <paramref name="inputSize"/>.</summary>
    public abstract long OutputSize(int inputSize);

    /// <summary>Parameters of such a layer.</summary>
    public abstract long ParameterCount(int inputSize);

    /// <summary>Why this layer cannot follow an input of <paramref name="inputSize"/> floats, or null when it can.</summary>
    public virtual string? Problem(int inputSize) => null;

    /// <summary>The layer, viewing <paramref name="parameters"/> from <paramref name="offset"/>.</summary>
    public abstract Layer Create(int index, int inputSize, Memory<float> parameters, int offset);
}

/// <summary>A <see cref="DenseLayer"/>.</summary>
internal sealed record DenseSpec(int Outputs, Activation Activation) : LayerSpec
{
    public override long OutputSize(int inputSize) => Outputs;

    public override long ParameterCount(int inputSize) => (long)inputSize * Outputs + Outputs;

    public override Layer Create(int index, int inputSize, Memory<float> parameters, int offset)
        => new DenseLayer(index, inputSize, Outputs, Activation, parameters, offset);
}

/// <summary>A <see cref="GruLayer"/>.</summary>
internal sealed record GruSpec(int HiddenSize, int Steps, bool ReturnSequences) : LayerSpec
{
    public override long OutputSize(int inputSize) => ReturnSequences ? (long)Steps * HiddenSize : HiddenSize;

    public override long ParameterCount(int inputSize) => 3L * HiddenSize * (inputSize / Steps + HiddenSize + 2);

    public override string? Problem(int inputSize) => inputSize % Steps == 0 ? null
        : $"a GRU over {Steps} steps needs an input that is a whole number of steps, and {inputSize} floats per sample are not.";

    public override Layer Create(int index, int inputSize, Memory<float> parameters, int offset)
        => new GruLayer(index, inputSize / Steps, HiddenSize, Steps, ReturnSequences, parameters, offset);
}

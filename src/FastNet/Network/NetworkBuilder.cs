namespace FastNet;

/// <summary>Describes a network layer by layer, then builds it with initialized parameters.</summary>
/// <example>
/// <code>
/// Network mlp = new NetworkBuilder(inputs: 784)
///     .Dense(128, Activation.Relu)
///     .Dense(10)                      // logits
///     .Build(seed: 42);
///
/// // Each 784-pixel image read as 28 rows of 28 pixels: a sequence of 28 steps.
/// Network rnn = new NetworkBuilder(inputs: 784)
///     .Gru(hiddenSize: 128, steps: 28)   // the last state h_28
///     .Dense(10)
///     .Build(seed: 42);
/// </code>
/// </example>
public sealed class NetworkBuilder
{
    private readonly int _inputs;
    private readonly List<LayerSpec> _layers = [];
    private long _width;

    /// <summary>Starts a network whose input has <paramref name="inputs"/> floats per sample.</summary>
    public NetworkBuilder(int inputs)
    {
        Guard.Positive(inputs);
        _inputs = inputs;
        _width = inputs;
    }

    /// <summary>Appends a fully connected layer.</summary>
    /// <param name="outputs">Width of the layer.</param>
    /// <param name="activation">Activation after the affine map; <see cref="Activation.None"/> for logits or regression outputs.</param>
    public NetworkBuilder Dense(int outputs, Activation activation = Activation.None)
    {
        Guard.Positive(outputs);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        return Add(new DenseSpec(outputs, activation));
    }

    /// <summary>
    /// Appends a GRU layer (<see cref="GruLayer"/>) that reads each sample as <paramref name="steps"/> steps of
    /// equal width: the current width must be a multiple of <paramref name="steps"/>.
    /// </summary>
    /// <param name="hiddenSize">Width of the hidden state.</param>
    /// <param name="steps">Steps per sequence.</param>
    /// <param name="returnSequences">Output every state [steps x hidden] (for a following GRU, or flattened for a dense layer) rather than the last.</param>
    public NetworkBuilder Gru(int hiddenSize, int steps, bool returnSequences = false)
    {
        Guard.Positive(hiddenSize);
        Guard.Positive(steps);
        var spec = new GruSpec(hiddenSize, steps, returnSequences);
        if (_width <= int.MaxValue && spec.Problem((int)_width) is string problem)
            throw new ArgumentException($"Layer {_layers.Count}: {problem}", nameof(steps));
        return Add(spec);
    }

    private NetworkBuilder Add(LayerSpec spec)
    {
        _layers.Add(spec);
        _width = _width <= int.MaxValue ? spec.OutputSize((int)_width) : _width;
        return this;
    }

    /// <summary>
    /// Builds the network, drawing every layer's parameters in order from one seeded generator: dense weights
    /// He-normal, N(0, 2 / inputs), for ReLU and leaky ReLU layers and Glorot-uniform, U(+-sqrt(6 / (inputs + outputs))), for
    /// the others, with zero biases; GRU weights and biases U(+-1/sqrt(hidden)), as PyTorch draws them. The same
    /// seed gives the same network.
    /// </summary>
    public Network Build(int seed = 0)
    {
        if (_layers.Count == 0) throw new InvalidOperationException("A network needs at least one layer: call Dense or Gru first.");
        var network = new Network(_inputs, _layers);
        network.Initialize(seed);
        return network;
    }
}

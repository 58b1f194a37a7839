namespace FastNet;

/// <summary>Describes a network layer by layer, then builds it with initialized parameters.</summary>
/// <example>
/// <code>
/// Network net = new NetworkBuilder(inputs: 784)
///     .Dense(128, Activation.Relu)
///     .Dense(10)                      // logits
///     .Build(seed: 42);
/// </code>
/// </example>
public sealed class NetworkBuilder
{
    private readonly int _inputs;
    private readonly List<(int Outputs, Activation Activation)> _layers = [];

    /// <summary>Starts a network whose input has <paramref name="inputs"/> features.</summary>
    public NetworkBuilder(int inputs)
    {
        Guard.Positive(inputs);
        _inputs = inputs;
    }

    /// <summary>Appends a fully connected layer.</summary>
    /// <param name="outputs">Width of the layer.</param>
    /// <param name="activation">Activation after the affine map; <see cref="Activation.None"/> for logits or regression outputs.</param>
    public NetworkBuilder Dense(int outputs, Activation activation = Activation.None)
    {
        Guard.Positive(outputs);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        _layers.Add((outputs, activation));
        return this;
    }

    /// <summary>
    /// Builds the network. Weights are drawn from a seeded generator: He-normal, N(0, 2 / inputs), for
    /// ReLU layers; Glorot-uniform, U(+-sqrt(6 / (inputs + outputs))), for sigmoid, tanh and linear layers.
    /// Biases start at zero. The same seed gives the same network.
    /// </summary>
    public Network Build(int seed = 0)
    {
        if (_layers.Count == 0) throw new InvalidOperationException("A network needs at least one layer: call Dense first.");
        var shapes = new List<(int, int, Activation)>(_layers.Count);
        int inputs = _inputs;
        foreach (var (outputs, activation) in _layers)
        {
            shapes.Add((inputs, outputs, activation));
            inputs = outputs;
        }

        var network = new Network(shapes);
        network.Initialize(seed);
        return network;
    }
}

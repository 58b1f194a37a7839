namespace FastNet.Onnx.Import;

/// <summary>A layer the importer has matched, with its parameters in FastNet's layout.</summary>
internal abstract class LayerBuild(string node)
{
    /// <summary>The ONNX node the layer came from (for messages).</summary>
    public string Node { get; } = node;
}

/// <summary>y = act(x W + b): W [inputs x outputs] row-major, as <see cref="DenseLayer.Weights"/>.</summary>
internal sealed class DenseBuild(string node, int inputs, int outputs, float[] weights) : LayerBuild(node)
{
    public int Inputs { get; } = inputs;
    public int Outputs { get; } = outputs;
    public float[] Weights { get; } = weights;
    public float[]? Biases { get; set; }
    public Activation Activation { get; set; }
}

/// <summary>A GRU in PyTorch's layout and gate order r, z, n (<see cref="GruLayer"/>); whether it returns its whole sequence is settled by what reads it.</summary>
internal sealed class GruBuild(string node, int features, int hidden, int steps, float[] inputWeights, float[] recurrentWeights, float[] inputBiases, float[] recurrentBiases)
    : LayerBuild(node)
{
    public int Features { get; } = features;
    public int Hidden { get; } = hidden;
    public int Steps { get; } = steps;
    public float[] InputWeights { get; } = inputWeights;
    public float[] RecurrentWeights { get; } = recurrentWeights;
    public float[] InputBiases { get; } = inputBiases;
    public float[] RecurrentBiases { get; } = recurrentBiases;
    public bool? ReturnSequences { get; set; }
}

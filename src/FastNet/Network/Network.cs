using System.Numerics.Tensors;
using FastNet.Kernels;

namespace FastNet;

/// <summary>
/// A feed-forward stack of dense layers and its parameters, stored in one contiguous vector (each layer's
/// weights, then its biases). The network holds no per-batch state: trainers and predictors bring their
/// own <see cref="Workspace"/>, so one network can be evaluated from several threads at once.
/// </summary>
public sealed partial class Network
{
    private readonly float[] _parameters;
    private readonly DenseLayer[] _layers;

    internal Network(IReadOnlyList<(int Inputs, int Outputs, Activation Activation)> shapes)
    {
        if (shapes.Count == 0) throw new ArgumentException("A network needs at least one layer.", nameof(shapes));
        long total = 0;
        foreach (var (inputs, outputs, _) in shapes) total += (long)inputs * outputs + outputs;
        if (total > Array.MaxLength) throw new ArgumentException($"The network would have {total} parameters, more than an array can hold.", nameof(shapes));
        _parameters = new float[total];
        _layers = new DenseLayer[shapes.Count];
        int offset = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            var (inputs, outputs, activation) = shapes[i];
            if (i > 0 && inputs != shapes[i - 1].Outputs)
                throw new ArgumentException($"Layer {i} takes {inputs} inputs but layer {i - 1} gives {shapes[i - 1].Outputs}.", nameof(shapes));
            _layers[i] = new DenseLayer(i, inputs, outputs, activation, _parameters, offset);
            offset += inputs * outputs + outputs;
        }
    }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<DenseLayer> Layers => _layers;

    /// <summary>Width of the input.</summary>
    public int InputSize => _layers[0].Inputs;

    /// <summary>Width of the output.</summary>
    public int OutputSize => _layers[^1].Outputs;

    /// <summary>All parameters in one vector: for each layer its weights then its biases.</summary>
    public Span<float> Parameters => _parameters;

    /// <summary>Number of parameters.</summary>
    public int ParameterCount => _parameters.Length;

    /// <summary>A deep copy: same layers, its own copy of the parameters.</summary>
    public Network Clone()
    {
        var copy = new Network(_layers.Select(l => (l.Inputs, l.Outputs, l.Activation)).ToList());
        _parameters.CopyTo(copy._parameters, 0);
        return copy;
    }

    /// <summary>Creates a thread-safe predictor from a snapshot of the current parameters.</summary>
    public Inference.Predictor CreatePredictor() => new(this);

    /// <summary>He or Glorot weights (see <see cref="NetworkBuilder.Build"/>), zero biases.</summary>
    internal void Initialize(int seed)
    {
        var rng = new Random(seed);
        foreach (DenseLayer layer in _layers)
        {
            Span<float> w = layer.Weights;
            if (layer.Activation == Activation.Relu)
            {
                double std = Math.Sqrt(2.0 / layer.Inputs);
                for (int i = 0; i < w.Length; i++) w[i] = (float)(std * StandardNormal(rng));
            }
            else
            {
                double limit = Math.Sqrt(6.0 / (layer.Inputs + layer.Outputs));
                for (int i = 0; i < w.Length; i++) w[i] = (float)(limit * (2 * rng.NextDouble() - 1));
            }

            layer.Biases.Clear();
        }
    }

    /// <summary>Box-Muller: one standard normal draw from two uniform ones.</summary>
    private static double StandardNormal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();   // in (0, 1]: log is finite
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>
    /// Runs the forward pass of <paramref name="batch"/> rows of <paramref name="input"/> and returns the
    /// last layer's output (a view into the workspace, valid until its next use).
    /// </summary>
    internal ReadOnlySpan<float> Forward(Workspace workspace, ReadOnlySpan<float> input, int batch, int maxThreads)
    {
        ReadOnlySpan<float> x = input;
        foreach (DenseLayer layer in _layers)
        {
            Span<float> y = workspace.Output(layer.Index, batch);
            // Y = act(X W + b): bias and activation fused into the GEMM's final write.
            Gemm.Multiply(x, layer.Inputs, layer.Weights, layer.Outputs, y, layer.Outputs,
                batch, layer.Outputs, layer.Inputs, epilogue: new GemmEpilogue(layer.Biases, layer.Activation), maxThreads: maxThreads);
            x = y;
        }

        return x;
    }

    /// <summary>
    /// Backpropagation, first pass, after <see cref="Forward"/> on the same workspace: on entry the last
    /// layer's output gradient holds dLoss/dOutput; on exit every layer's output-gradient buffer holds
    /// dLoss/dZ for its pre-activation Z (in place), computed with the current weights. Returns false, early,
    /// at the first dZ that holds a NaN or an infinity: nothing has been changed but workspace buffers.
    /// </summary>
    internal bool BackwardDeltas(Workspace workspace, int batch, int maxThreads)
    {
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            DenseLayer layer = _layers[l];
            Span<float> dy = workspace.OutputGradient(l, batch);
            // dZ = dY * act'(Z), in place, with act' written in terms of the output Y.
            Activations.Backward(layer.Activation, workspace.Output(l, batch), dy, dy);
            if (!float.IsFinite(TensorPrimitives.Sum(dy))) return false;   // NaN or infinity anywhere makes the sum so
            if (l > 0)
            {
                // dX = dZ W^T [batch x inputs] is the previous layer's dY. The first layer's is never needed.
                Gemm.Multiply(dy, layer.Outputs, layer.Weights, layer.Outputs, workspace.OutputGradient(l - 1, batch), layer.Inputs,
                    batch, layer.Inputs, layer.Outputs, transB: Transpose.Transposed, maxThreads: maxThreads);
            }
        }

        return true;
    }

    /// <summary>
    /// Backpropagation, second pass, after <see cref="BackwardDeltas"/>: dW = X^T dZ [inputs x outputs] and
    /// db = column sums of dZ for every layer, into <paramref name="gradients"/> (laid out like <see cref="Parameters"/>).
    /// </summary>
    internal void ParameterGradients(Workspace workspace, ReadOnlySpan<float> input, int batch, Span<float> gradients, int maxThreads)
    {
        foreach (DenseLayer layer in _layers)
        {
            Span<float> dz = workspace.OutputGradient(layer.Index, batch);
            Gemm.Multiply(LayerInput(workspace, input, layer, batch), layer.Inputs, dz, layer.Outputs,
                gradients.Slice(layer.WeightOffset, layer.Inputs * layer.Outputs), layer.Outputs,
                layer.Inputs, layer.Outputs, batch, transA: Transpose.Transposed, maxThreads: maxThreads);
            Bias.Gradient(dz, gradients.Slice(layer.BiasOffset, layer.Outputs), batch, layer.Outputs);
        }
    }

    /// <summary>
    /// The second pass fused with a plain SGD update: W = W - lr * X^T dZ is one GEMM (alpha = -lr, beta = 1),
    /// so weight gradients are never written out and read back. Bias gradients go through
    /// <paramref name="gradients"/> (their slots in its parameter layout) on the way.
    /// </summary>
    internal void ApplySgd(Workspace workspace, ReadOnlySpan<float> input, int batch, float learningRate, Span<float> gradients, int maxThreads)
    {
        foreach (DenseLayer layer in _layers)
        {
            Span<float> dz = workspace.OutputGradient(layer.Index, batch);
            Gemm.Multiply(LayerInput(workspace, input, layer, batch), layer.Inputs, dz, layer.Outputs, layer.Weights, layer.Outputs,
                layer.Inputs, layer.Outputs, batch, transA: Transpose.Transposed, alpha: -learningRate, beta: 1f, maxThreads: maxThreads);
            Span<float> db = gradients.Slice(layer.BiasOffset, layer.Outputs);
            Bias.Gradient(dz, db, batch, layer.Outputs);
            TensorPrimitives.MultiplyAdd(db, -learningRate, layer.Biases, layer.Biases);
        }
    }

    private ReadOnlySpan<float> LayerInput(Workspace workspace, ReadOnlySpan<float> input, DenseLayer layer, int batch)
        => layer.Index == 0 ? input[..(batch * layer.Inputs)] : workspace.Output(layer.Index - 1, batch);
}

public sealed partial class Network
{
    /// <summary>Saves the network to a model file atomically (see <see cref="Serialization.ModelFile"/>).</summary>
    public void Save(string path) => Serialization.ModelFile.Save(this, path);

    /// <summary>Loads a network from a model file.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupted, of a newer version or not a model.</exception>
    public static Network Load(string path) => Serialization.ModelFile.Load(path);
}

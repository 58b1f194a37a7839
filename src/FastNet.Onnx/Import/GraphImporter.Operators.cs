using FastNet.Onnx.Protobuf;

namespace FastNet.Onnx.Import;

/// <summary>The operators: each reads its inputs' <see cref="Value"/>s and defines its outputs'.</summary>
internal sealed partial class GraphImporter
{
    private void Evaluate(NodeProto node, long opset)
    {
        switch (node.OpType)
        {
            case "Gemm": Gemm(node); break;
            case "MatMul": MatMul(node); break;
            case "Add": Add(node); break;
            case "Sub": Sub(node); break;
            case "Div": Div(node); break;
            case "Relu": Activate(node, Activation.Relu); break;
            case "Sigmoid": Activate(node, Activation.Sigmoid); break;
            case "Tanh": Activate(node, Activation.Tanh); break;
            case "LeakyRelu":
                float alpha = Attributes.Float(node, "alpha", 0.01f);
                if (alpha != Kernels.Activations.LeakyReluSlope)
                    throw Unsupported(node, $"alpha is {alpha}; FastNet's leaky ReLU has the slope {Kernels.Activations.LeakyReluSlope} (PyTorch's default).");
                Activate(node, Activation.LeakyRelu);
                break;
            case "Softmax": OutputTransformOf(node, OutputTransform.Softmax); break;
            case "LogSoftmax": OutputTransformOf(node, OutputTransform.LogSoftmax); break;
            case "Identity": Define(node, 0, Input(node, 0)); break;
            case "Dropout": Dropout(node); break;
            case "Flatten": Flatten(node); break;
            case "Reshape": Reshape(node); break;
            case "Transpose": Transpose(node); break;
            case "Squeeze": Squeeze(node); break;
            case "Unsqueeze": Unsqueeze(node); break;
            case "GRU": Gru(node); break;
            case "Constant": Define(node, 0, Constant(node)); break;
            case "Shape": Shape(node); break;
            case "Gather": Gather(node); break;
            case "Slice": Slice(node); break;
            case "Concat": Concat(node); break;
            case "ConstantOfShape": ConstantOfShape(node); break;
            case "Cast": Cast(node); break;
            default:
                throw Unsupported(node, $"the operator is not supported (opset {opset}). {Supported}.");
        }
    }

    // ---- Reading inputs and defining outputs ----

    private Value Input(NodeProto node, int index)
    {
        if (index >= node.Input.Count || node.Input[index].Length == 0) throw Invalid(node, $"input {index} is missing.");
        string name = node.Input[index];
        return _values.TryGetValue(name, out Value? value) ? value
            : throw Invalid(node, $"reads '{name}' before any node defines it (the nodes are not in topological order).");
    }

    private Value? OptionalInput(NodeProto node, int index)
        => index < node.Input.Count && node.Input[index].Length > 0 ? Input(node, index) : null;

    private void Define(NodeProto node, int output, Value value)
    {
        if (output >= node.Output.Count || node.Output[output].Length == 0) return;   // an output nobody asked for
        _values[node.Output[output]] = value;
    }

    /// <summary>An input that must be the network's current activations.</summary>
    private ActivationValue Activations(NodeProto node, int index, string what)
    {
        Value value = Input(node, index);
        if (value is not ActivationValue a)
            throw Unsupported(node, $"{what} is a constant here; FastNet.Onnx expects it to be computed from the graph input (fold constants when exporting: do_constant_folding=True).");
        if (a.Version != _version)
            throw Unsupported(node, $"reads '{node.Input[index]}', an activation that a later layer has already consumed: the graph branches, and FastNet networks are one chain of layers.");
        if (a.Transform != OutputTransform.None)
            throw Unsupported(node, $"reads the output of a {a.Transform}; FastNet applies Softmax and LogSoftmax only as the last operation, to the output.");
        return a;
    }

    private FloatTensor FloatConstant(NodeProto node, int index, string what)
        => Input(node, index) as FloatTensor ?? throw Unsupported(node, $"{what} must be a float constant (an initializer or a folded constant).");

    /// <summary>Constant integers (shapes, axes, indices); the batch size is not a constant.</summary>
    private long[] IntConstant(NodeProto node, int index, string what)
    {
        if (Input(node, index) is not IntTensor ints)
            throw Unsupported(node, $"{what} must be an integer constant.");
        if (!ints.IsConstant) throw Unsupported(node, $"{what} depends on the batch size here.");
        return ints.Data.Select(v => v!.Value).ToArray();
    }

    /// <summary>Axes from the attribute (before opset 13) or the optional input <paramref name="index"/> (from opset 13).</summary>
    private long[]? Axes(NodeProto node, int index)
    {
        if (Attributes.Has(node, "axes")) return Attributes.Ints(node, "axes");
        return OptionalInput(node, index) is null ? null : IntConstant(node, index, "axes");
    }

    private static int NormalizeAxis(NodeProto node, long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Invalid(node, $"axis {axis} is outside a tensor of rank {rank}.");
        return (int)a;
    }

    // ---- Layers ----

    /// <summary>Y = alpha * A op(B) + beta * C: a dense layer with W = alpha op(B), b = beta C.</summary>
    private void Gemm(NodeProto node)
    {
        ActivationValue a = Activations(node, 0, "A");
        // op(A) must be [batch, features]: A itself, or A = [features, batch] with transA = 1.
        bool transA = Attributes.Int(node, "transA", 0) != 0;
        if (a.Rank != 2 || a.BatchAxis != (transA ? 1 : 0))
            throw Unsupported(node, $"op(A) is {a.Shape}{(transA ? " transposed" : "")}; a dense layer reads [batch, features].");
        FloatTensor b = FloatConstant(node, 1, "B (the weights)");
        bool transB = Attributes.Int(node, "transB", 0) != 0;
        float alpha = Attributes.Float(node, "alpha", 1f), beta = Attributes.Float(node, "beta", 1f);
        int inputs = (int)a.Dims[transA ? 0 : 1];
        if (b.Dims.Length != 2 || b.Dims[transB ? 1 : 0] != inputs)
            throw Invalid(node, $"B has shape [{string.Join(", ", b.Dims)}], which does not multiply A {a.Shape}{(transB ? " transposed" : "")}.");
        int outputs = (int)b.Dims[transB ? 0 : 1];
        float[] weights = transB ? Transposed(b.Data, outputs, inputs) : (float[])b.Data.Clone();
        if (alpha != 1f) for (int i = 0; i < weights.Length; i++) weights[i] *= alpha;
        var dense = new DenseBuild(NodeName(node), inputs, outputs, weights);
        if (OptionalInput(node, 2) is { } c)
        {
            if (c is not FloatTensor bias) throw Unsupported(node, "C (the bias) must be a float constant.");
            float[] row = RowBias(node, bias, outputs, "C");
            if (beta != 1f) for (int i = 0; i < row.Length; i++) row[i] *= beta;
            dense.Biases = row;
        }

        AppendLayer(node, a with { Dims = [0, inputs], BatchAxis = 0 }, dense, [0, outputs]);
    }

    /// <summary>A [batch, K] x B [K, N]: a dense layer without bias, until an Add gives it one.</summary>
    private void MatMul(NodeProto node)
    {
        ActivationValue a = Activations(node, 0, "A");
        if (!a.BatchLeads || a.BatchAxis != a.Rank - 2)
            throw Unsupported(node, $"A has shape {a.Shape}; a dense layer multiplies [batch, features] (a MatMul over steps or channels is not a FastNet layer).");
        FloatTensor b = FloatConstant(node, 1, "B (the weights)");
        int inputs = (int)a.Dims[^1];
        if (b.Dims.Length != 2 || b.Dims[0] != inputs)
            throw Unsupported(node, $"B has shape [{string.Join(", ", b.Dims)}]; a dense layer multiplies by a [{inputs}, outputs] matrix.");
        int outputs = (int)b.Dims[1];
        AppendLayer(node, a, new DenseBuild(NodeName(node), inputs, outputs, (float[])b.Data.Clone()), [.. a.Dims[..^1], outputs]);
    }

    private void AppendLayer(NodeProto node, ActivationValue input, LayerBuild layer, long[] outputDims)
    {
        Settle(input);
        _layers.Add(layer);
        _version++;
        Define(node, 0, new ActivationValue(outputDims, input.BatchAxis, _version, ActivationKind.Output));
    }

    /// <summary>The bias of the dense layer just made by a MatMul.</summary>
    private void Add(NodeProto node)
    {
        (ActivationValue a, FloatTensor c) = OneActivationOneConstant(node);
        if (_layers.Count == 0 || _layers[^1] is not DenseBuild { Biases: null, Activation: Activation.None } dense || a.Kind != ActivationKind.Output)
            throw Unsupported(node, "FastNet reads an Add as the bias of the dense layer just before it (MatMul then Add); here there is no such layer, or it has a bias or an activation already.");
        dense.Biases = RowBias(node, c, dense.Outputs, "the added constant");
        _version++;
        Define(node, 0, a with { Version = _version });
    }

    /// <summary>The activations and the constant of a binary operator, in either order (Add commutes).</summary>
    private (ActivationValue Activations, FloatTensor Constant) OneActivationOneConstant(NodeProto node)
    {
        int activations = Input(node, 0) is ActivationValue ? 0 : 1;
        ActivationValue a = Activations(node, activations, "one operand");
        FloatTensor c = Input(node, 1 - activations) as FloatTensor
            ?? throw Unsupported(node, "it combines two activations (a skip connection?); FastNet reads an Add of activations and a constant, the bias.");
        return (a, c);
    }

    /// <summary>x - mean at the graph input: the normalization's mean (its scale 1 until a Div follows).</summary>
    private void Sub(NodeProto node)
    {
        ActivationValue a = Activations(node, 0, "the minuend");
        if (Input(node, 1) is not FloatTensor mean) throw Unsupported(node, "FastNet reads a Sub as input normalization, x - mean, with a constant mean.");
        if (_layers.Count > 0 || _normalization is not null || a.Kind != ActivationKind.Output)
            throw Unsupported(node, "FastNet reads a Sub only at the graph input, as the mean of an input normalization (x - mean) / scale.");
        float[] m = SampleBroadcast(node, mean, a, "the mean");
        _normalization = Normalization(node, m, [.. Enumerable.Repeat(1f, m.Length)]);
        _version++;
        Define(node, 0, a with { Version = _version, Kind = ActivationKind.Centered });
    }

    /// <summary>(x - mean) / scale, or x / scale, at the graph input.</summary>
    private void Div(NodeProto node)
    {
        ActivationValue a = Activations(node, 0, "the dividend");
        if (Input(node, 1) is not FloatTensor scale) throw Unsupported(node, "FastNet reads a Div as input normalization, (x - mean) / scale, with a constant scale.");
        bool afterSub = a.Kind == ActivationKind.Centered;
        if (_layers.Count > 0 || (!afterSub && (_normalization is not null || a.Kind != ActivationKind.Output)))
            throw Unsupported(node, "FastNet reads a Div only at the graph input (or after its Sub), as the scale of an input normalization (x - mean) / scale.");
        float[] s = SampleBroadcast(node, scale, a, "the scale");
        float[] m = afterSub ? [.. _normalization!.Mean] : new float[s.Length];
        if (m.Length != s.Length)   // a scalar mean and a per-feature scale, or the reverse: widen the scalar
        {
            if (m.Length == 1) m = [.. Enumerable.Repeat(m[0], s.Length)];
            else s = [.. Enumerable.Repeat(s[0], m.Length)];
        }

        _normalization = Normalization(node, m, s);
        _version++;
        Define(node, 0, a with { Version = _version, Kind = ActivationKind.Output });
    }

    private static InputNormalization Normalization(NodeProto node, float[] mean, float[] scale)
    {
        try
        {
            return new InputNormalization(mean, scale);
        }
        catch (ArgumentException e)
        {
            throw Unsupported(node, $"the input normalization is not one FastNet can apply: {e.Message}");
        }
    }

    /// <summary>An activation function after the dense layer just made.</summary>
    private void Activate(NodeProto node, Activation activation)
    {
        ActivationValue a = Activations(node, 0, "the input");
        if (_layers.Count == 0 || _layers[^1] is not DenseBuild { Activation: Activation.None } dense || a.Kind != ActivationKind.Output)
        {
            string where = _layers.Count == 0 ? "the graph input" : _layers[^1] is GruBuild ? "a GRU's output" : "a dense layer that has an activation already";
            throw Unsupported(node, $"it applies to {where}; FastNet applies activations only as part of a dense layer (Gemm or MatMul [+ Add], then the activation).");
        }

        dense.Activation = activation;
        _version++;
        Define(node, 0, a with { Version = _version });
    }

    /// <summary>Softmax or LogSoftmax over each sample's outputs: kept as the predictor's output transform.</summary>
    private void OutputTransformOf(NodeProto node, OutputTransform transform)
    {
        ActivationValue a = Activations(node, 0, "the input");
        int axis = NormalizeAxis(node, Attributes.Int(node, "axis", -1), a.Rank);
        if (!a.BatchLeads || a.BatchAxis != a.Rank - 2 || axis != a.Rank - 1)
            throw Unsupported(node, $"it normalizes axis {axis} of {a.Shape}; FastNet applies {node.OpType} over each sample's outputs ([batch, classes], the last axis).");
        Settle(a);
        Define(node, 0, a with { Transform = transform });
    }

    /// <summary>
    /// The ONNX GRU (gates z, r, h; W [1, 3H, F], R [1, 3H, H], B [1, 6H]) as a FastNet GRU (PyTorch's layout, gates
    /// r, z, n). X is [steps, batch, features]; Y [steps, 1, batch, H] and Y_h [1, batch, H] are its outputs.
    /// </summary>
    private void Gru(NodeProto node)
    {
        if (Attributes.Int(node, "linear_before_reset", 0) != 1)
            throw Unsupported(node, "linear_before_reset = 0 (the reset gate applied before the recurrent product) is not FastNet's GRU, which is PyTorch's (linear_before_reset = 1).");
        string direction = Attributes.String(node, "direction", "forward");
        if (direction != "forward") throw Unsupported(node, $"direction '{direction}': FastNet's GRU runs forward only.");
        if (Attributes.Has(node, "clip")) throw Unsupported(node, "cell clipping (clip) is not part of FastNet's GRU.");
        if (Attributes.Has(node, "activation_alpha") || Attributes.Has(node, "activation_beta")) throw Unsupported(node, "activation_alpha/beta are not part of FastNet's GRU.");
        if (Attributes.Has(node, "activations"))
        {
            string[] activations = Attributes.Strings(node, "activations");
            if (activations.Length != 2 || !activations[0].Equals("Sigmoid", StringComparison.OrdinalIgnoreCase) || !activations[1].Equals("Tanh", StringComparison.OrdinalIgnoreCase))
                throw Unsupported(node, $"activations [{string.Join(", ", activations)}]: FastNet's GRU uses Sigmoid for the gates and Tanh for the candidate.");
        }

        if (Attributes.Int(node, "layout", 0) != 0) throw Unsupported(node, "layout = 1 (batch-major X): FastNet.Onnx reads the default layout, X as [steps, batch, features] (PyTorch's export).");
        ActivationValue x = Activations(node, 0, "X");
        if (x.Rank != 3 || x.BatchAxis != 1 || x.Kind != ActivationKind.Output)
            throw Unsupported(node, $"X has shape {x.Shape}; a GRU reads [steps, batch, features].");
        int steps = (int)x.Dims[0], features = (int)x.Dims[2];
        int hidden = (int)Attributes.Int(node, "hidden_size", 0);
        FloatTensor w = FloatConstant(node, 1, "W"), r = FloatConstant(node, 2, "R");
        if (hidden <= 0) hidden = w.Dims.Length == 3 ? (int)(w.Dims[1] / 3) : 0;
        if (hidden <= 0 || !w.Dims.SequenceEqual([1L, 3L * hidden, features]) || !r.Dims.SequenceEqual([1L, 3L * hidden, hidden]))
            throw Invalid(node, $"W [{string.Join(", ", w.Dims)}] and R [{string.Join(", ", r.Dims)}] are not [1, 3 x {hidden}, {features}] and [1, 3 x {hidden}, {hidden}].");
        float[] biases = new float[6 * hidden];
        if (OptionalInput(node, 3) is { } b)
        {
            if (b is not FloatTensor bt || !bt.Dims.SequenceEqual([1L, 6L * hidden])) throw Unsupported(node, $"B must be a float constant of shape [1, {6 * hidden}].");
            biases = bt.Data;
        }

        if (OptionalInput(node, 4) is not null) throw Unsupported(node, "sequence_lens: FastNet's GRU runs every sequence over all its steps.");
        if (OptionalInput(node, 5) is { } h0 && !IsZero(h0))
            throw Unsupported(node, "initial_h is not zero; FastNet's GRU layers start from a zero state.");

        var gru = new GruBuild(NodeName(node), features, hidden, steps,
            GruGateOrder.SwapFirstTwo(w.Data, hidden, features), GruGateOrder.SwapFirstTwo(r.Data, hidden, hidden),
            GruGateOrder.SwapFirstTwo(biases.AsSpan(0, 3 * hidden), hidden, 1), GruGateOrder.SwapFirstTwo(biases.AsSpan(3 * hidden), hidden, 1));
        Settle(x);
        _layers.Add(gru);
        _version++;
        Define(node, 0, new ActivationValue([steps, 1, x.Dims[1], hidden], 2, _version, ActivationKind.Output, TimeAxis: 0));
        Define(node, 1, new ActivationValue([1, x.Dims[1], hidden], 1, _version, ActivationKind.GruLastStep));
    }

    private static bool IsZero(Value value) => value switch
    {
        FilledTensor f => f.Fill == 0f,
        FloatTensor t => t.Data.All(v => v == 0f),
        _ => false,
    };

    private void Dropout(NodeProto node)
    {
        if (OptionalInput(node, 2) is { } training && (training is not IntTensor t || !t.IsConstant || t.Data.Any(v => v != 0)))
            throw Unsupported(node, "training_mode is not a constant false: FastNet imports models for inference, where Dropout passes its input through.");
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && _graph.Node.Any(n => n.Input.Contains(node.Output[1])))
            throw Unsupported(node, "its mask output is used; in inference there is no mask.");
        Define(node, 0, Input(node, 0));
    }

    // ---- Shapes of activations (and of constants) ----

    private void Flatten(NodeProto node)
    {
        Value value = Input(node, 0);
        long axis = Attributes.Int(node, "axis", 1);
        if (value is ActivationValue a)
        {
            a = Activations(node, 0, "the input");
            if (NormalizeAxis(node, axis, a.Rank) != 1 || a.BatchAxis != 0)
                throw Unsupported(node, $"it flattens {a.Shape} from axis {axis}; FastNet flattens each sample ([batch, ...] from axis 1).");
            Define(node, 0, a with { Dims = [a.Dims[0], a.SampleSize], TimeAxis = -1 });
            return;
        }

        long[] dims = ConstantDims(node, value);
        int k = axis < 0 ? (int)axis + dims.Length : (int)axis;
        long outer = dims.Take(k).Aggregate(1L, (p, d) => p * d), inner = dims.Skip(k).Aggregate(1L, (p, d) => p * d);
        Define(node, 0, Reshaped(node, value, [outer, inner]));
    }

    private void Reshape(NodeProto node)
    {
        Value value = Input(node, 0);
        if (Input(node, 1) is not IntTensor shape || shape.Dims.Length != 1) throw Unsupported(node, "the shape must be a 1-D integer constant (or computed from the batch size).");
        bool allowZero = Attributes.Int(node, "allowzero", 0) != 0;
        if (value is not ActivationValue)
        {
            if (!shape.IsConstant) throw Unsupported(node, "a constant reshaped by the batch size.");
            long[] target = shape.Data.Select(v => v!.Value).ToArray();
            long[] dims = ConstantDims(node, value);
            long count = dims.Aggregate(1L, (p, d) => p * d);
            for (int i = 0; i < target.Length; i++) if (target[i] == 0 && !allowZero) target[i] = dims[i];
            int infer = Array.IndexOf(target, -1L);
            if (infer >= 0) target[infer] = count / Math.Max(1, target.Where((d, i) => i != infer).Aggregate(1L, (p, d) => p * d));
            Define(node, 0, Reshaped(node, value, target));
            return;
        }

        ActivationValue a = Activations(node, 0, "the data");
        if (!a.BatchLeads) throw Unsupported(node, $"it reshapes {a.Shape}, whose rows are not samples (the batch axis is not first): that mixes samples.");
        var dimsOut = new long[shape.Data.Length];
        int batchAxis = -1, inferred = -1;
        for (int i = 0; i < dimsOut.Length; i++)
        {
            long? d = shape.Data[i];
            if (d is null || (d == 0 && !allowZero && i == a.BatchAxis)) { batchAxis = batchAxis < 0 ? i : throw Unsupported(node, "the batch size appears twice in the shape."); continue; }
            if (d == 0 && !allowZero)
            {
                if (i >= a.Rank) throw Invalid(node, $"the shape copies dimension {i} (0) of a tensor of rank {a.Rank}.");
                dimsOut[i] = a.Dims[i];
            }
            else if (d == -1) inferred = inferred < 0 ? i : throw Invalid(node, "the shape has two -1 entries.");
            else if (d > 0) dimsOut[i] = d.Value;
            else throw Invalid(node, $"the shape has an entry {d}.");
        }

        long known = dimsOut.Where((d, i) => i != batchAxis && i != inferred).Aggregate(1L, (p, d) => p * d);
        if (batchAxis < 0)
        {
            // [-1, 28, 28]: the -1 is the batch when the rest is one sample.
            if (inferred < 0 || known != a.SampleSize)
                throw Unsupported(node, $"the shape [{string.Join(", ", shape.Data.Select(v => v?.ToString() ?? "batch"))}] does not keep the batch size of {a.Shape} (export with dynamic_axes, so shapes follow the batch).");
            batchAxis = inferred;
        }
        else if (inferred >= 0)
        {
            if (known == 0 || a.SampleSize % known != 0) throw Invalid(node, $"the shape cannot hold {a.SampleSize} floats per sample.");
            dimsOut[inferred] = a.SampleSize / known;
        }
        else if (known != a.SampleSize)
            throw Invalid(node, $"the shape holds {known} floats per sample, and {a.Shape} has {a.SampleSize}.");

        if (dimsOut.Take(batchAxis).Any(d => d != 1)) throw Unsupported(node, "the reshaped batch axis is not first: that mixes samples.");
        // The step axis of a GRU's sequence survives a reshape that keeps every sample axis as it was.
        int[] oldSample = Enumerable.Range(0, a.Rank).Where(i => i != a.BatchAxis).ToArray();
        int[] newSample = Enumerable.Range(0, dimsOut.Length).Where(i => i != batchAxis).ToArray();
        bool sameSample = oldSample.Select(i => a.Dims[i]).SequenceEqual(newSample.Select(i => dimsOut[i]));
        int timeAxis = sameSample && a.TimeAxis >= 0 ? newSample[Array.IndexOf(oldSample, a.TimeAxis)] : -1;
        Define(node, 0, a with { Dims = dimsOut, BatchAxis = batchAxis, TimeAxis = timeAxis });
    }

    private void Transpose(NodeProto node)
    {
        ActivationValue a = Activations(node, 0, "the data");
        long[] perm = Attributes.Has(node, "perm") ? Attributes.Ints(node, "perm") : Enumerable.Range(0, a.Rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != a.Rank || perm.Order().Select(p => (int)p).SequenceEqual(Enumerable.Range(0, a.Rank)) is false)
            throw Invalid(node, $"perm [{string.Join(", ", perm)}] is not a permutation of {a.Rank} axes.");
        // The sample's layout survives when its axes (those longer than 1) keep their order.
        int[] sampleAxes = perm.Select(p => (int)p).Where(p => p != a.BatchAxis && a.Dims[p] != 1).ToArray();
        if (!sampleAxes.SequenceEqual(sampleAxes.Order()))
            throw Unsupported(node, $"perm [{string.Join(", ", perm)}] reorders the axes of each sample of {a.Shape}; FastNet moves only the batch axis (batch-first to step-first and back).");
        Define(node, 0, a with
        {
            Dims = perm.Select(p => a.Dims[p]).ToArray(),
            BatchAxis = Array.IndexOf(perm, (long)a.BatchAxis),
            TimeAxis = a.TimeAxis < 0 ? -1 : Array.IndexOf(perm, (long)a.TimeAxis),
        });
    }

    private void Squeeze(NodeProto node)
    {
        Value value = Input(node, 0);
        long[]? axes = Axes(node, 1);
        if (value is ActivationValue)
        {
            ActivationValue a = Activations(node, 0, "the data");
            int[] remove = axes is null
                ? Enumerable.Range(0, a.Rank).Where(i => i != a.BatchAxis && a.Dims[i] == 1).ToArray()
                : axes.Select(x => NormalizeAxis(node, x, a.Rank)).Distinct().ToArray();
            foreach (int axis in remove)
                if (axis == a.BatchAxis || a.Dims[axis] != 1) throw Unsupported(node, $"it squeezes axis {axis} of {a.Shape}, which is {(axis == a.BatchAxis ? "the batch" : "longer than 1")}.");
            Define(node, 0, a with
            {
                Dims = a.Dims.Where((_, i) => !remove.Contains(i)).ToArray(),
                BatchAxis = a.BatchAxis - remove.Count(r => r < a.BatchAxis),
                TimeAxis = a.TimeAxis < 0 ? -1 : a.TimeAxis - remove.Count(r => r < a.TimeAxis),
            });
            return;
        }

        if (value is FilledTensor filled)
        {
            int[] remove = (axes ?? []).Select(x => NormalizeAxis(node, x, filled.Dims.Length)).ToArray();
            if (remove.Any(r => filled.Dims[r] != 1)) throw Unsupported(node, "it squeezes an axis that is not 1.");
            Define(node, 0, filled with { Dims = filled.Dims.Where((_, i) => !remove.Contains(i)).ToArray() });
            return;
        }

        long[] dims = ConstantDims(node, value);
        int[] drop = axes is null ? Enumerable.Range(0, dims.Length).Where(i => dims[i] == 1).ToArray() : axes.Select(x => NormalizeAxis(node, x, dims.Length)).ToArray();
        if (drop.Any(r => dims[r] != 1)) throw Invalid(node, "it squeezes an axis that is not 1.");
        Define(node, 0, Reshaped(node, value, dims.Where((_, i) => !drop.Contains(i)).ToArray()));
    }

    private void Unsqueeze(NodeProto node)
    {
        Value value = Input(node, 0);
        long[] axes = Axes(node, 1) ?? throw Invalid(node, "axes are missing.");
        if (value is ActivationValue)
        {
            ActivationValue a = Activations(node, 0, "the data");
            int rank = a.Rank + axes.Length;
            int[] insert = axes.Select(x => NormalizeAxis(node, x, rank)).Order().ToArray();
            var dims = new List<long>(a.Dims);
            int batch = a.BatchAxis, time = a.TimeAxis;
            foreach (int at in insert)
            {
                dims.Insert(at, 1);
                if (at <= batch) batch++;
                if (time >= 0 && at <= time) time++;
            }

            Define(node, 0, a with { Dims = [.. dims], BatchAxis = batch, TimeAxis = time });
            return;
        }

        long[] old = ConstantDims(node, value);
        int outRank = old.Length + axes.Length;
        var result = new List<long>(old);
        foreach (int at in axes.Select(x => NormalizeAxis(node, x, outRank)).Order()) result.Insert(at, 1);
        Define(node, 0, Reshaped(node, value, [.. result]));
    }

    private static long[] ConstantDims(NodeProto node, Value value) => value switch
    {
        FloatTensor f => f.Dims,
        IntTensor i => i.Dims,
        _ => throw Unsupported(node, "it reshapes a tensor whose shape depends on the batch size."),
    };

    private static Value Reshaped(NodeProto node, Value value, long[] dims)
    {
        long count = dims.Aggregate(1L, (p, d) => p * d);
        return value switch
        {
            FloatTensor f when f.Data.Length == count => new FloatTensor(dims, f.Data),
            IntTensor i when i.Data.Length == count => new IntTensor(dims, i.Data),
            _ => throw Invalid(node, $"the new shape [{string.Join(", ", dims)}] does not hold the tensor's elements."),
        };
    }

    // ---- Constants and shape arithmetic ----

    private Value Constant(NodeProto node)
    {
        AttributeProto attribute = node.Attribute.Count == 1 ? node.Attribute[0] : throw Invalid(node, $"a Constant has exactly one attribute, this one {node.Attribute.Count}.");
        return attribute.Name switch
        {
            "value" => TensorData.Decode(attribute.T ?? throw Invalid(node, "value holds no tensor."), $"node '{NodeName(node)}'"),
            "value_float" => FloatTensor.Scalar(attribute.F),
            "value_floats" => new FloatTensor([attribute.Floats.Count], [.. attribute.Floats]),
            "value_int" => new IntTensor([], [attribute.I]),
            "value_ints" => new IntTensor([attribute.Ints.Count], [.. attribute.Ints.Select(v => (long?)v)]),
            _ => throw Unsupported(node, $"a Constant given as '{attribute.Name}' (FastNet.Onnx reads value, value_float(s) and value_int(s))."),
        };
    }

    private void Shape(NodeProto node)
    {
        Value value = Input(node, 0);   // may be stale: only its shape is read
        long?[] dims = value switch
        {
            ActivationValue a => a.Dims.Select((d, i) => i == a.BatchAxis ? (long?)null : d).ToArray(),
            FilledTensor f => f.Dims,
            _ => ConstantDims(node, value).Select(d => (long?)d).ToArray(),
        };
        int rank = dims.Length;
        long start = Attributes.Int(node, "start", 0), end = Attributes.Int(node, "end", rank);
        int from = (int)Math.Clamp(start < 0 ? start + rank : start, 0, rank), to = (int)Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        Define(node, 0, new IntTensor([Math.Max(0, to - from)], dims[from..Math.Max(from, to)]));
    }

    private void Gather(NodeProto node)
    {
        Value data = Input(node, 0);
        long[] indices = IntConstant(node, 1, "the indices");
        long[] indexDims = ((IntTensor)Input(node, 1)).Dims;
        long axisAttribute = Attributes.Int(node, "axis", 0);
        if (data is IntTensor ints && ints.Dims.Length == 1)
        {
            NormalizeAxis(node, axisAttribute, 1);
            long n = ints.Data.Length;
            long?[] picked = indices.Select(i => i >= -n && i < n ? ints.Data[i < 0 ? i + n : i] : throw Invalid(node, $"index {i} is outside {n} elements.")).ToArray();
            Define(node, 0, new IntTensor(indexDims, picked));
            return;
        }

        if (data is StackedActivations stacked)
        {
            // h_n[-1] of stacked GRUs: the last layer's Y_h (the others were consumed by the layers after them).
            if (NormalizeAxis(node, axisAttribute, stacked.Entries[0].Rank) != stacked.Axis || indexDims.Length != 0)
                throw Unsupported(node, "it gathers across the stacked states other than one layer's state.");
            int n = stacked.Entries.Length;
            long entry = indices[0] < 0 ? indices[0] + n : indices[0];
            if (entry < 0 || entry >= n) throw Invalid(node, $"index {indices[0]} is outside {n} stacked states.");
            ActivationValue picked = stacked.Entries[entry];
            if (picked.Version != _version)
                throw Unsupported(node, $"it reads the state of GRU layer {entry}, which the next layer already consumed; FastNet networks output their last layer.");
            Define(node, 0, picked with { Dims = picked.Dims.Where((_, i) => i != stacked.Axis).ToArray(), BatchAxis = picked.BatchAxis - (stacked.Axis < picked.BatchAxis ? 1 : 0) });
            return;
        }

        if (data is not ActivationValue) throw Unsupported(node, "a Gather of constants other than a shape.");
        ActivationValue a = Activations(node, 0, "the data");
        int axis = NormalizeAxis(node, axisAttribute, a.Rank);
        if (indexDims.Length != 0) throw Unsupported(node, "it gathers several positions; FastNet.Onnx reads a Gather of one step of a GRU's output.");
        long size = a.Dims[axis], index = indices[0] < 0 ? indices[0] + size : indices[0];
        if (axis == a.BatchAxis) throw Unsupported(node, "it picks one sample of the batch.");
        bool last = index == size - 1;
        if (axis == a.TimeAxis && last)
        {
            // out[:, -1, :]: the last step of a GRU's sequence, its last state.
            Define(node, 0, a with { Dims = a.Dims.Where((_, i) => i != axis).ToArray(), BatchAxis = a.BatchAxis - (axis < a.BatchAxis ? 1 : 0), TimeAxis = -1, Kind = ActivationKind.GruLastStep });
            return;
        }

        if (size == 1 && index == 0)
        {
            // h_n[-1] of a one-layer GRU: the axis of layers has one entry.
            Define(node, 0, a with { Dims = a.Dims.Where((_, i) => i != axis).ToArray(), BatchAxis = a.BatchAxis - (axis < a.BatchAxis ? 1 : 0), TimeAxis = a.TimeAxis < 0 ? -1 : a.TimeAxis - (axis < a.TimeAxis ? 1 : 0) });
            return;
        }

        throw Unsupported(node, $"it picks position {indices[0]} of axis {axis} of {a.Shape}; FastNet.Onnx reads a Gather of the last step of a GRU's output (out[:, -1, :]).");
    }

    private void Slice(NodeProto node)
    {
        Value data = Input(node, 0);
        long[] starts = IntConstant(node, 1, "starts"), ends = IntConstant(node, 2, "ends");
        int rank = data switch { ActivationValue a => a.Rank, FilledTensor f => f.Dims.Length, _ => ConstantDims(node, data).Length };
        long[] axes = OptionalInput(node, 3) is null ? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray() : IntConstant(node, 3, "axes");
        long[] steps = OptionalInput(node, 4) is null ? Enumerable.Repeat(1L, starts.Length).ToArray() : IntConstant(node, 4, "steps");
        if (axes.Length != starts.Length || ends.Length != starts.Length || steps.Length != starts.Length)
            throw Invalid(node, "starts, ends, axes and steps differ in length.");
        if (steps.Any(s => s != 1)) throw Unsupported(node, "steps other than 1.");

        // [from, to) on an axis of the given size, as ONNX clamps them.
        static (long From, long To) Range(long start, long end, long size)
        {
            long from = Math.Clamp(start < 0 ? start + size : start, 0, size), to = Math.Clamp(end < 0 ? end + size : end, 0, size);
            return (from, Math.Max(from, to));
        }

        switch (data)
        {
            case IntTensor ints when ints.Dims.Length == 1:
            {
                NormalizeAxis(node, axes[0], 1);
                (long from, long to) = Range(starts[0], ends[0], ints.Data.Length);
                Define(node, 0, new IntTensor([to - from], ints.Data[(int)from..(int)to]));
                return;
            }
            case FilledTensor filled:
            {
                long?[] dims = (long?[])filled.Dims.Clone();
                for (int k = 0; k < axes.Length; k++)
                {
                    int axis = NormalizeAxis(node, axes[k], rank);
                    if (dims[axis] is not long size) throw Unsupported(node, "it slices the batch axis.");
                    (long from, long to) = Range(starts[k], ends[k], size);
                    dims[axis] = to - from;
                }

                Define(node, 0, filled with { Dims = dims });
                return;
            }
            case ActivationValue:
            {
                ActivationValue a = Activations(node, 0, "the data");
                int axis = axes.Length == 1 ? NormalizeAxis(node, axes[0], rank) : -1;
                if (axis >= 0 && axis == a.TimeAxis)
                {
                    (long from, long to) = Range(starts[0], ends[0], a.Dims[axis]);
                    if (from == a.Dims[axis] - 1 && to == a.Dims[axis])
                    {
                        long[] dims = (long[])a.Dims.Clone();
                        dims[axis] = 1;
                        Define(node, 0, a with { Dims = dims, TimeAxis = -1, Kind = ActivationKind.GruLastStep });
                        return;
                    }
                }

                throw Unsupported(node, $"it slices {a.Shape}; FastNet.Onnx reads a Slice of the last step of a GRU's output.");
            }
            default:
                throw Unsupported(node, "a Slice of a constant other than a shape.");
        }
    }

    private void Concat(NodeProto node)
    {
        var parts = node.Input.Select((_, i) => Input(node, i)).ToList();
        if (parts.All(p => p is IntTensor { Dims.Length: 1 }))
        {
            NormalizeAxis(node, Attributes.Int(node, "axis", 0), 1);
            long?[] all = parts.SelectMany(p => ((IntTensor)p).Data).ToArray();
            Define(node, 0, new IntTensor([all.Length], all));
            return;
        }

        if (parts.All(p => p is FloatTensor { Dims.Length: 1 }))
        {
            float[] all = parts.SelectMany(p => ((FloatTensor)p).Data).ToArray();
            Define(node, 0, new FloatTensor([all.Length], all));
            return;
        }

        if (parts.All(p => p is ActivationValue) && parts.Cast<ActivationValue>().ToArray() is var entries)
        {
            // h_n of stacked GRUs: one [1, batch, hidden] Y_h per layer along axis 0. Kept whole; a Gather picks one.
            int axis = NormalizeAxis(node, Attributes.Int(node, "axis", 0), entries[0].Rank);
            if (entries.All(e => e.Rank == entries[0].Rank && e.BatchAxis == entries[0].BatchAxis && axis != e.BatchAxis && e.Dims[axis] == 1))
            {
                Define(node, 0, new StackedActivations(entries, axis));
                return;
            }
        }

        throw Unsupported(node, parts.Any(p => p is ActivationValue)
            ? "it concatenates activations (FastNet networks are one chain of layers: no skip connections; only the h_n of stacked GRUs is read, by a Gather of one layer's state)."
            : "a Concat of constants other than 1-D shapes.");
    }

    private void ConstantOfShape(NodeProto node)
    {
        if (Input(node, 0) is not IntTensor shape || shape.Dims.Length != 1) throw Unsupported(node, "the shape must be a 1-D integer tensor.");
        float fill = 0f;
        if (Attributes.Has(node, "value"))
        {
            Value v = TensorData.Decode(Attributes.Tensor(node, "value"), $"node '{NodeName(node)}'");
            fill = v switch
            {
                FloatTensor { Data.Length: 1 } f => f.Data[0],
                IntTensor { Data.Length: 1 } i => i.Data[0]!.Value,
                _ => throw Invalid(node, "value must hold one element."),
            };
        }

        if (shape.Data.Any(d => d < 0)) throw Invalid(node, "the shape has a negative dimension.");
        if (!shape.IsConstant)
        {
            Define(node, 0, new FilledTensor(shape.Data, fill));
            return;
        }

        long count = shape.Data.Aggregate(1L, (p, d) => p * d!.Value);
        if (count > MaxFoldedElements) throw Unsupported(node, $"a constant of {count} elements.");
        Define(node, 0, new FloatTensor(shape.Data.Select(d => d!.Value).ToArray(), [.. Enumerable.Repeat(fill, (int)count)]));
    }

    private void Cast(NodeProto node)
    {
        Value value = Input(node, 0);
        var to = (TensorProto.Types.DataType)Attributes.Int(node, "to", 0);
        Value result = (value, to) switch
        {
            (ActivationValue a, TensorProto.Types.DataType.Float) => a,
            (FloatTensor f, TensorProto.Types.DataType.Float) => f,
            (FloatTensor f, TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32) => new IntTensor(f.Dims, f.Data.Select(v => (long?)(long)v).ToArray()),
            (IntTensor i, TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32) => i,
            (IntTensor { IsConstant: true } i, TensorProto.Types.DataType.Float) => new FloatTensor(i.Dims, i.Data.Select(v => (float)v!.Value).ToArray()),
            (FilledTensor f, TensorProto.Types.DataType.Float) => f,
            _ => throw Unsupported(node, $"a Cast to {to} of {(value is ActivationValue ? "activations" : "this constant")}."),
        };
        Define(node, 0, result);
    }

    // ---- Broadcasting constants over a sample ----

    /// <summary>A [outputs] row from a constant broadcast over [batch, outputs]: shapes [], [1], [outputs], [1, outputs].</summary>
    private static float[] RowBias(NodeProto node, FloatTensor c, int outputs, string what)
    {
        long[] dims = c.Dims.SkipWhile(d => d == 1).ToArray();
        if (c.Data.Length == 1) return [.. Enumerable.Repeat(c.Data[0], outputs)];
        if (dims.Length == 1 && dims[0] == outputs) return (float[])c.Data.Clone();
        throw Unsupported(node, $"{what} has shape [{string.Join(", ", c.Dims)}], which is not one value per output ({outputs}) for every sample.");
    }

    /// <summary>
    /// A constant broadcast (numpy rules) over one sample of <paramref name="a"/>: one value for all features, or one
    /// per feature in the sample's row-major order. A constant that varies along the batch axis is refused.
    /// </summary>
    private static float[] SampleBroadcast(NodeProto node, FloatTensor c, ActivationValue a, string what)
    {
        if (c.Data.Length == 1) return [c.Data[0]];
        if (c.Dims.Length > a.Rank) throw Unsupported(node, $"{what} has more axes than the input {a.Shape}.");
        int shift = a.Rank - c.Dims.Length;   // c's axis k lines up with a's axis k + shift
        for (int k = 0; k < c.Dims.Length; k++)
        {
            int axis = k + shift;
            if (c.Dims[k] != 1 && (axis == a.BatchAxis || c.Dims[k] != a.Dims[axis]))
                throw Unsupported(node, $"{what} has shape [{string.Join(", ", c.Dims)}], which does not broadcast over each sample of {a.Shape}.");
        }

        // Walk the sample's axes row-major and read the constant's element at each position.
        int[] sampleAxes = Enumerable.Range(0, a.Rank).Where(i => i != a.BatchAxis).ToArray();
        var result = new float[a.SampleSize];
        var index = new long[a.Rank];
        for (long flat = 0; flat < result.Length; flat++)
        {
            long rest = flat;
            for (int s = sampleAxes.Length - 1; s >= 0; s--)
            {
                index[sampleAxes[s]] = rest % a.Dims[sampleAxes[s]];
                rest /= a.Dims[sampleAxes[s]];
            }

            long offset = 0;
            for (int k = 0; k < c.Dims.Length; k++) offset = offset * c.Dims[k] + (c.Dims[k] == 1 ? 0 : index[k + shift]);
            result[flat] = c.Data[offset];
        }

        return result;
    }

    private static float[] Transposed(float[] data, int rows, int cols)
    {
        var result = new float[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) result[c * rows + r] = data[r * cols + c];
        return result;
    }
}

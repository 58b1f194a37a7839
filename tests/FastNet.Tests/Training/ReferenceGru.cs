namespace FastNet.Tests.Training;

/// <summary>
/// The GRU of PyTorch's documentation in double precision, as plain loops over the equations, with the
/// parameters in PyTorch's layout (weight_ih [3H x F], weight_hh [3H x H], bias_ih, bias_hh; gates r, z, n).
/// </summary>
internal static class ReferenceGru
{
    /// <param name="layer">Shape of the layer (its parameters are read from <paramref name="parameters"/>).</param>
    /// <param name="parameters">Holds the layer's parameters from <paramref name="offset"/>.</param>
    /// <param name="offset">Where they start.</param>
    /// <param name="x">[batch x steps x features].</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="initialState">h_0 [batch x H], or null for zeros.</param>
    /// <param name="recurrentInput">
    /// What the recurrent product W_hh h sees of each state (a quantized predictor's dequantized levels), null for the state
    /// itself; the blend z * h always uses the state.
    /// </param>
    /// <returns>h_T [batch x H], or h_1..h_T [batch x steps x H] when the layer returns sequences.</returns>
    public static double[] Forward(GruLayer layer, double[] parameters, int offset, double[] x, int batch, double[]? initialState,
        Func<double[], double[]>? recurrentInput = null)
    {
        int f = layer.Features, h = layer.HiddenSize, steps = layer.Steps;
        int wih = offset, whh = wih + 3 * h * f, bih = whh + 3 * h * h, bhh = bih + 3 * h;
        var output = new double[batch * (layer.ReturnSequences ? steps * h : h)];
        for (int b = 0; b < batch; b++)
        {
            var state = new double[h];
            if (initialState is not null) Array.Copy(initialState, b * h, state, 0, h);
            for (int t = 0; t < steps; t++)
            {
                double[] seen = recurrentInput?.Invoke(state) ?? state;
                // Row g of W_ih x_t + b_ih and of W_hh h_{t-1} + b_hh, for g in 0 .. 3H-1.
                double Input(int g)
                {
                    double sum = parameters[bih + g];
                    for (int i = 0; i < f; i++) sum += parameters[wih + g * f + i] * x[(b * steps + t) * f + i];
                    return sum;
                }

                double Hidden(int g)
                {
                    double sum = parameters[bhh + g];
                    for (int i = 0; i < h; i++) sum += parameters[whh + g * h + i] * seen[i];
                    return sum;
                }

                var next = new double[h];
                for (int j = 0; j < h; j++)
                {
                    double r = Sigmoid(Input(j) + Hidden(j));
                    double z = Sigmoid(Input(h + j) + Hidden(h + j));
                    double n = Math.Tanh(Input(2 * h + j) + r * Hidden(2 * h + j));
                    next[j] = (1 - z) * n + z * state[j];
                }

                state = next;
                if (layer.ReturnSequences) Array.Copy(state, 0, output, (b * steps + t) * h, h);
            }

            if (!layer.ReturnSequences) Array.Copy(state, 0, output, b * h, h);
        }

        return output;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}

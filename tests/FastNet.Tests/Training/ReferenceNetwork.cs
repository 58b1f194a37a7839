using FastNet.Training;

namespace FastNet.Tests.Training;

/// <summary>
/// An independent double-precision evaluation of a network's loss, written as plain loops from the
/// definitions, for finite-difference gradient checks.
/// </summary>
internal static class ReferenceNetwork
{
    public static double Activate(Activation act, double z) => act switch
    {
        Activation.Relu => z > 0 ? z : 0,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        Activation.Tanh => Math.Tanh(z),
        Activation.LeakyRelu => z > 0 ? z : 0.01 * z,
        _ => z,
    };

    /// <summary>Forward pass with parameters given in the network's layout, in double.</summary>
    public static double[] Forward(Network net, double[] parameters, float[] inputs, int batch)
    {
        double[] x = Array.ConvertAll(inputs, v => (double)v);
        foreach (Layer any in net.Layers)
        {
            if (any is GruLayer gru)
            {
                x = ReferenceGru.Forward(gru, parameters, gru.ParameterOffset, x, batch, initialState: null);
                continue;
            }

            var layer = (DenseLayer)any;
            int nIn = layer.Inputs, nOut = layer.Outputs, w = layer.ParameterOffset, b = w + nIn * nOut;
            var y = new double[batch * nOut];
            for (int r = 0; r < batch; r++)
                for (int j = 0; j < nOut; j++)
                {
                    double z = parameters[b + j];
                    for (int i = 0; i < nIn; i++) z += x[r * nIn + i] * parameters[w + i * nOut + j];
                    y[r * nOut + j] = Activate(layer.Activation, z);
                }

            x = y;
        }

        return x;
    }

    /// <summary>The loss of <paramref name="loss"/> on outputs against target rows (one-hot rows for labels).</summary>
    public static double Loss(Loss loss, double[] output, double[] targets, int batch, int cols)
    {
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            switch (loss)
            {
                case FastNet.Training.Loss.SoftmaxCrossEntropy:
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < cols; j++) max = Math.Max(max, output[r * cols + j]);
                    for (int j = 0; j < cols; j++) sum += Math.Exp(output[r * cols + j] - max);
                    for (int j = 0; j < cols; j++) total -= targets[r * cols + j] * (output[r * cols + j] - max - Math.Log(sum));
                    break;
                case FastNet.Training.Loss.HalfSquaredError:
                    for (int j = 0; j < cols; j++) total += 0.5 * Math.Pow(output[r * cols + j] - targets[r * cols + j], 2);
                    break;
                case FastNet.Training.Loss.MeanSquaredError:
                    for (int j = 0; j < cols; j++) total += Math.Pow(output[r * cols + j] - targets[r * cols + j], 2) / cols;
                    break;
                default:
                    for (int j = 0; j < cols; j++)
                    {
                        double p = 1 / (1 + Math.Exp(-output[r * cols + j])), t = targets[r * cols + j];
                        total -= (t * Math.Log(p) + (1 - t) * Math.Log(1 - p)) / cols;
                    }

                    break;
            }
        }

        return total / batch;
    }

    /// <summary>Central differences of the double-precision loss with respect to every parameter.</summary>
    public static double[] NumericGradient(Network net, Loss loss, float[] inputs, double[] targets, int batch, double h = 1e-6)
    {
        double[] p = Array.ConvertAll(net.Parameters.ToArray(), v => (double)v);
        var grad = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double keep = p[i];
            p[i] = keep + h;
            double plus = Loss(loss, Forward(net, p, inputs, batch), targets, batch, net.OutputSize);
            p[i] = keep - h;
            double minus = Loss(loss, Forward(net, p, inputs, batch), targets, batch, net.OutputSize);
            p[i] = keep;
            grad[i] = (plus - minus) / (2 * h);
        }

        return grad;
    }
}

// NativeAOT smoke test: build and save a model, load it into a predictor, predict, and check the result
// against the in-memory network's predictor; then the same through ONNX (FastNet.Onnx: export, import, predict,
// with Google.Protobuf under trimming). Exit code 0 on success.
// Publish and run: dotnet publish src/FastNet.AotSample -c Release -r linux-x64 -o artifacts/aot && artifacts/aot/FastNet.AotSample
using FastNet;
using FastNet.Inference;
using FastNet.Onnx;

string path = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), $"fastnet-aot-{Environment.ProcessId}.fnet");
bool created = args.Length == 0;
Network network = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 7);
if (created) network.Save(path);

try
{
    using Predictor loaded = Predictor.Load(path);
    var input = new float[loaded.InputSize];
    for (int i = 0; i < input.Length; i++) input[i] = (i % 29) / 29f;
    var probabilities = new float[loaded.OutputSize];
    loaded.PredictProbabilities(input, probabilities);
    int predicted = loaded.PredictClass(input);
    Console.WriteLine($"loaded {path}: {loaded.InputSize} -> {loaded.OutputSize}, class {predicted}, p = {probabilities[predicted]:F4}");

    if (created)
    {
        using Predictor original = network.CreatePredictor();
        var expected = new float[original.OutputSize];
        var actual = new float[loaded.OutputSize];
        original.Predict(input, expected);
        loaded.Predict(input, actual);
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            Console.Error.WriteLine("The loaded model predicts differently from the saved one.");
            return 1;
        }

        // ONNX: a GRU network with labels and a softmax goes out and comes back the same.
        Network gru = new NetworkBuilder(784).Gru(16, steps: 28).Dense(10).Build(seed: 3);
        gru.Metadata = new ModelMetadata { ClassLabels = [.. Enumerable.Range(0, 10).Select(d => $"digit {d}")], OutputTransform = OutputTransform.Softmax };
        string onnx = Path.ChangeExtension(path, ".onnx");
        try
        {
            gru.SaveOnnx(onnx);
            Network imported = OnnxImport.Load(onnx);
            using Predictor fromOnnx = imported.CreatePredictor();
            Console.WriteLine($"ONNX round trip: {imported.Layers.Count} layers, predicts '{fromOnnx.PredictLabel(input)}'");
            if (!imported.Parameters.SequenceEqual(gru.Parameters) || !imported.Metadata.ClassLabels!.SequenceEqual(gru.Metadata.ClassLabels!))
            {
                Console.Error.WriteLine("The ONNX round trip changed the network.");
                return 1;
            }
        }
        finally
        {
            File.Delete(onnx);
        }
    }

    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
finally
{
    if (created) File.Delete(path);
}

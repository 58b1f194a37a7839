using System.Text.Json;

namespace FastNet.Tests.Onnx;

/// <summary>A model exported by make_fixtures.py (PyTorch), with a random batch and PyTorch's outputs for it.</summary>
internal sealed record OnnxFixture(string Name, string ModelPath, int[] InputShape, float[] Input, int[] OutputShape, float[] Output)
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Onnx", "Fixtures");

    public static readonly string[] All =
    [
        "mlp_activations", "matmul_add_logsoftmax", "normalized_input", "gemm_identity_dropout", "gemm_transposed_input",
        "gru_last", "gru_two_layers_flat_input", "gru_hidden_state", "gru_two_layers_hidden_state", "gru_sequence", "gru_slice_last", "t1",
    ];

    public int Rows => InputShape[0];

    public static OnnxFixture Load(string name)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json")));
        JsonElement root = json.RootElement;
        static T[] Array<T>(JsonElement e, Func<JsonElement, T> read) => e.EnumerateArray().Select(read).ToArray();
        return new OnnxFixture(name, Path.Combine(Folder, name + ".onnx"),
            Array(root.GetProperty("input_shape"), e => e.GetInt32()), Array(root.GetProperty("input"), e => (float)e.GetDouble()),
            Array(root.GetProperty("output_shape"), e => e.GetInt32()), Array(root.GetProperty("output"), e => (float)e.GetDouble()));
    }

    /// <summary>|actual - expected| &lt;= 1e-5 + 1e-5 |expected| for every value (the bar).</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-5 + 1e-5 * Math.Abs(expected[i]);
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}: value {i} is {actual[i]}, expected {expected[i]} (difference {Math.Abs(actual[i] - expected[i]):E2} > {tolerance:E2})");
        }
    }
}

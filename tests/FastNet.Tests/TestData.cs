namespace FastNet.Tests;

/// <summary>Seeded random test data.</summary>
internal static class TestData
{
    public static float[] Uniform(Random rng, int length, float low = -1f, float high = 1f)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = low + (float)rng.NextDouble() * (high - low);
        return x;
    }
}

/// <summary>Typed access to a network's layers in tests.</summary>
internal static class NetworkTestExtensions
{
    public static DenseLayer Dense(this Network network, int index) => (DenseLayer)network.Layers[index];
}

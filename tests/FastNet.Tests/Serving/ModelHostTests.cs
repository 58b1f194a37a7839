using System.Security.Cryptography;
using FastNet.Inference;
using FastNet.Onnx;
using FastNet.Serving;

namespace FastNet.Tests.Serving;

/// <summary>Loading, warm-up, atomic reloads (explicit and watched) and the refusal of bad files.</summary>
public sealed class ModelHostTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fastnet-serving-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static Network Model(int seed, int inputs = 12) => new NetworkBuilder(inputs).Dense(8, Activation.Relu).Dense(3).Build(seed);

    private static float[] Predict(Predictor predictor, float[] x)
    {
        var y = new float[predictor.OutputSize];
        predictor.Predict(x, y);
        return y;
    }

    private ModelHost Host(string path, bool watch = false) =>
        new(new FastNetServingOptions { ModelPath = path, WatchForChanges = watch, WarmupCalls = 10, ReloadDebounce = TimeSpan.FromMilliseconds(50) });

    [Fact]
    public void ServesTheFileWithItsVersionHashAndLoadTime()
    {
        string path = PathOf("model.fnet");
        Network net = Model(1);
        net.Save(path);
        DateTimeOffset before = DateTimeOffset.UtcNow;
        using ModelHost host = Host(path);
        LoadedModel model = host.Current;
        Assert.Equal(1, model.Version);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), model.Sha256);
        Assert.InRange(model.LoadedAt, before, DateTimeOffset.UtcNow);
        float[] x = TestData.Uniform(new Random(1), 12, 0, 1);
        using Predictor reference = net.CreatePredictor();
        Assert.Equal(Predict(reference, x), Predict(model.Predictor, x));
    }

    [Fact]
    public void AReloadSwapsAtomicallyAndABadFileKeepsTheOldModel()
    {
        string path = PathOf("model.fnet");
        Model(1).Save(path);
        using ModelHost host = Host(path);
        LoadedModel first = host.Current;
        float[] x = TestData.Uniform(new Random(2), 12, 0, 1);
        float[] before = Predict(first.Predictor, x);

        Network second = Model(2);
        second.Save(path);
        ModelReloadedEventArgs reloaded = host.Reload();
        Assert.True(reloaded.Changed);
        Assert.Null(reloaded.Error);
        Assert.Equal(2, host.Current.Version);
        using (Predictor reference = second.CreatePredictor()) Assert.Equal(Predict(reference, x), Predict(host.Current.Predictor, x));
        Assert.Equal(before, Predict(first.Predictor, x));   // a request still holding the old snapshot finishes on it

        // Truncated, not a model, other sizes: rejected, version 2 keeps serving.
        byte[] good = File.ReadAllBytes(path);
        foreach (byte[] bad in new[] { good[..(good.Length / 2)], "not a model"u8.ToArray() })
        {
            File.WriteAllBytes(path, bad);
            ModelReloadedEventArgs rejected = host.Reload();
            Assert.False(rejected.Changed);
            Assert.IsType<InvalidDataException>(rejected.Error);
            Assert.Equal(2, host.Current.Version);
        }

        Model(3, inputs: 13).Save(path);
        ModelReloadedEventArgs resized = host.Reload();
        Assert.Contains("clients would break", resized.Error!.Message);
        Assert.Equal(2, host.Current.Version);

        File.WriteAllBytes(path, good);
        Assert.False(host.Reload().Changed);   // the same bytes again: nothing to swap
        Assert.Equal(2, host.Current.Version);
    }

    [Fact]
    public void ReplacingTheWatchedFileReloadsIt()
    {
        string path = PathOf("watched.onnx");
        Model(1).SaveOnnx(path);
        using ModelHost host = Host(path, watch: true);
        var reloads = new List<ModelReloadedEventArgs>();
        host.Reloaded += (_, e) => { lock (reloads) reloads.Add(e); };

        Model(2).SaveOnnx(path);   // written beside it and renamed over it, as AtomicFile does
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (host.Current.Version < 2 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(2, host.Current.Version);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), host.Current.Sha256);
    }

    /// <summary>A file saved by an Int8 predictor is served as that predictor, whatever precision the options leave at default.</summary>
    [Fact]
    public void AQuantizedFileIsServedInItsPrecision()
    {
        string path = PathOf("model-int8.fnet");
        Network net = Model(3);
        using Predictor int8 = net.CreatePredictor(new PredictorOptions { Precision = Precision.Int8 });
        int8.Save(path);
        using ModelHost host = Host(path);
        Assert.Equal(Precision.Int8, host.Current.Predictor.Options.Precision);
        float[] x = TestData.Uniform(new Random(2), 12, 0, 1);
        Assert.Equal(Predict(int8, x), Predict(host.Current.Predictor, x));
    }

    [Fact]
    public void AMissingFileFailsAtStart()
    {
        Assert.Throws<FileNotFoundException>(() => Host(PathOf("missing.fnet")));
    }
}

namespace FastNet.Service;

/// <summary>The service's settings: command line (--model, --batching, --max-batch, --max-wait-ms, --warmup) or any ASP.NET Core configuration source.</summary>
internal sealed class ServiceOptions
{
    /// <summary>The model file (.fnet from the demo, or .onnx). Default: mnist-model.fnet in the current folder, where the demo saves it.</summary>
    public string Model { get; init; } = "mnist-model.fnet";

    /// <summary>Whether concurrent requests are micro-batched.</summary>
    public bool Batching { get; init; }

    /// <summary>Largest micro-batch.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>Longest wait of a micro-batch for more requests, in milliseconds.</summary>
    public double MaxWaitMs { get; init; } = 1;

    /// <summary>Whether the model and the request path are warmed up before /healthz says ready (on by default).</summary>
    public bool Warmup { get; init; } = true;

    /// <summary>Largest request body in bytes (784 floats as JSON take about 10 KB; as float32 3,136 bytes).</summary>
    public long MaxBodyBytes { get; init; } = 64 * 1024;

    public static ServiceOptions From(Microsoft.Extensions.Configuration.IConfiguration configuration) => new()
    {
        Model = configuration["model"] ?? "mnist-model.fnet",
        Batching = bool.TryParse(configuration["batching"], out bool batching) && batching,
        MaxBatch = int.TryParse(configuration["max-batch"], out int maxBatch) ? maxBatch : 64,
        Warmup = !bool.TryParse(configuration["warmup"], out bool warmup) || warmup,
        MaxWaitMs = double.TryParse(configuration["max-wait-ms"], System.Globalization.CultureInfo.InvariantCulture, out double wait) ? wait : 1,
    };
}

/// <summary>The service cannot start (no model file, a bad one); the message says what to do.</summary>
internal sealed class ServiceStartException(string message, Exception? inner = null) : Exception(message, inner);

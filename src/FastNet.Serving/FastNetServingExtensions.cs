using FastNet.Serving;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers FastNet's model serving in an ASP.NET Core (or any generic host) application.</summary>
public static class FastNetServingExtensions
{
    /// <summary>
    /// Registers one <see cref="ModelHost"/> for the model at <paramref name="modelPath"/> (loaded and warmed up when the
    /// host starts, before it serves; reloaded when the file is replaced) and, when
    /// <see cref="FastNetServingOptions.Batching"/> is set, a <see cref="MicroBatcher"/> over it.
    /// </summary>
    public static IServiceCollection AddFastNetPredictor(this IServiceCollection services, string modelPath, Action<FastNetServingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var options = new FastNetServingOptions { ModelPath = modelPath };
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(provider => new ModelHost(options, provider.GetService<ILogger<ModelHost>>()));
        if (options.Batching is { } batching)
            services.TryAddSingleton(provider => new MicroBatcher(provider.GetRequiredService<ModelHost>(), batching));
        services.AddHostedService<ModelWarmup>();
        return services;
    }

    /// <summary>Creates the model host (load and warm-up) when the application starts, so the first request finds it ready.</summary>
    private sealed class ModelWarmup(IServiceProvider provider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            provider.GetRequiredService<ModelHost>();
            provider.GetService<MicroBatcher>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

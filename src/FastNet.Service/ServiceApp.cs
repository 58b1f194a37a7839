using FastNet.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FastNet.Service;

/// <summary>
/// Builds the service: POST /predict, GET /model, GET /healthz, the draw-a-digit page at /, problem details for
/// every error, a body size limit. Stateless: the model file is its only state, so more load means more replicas
/// (see the README).
/// </summary>
public static class ServiceApp
{
    /// <summary>The application for <paramref name="args"/> (--model, --batching, --max-batch, --max-wait-ms, --warmup, --urls, ...).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="backend">Replaces FastNet behind /predict (the load test's ONNX Runtime backend), or null.</param>
    /// <exception cref="ServiceStartException">The model file is missing or invalid (the message says what to do).</exception>
    public static WebApplication Build(string[] args, Func<IServiceProvider, IPredictionBackend>? backend = null)
    {
        // The content root is where the service's files are (the page), not the folder it is started from.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        ServiceOptions options = ServiceOptions.From(builder.Configuration);
        string model = Path.GetFullPath(options.Model);
        if (backend is null && !File.Exists(model))
            throw new ServiceStartException(
                $"No model at {model}. Train one with the demo first (dotnet run -c Release --project src/FastNet.Mnist saves mnist-model.fnet), or pass --model PATH (.fnet or .onnx).");

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServiceJson.Default));
        builder.Services.AddProblemDetails();
        if (backend is null)
        {
            builder.Services.AddFastNetPredictor(model, serving =>
            {
                if (!options.Warmup) serving.WarmupCalls = 0;
                // /predict checks every input for NaN and infinity before any backend sees it: one scan, not two.
                serving.PredictorOptions = new FastNet.Inference.PredictorOptions { CheckInputs = false };
                if (options.Batching)
                    serving.Batching = new MicroBatchingOptions { MaxBatchSize = options.MaxBatch, MaxWait = TimeSpan.FromMilliseconds(options.MaxWaitMs) };
            });
            builder.Services.TryAddSingleton<IPredictionBackend>(provider => new FastNetBackend(provider.GetRequiredService<ModelHost>(), provider.GetService<MicroBatcher>()));
        }
        else
        {
            builder.Services.AddSingleton(backend);
        }

        builder.Services.AddSingleton<PipelineWarmup>();
        WebApplication app = builder.Build();
        app.UseExceptionHandler();        // a problem body, never a stack trace
        app.UseStatusCodePages();         // problem bodies for 404, 405...
        app.UseDefaultFiles();
        app.UseStaticFiles();             // wwwroot: the draw-a-digit page

        app.MapPost("/predict", PredictionEndpoints.Predict).DisableAntiforgery();
        app.MapGet("/healthz", PredictionEndpoints.Health);
        app.Services.GetRequiredService<PipelineWarmup>().Start(app, app.Services.GetRequiredService<IPredictionBackend>().InputSize, options.Warmup);
        if (backend is null)
        {
            app.MapGet("/model", PredictionEndpoints.Model);
            try
            {
                app.Services.GetRequiredService<ModelHost>();   // load and warm up now: a bad file stops the start, with its reason
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException)
            {
                throw new ServiceStartException($"Cannot serve {model}: {e.Message}", e);
            }
        }

        return app;
    }
}

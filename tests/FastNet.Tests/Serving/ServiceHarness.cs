using FastNet.Service;
using Microsoft.AspNetCore.Builder;

namespace FastNet.Tests.Serving;

/// <summary>The real service on Kestrel at 127.0.0.1 (a free port), over a model file in a temporary folder.</summary>
internal sealed class ServiceHarness : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServiceHarness(WebApplication app, string modelPath)
    {
        _app = app;
        ModelPath = modelPath;
        Address = new Uri(app.Urls.Single());
        Client = new HttpClient { BaseAddress = Address };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public string ModelPath { get; }

    public static async Task<ServiceHarness> StartAsync(string modelPath, params string[] extraArgs)
    {
        WebApplication app = ServiceApp.Build(["--model", modelPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. extraArgs]);
        await app.StartAsync();
        var harness = new ServiceHarness(app, modelPath);
        // Ready when /healthz says so (the service warms its request path first).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await harness.Client.GetAsync("/healthz")).StatusCode != System.Net.HttpStatusCode.OK)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the service did not become ready in 30 s");
            await Task.Delay(20);
        }

        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

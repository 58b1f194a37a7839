using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastNet.Service;

/// <summary>
/// Warms the whole request path once the server listens: a few hundred POST /predict to itself over loopback (JSON and
/// float32 bodies), so that Kestrel, the JSON reader and the endpoint are compiled before the first client arrives (the
/// model itself is warmed before the server starts). GET /healthz answers 503 until this is done, so a load balancer
/// sends no traffic to a cold replica.
/// </summary>
internal sealed class PipelineWarmup
{
    private const int Requests = 300;
    private volatile bool _ready;

    /// <summary>Whether the warm-up has finished (or failed: a service that cannot call itself still serves).</summary>
    public bool Ready => _ready;

    public void Start(WebApplication app, int inputs, bool enabled)
    {
        if (!enabled)
        {
            _ready = true;
            return;
        }

        app.Lifetime.ApplicationStarted.Register(() => Task.Run(async () =>
        {
            try
            {
                string? url = app.Urls.FirstOrDefault();
                if (url is null) return;
                var address = new UriBuilder(url);
                if (address.Host is "0.0.0.0" or "[::]" or "+" or "*") address.Host = "127.0.0.1";
                using var client = new HttpClient { BaseAddress = address.Uri, Timeout = TimeSpan.FromSeconds(10) };
                var input = new float[inputs];
                byte[] raw = new byte[inputs * sizeof(float)];
                for (int i = 0; i < Requests; i++)
                {
                    using HttpResponseMessage json = await client.PostAsJsonAsync("/predict", input, ServiceJson.Default.SingleArray);
                    var octet = new ByteArrayContent(raw);
                    octet.Headers.ContentType = new("application/octet-stream");
                    using HttpResponseMessage binary = await client.PostAsync("/predict", octet);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
            {
                app.Logger.LogWarning("The request path was not warmed up ({Error}); the first requests will be slower.", e.Message);
            }
            finally
            {
                _ready = true;
            }
        }));
    }
}

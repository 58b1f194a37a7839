using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FastNet.Onnx;
using FastNet.Service;
using Microsoft.AspNetCore.Builder;

namespace FastNet.Benchmarks;

/// <summary>
/// S1 of ../shared/WORKLOADS.md: the service on 127.0.0.1 under wrk (Debian's wrk 4, a Lua script POSTing one
/// T1 input as JSON), at 1, 16 and 64 connections, for FastNet (batch-1), FastNet with micro-batching, and ONNX
/// Runtime behind the same endpoint on the same model exported to ONNX. Each run is bounded in time. A further run
/// per FastNet variant replaces the model file halfway (an atomic rename) and checks that no request failed and that
/// the service moved to the new version. The service and wrk share the machine's cores.
/// Run: dotnet run -c Release --project bench/FastNet.Benchmarks -- load [results-subfolder] [seconds per run] [T1|T2]
/// (T2, 784-1024-1024-10, is where a request's prediction costs more than its HTTP, and micro-batching can pay.)
/// </summary>
internal static partial class ServiceLoadHarness
{
    private const int Rounds = 3;

    private static double Median(List<WrkResult> results, Func<WrkResult, double> value) => LatencyHarness.Percentile([.. results.Select(value)], 0.5);

    public static void Run(string? subfolder, int seconds, string modelName = "T1")
    {
        InferenceModel workload = modelName.Equals("T2", StringComparison.OrdinalIgnoreCase) ? InferenceModel.T2 : InferenceModel.T1;
        if (!File.Exists("/usr/bin/wrk")) throw new InvalidOperationException("wrk is not installed: sudo apt-get install wrk");
        string temp = Directory.CreateTempSubdirectory("fastnet-load-").FullName;
        try
        {
            RunIn(temp, subfolder, seconds, workload);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private static void RunIn(string temp, string? subfolder, int seconds, InferenceModel workload)
    {
        // The network with digit labels, as a FastNet model file and as ONNX.
        bool t1 = workload == InferenceModel.T1;
        Network net = workload.Build();
        net.Metadata = new ModelMetadata { ClassLabels = [.. Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture))] };
        string name = t1 ? "t1" : "t2";
        string fnet = Path.Combine(temp, $"{name}.fnet"), onnx = Path.Combine(temp, $"{name}.onnx"), batchedModel = Path.Combine(temp, $"{name}-batched.fnet");
        net.Save(fnet);
        net.SaveOnnx(onnx);
        var rng = new Random(1);
        string body = JsonSerializer.Serialize(Enumerable.Range(0, 784).Select(_ => MathF.Round((float)rng.NextDouble(), 3)).ToArray());
        string script = Path.Combine(temp, "post.lua");
        File.WriteAllText(script, $"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = \"{body.Replace("\"", "\\\"")}\"\n");

        var lines = new List<string>
        {
            t1 ? "# service-load" : "# service-load-t2",
            "",
            $"Command: `dotnet run -c Release --project bench/FastNet.Benchmarks -- load {subfolder ?? "."} {seconds}{(t1 ? "" : " T2")}` ({DateTime.UtcNow:yyyy-MM-dd})",
            "",
            $"Host: {InputCheckHarness.HostDescription()}; {HostClass.Cores}, .NET {Environment.Version}; {WrkVersion()}.",
            "",
            $"The service (src/FastNet.Service, Kestrel on 127.0.0.1) in this process, wrk in another, on the same {HostClass.Cores}. " +
            $"Model {workload}. POST /predict of one input (784 floats as JSON, {body.Length:N0} bytes), {seconds} s per run, wrk -t min(2, connections) --latency. " +
            $"The three services run side by side; {Rounds} rounds alternate between them (order reversed every other round); the table gives the medians of the rounds " +
            "(errors summed). " +
            "FastNet: the service as shipped. FastNet, batched: --batching true (micro-batches of up to 64 requests, 1 ms longest wait). " +
            "ONNX Runtime: the same endpoint (parsing, checks, response) with an InferenceSession on the model exported to ONNX behind it (one intra-op thread per request).",
            "",
            "| backend | connections | requests/s | p50 (ms) | p99 (ms) | non-2xx | socket errors | bytes allocated per request (whole server process) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        };

        // All three services up at once (idle ones cost nothing); runs alternate between them, round after round, so
        // a drift of this shared machine falls on all three alike. Medians of the rounds.
        string[] backends = ["FastNet", "FastNet, batched", "ONNX Runtime"];
        using var ort = new OnnxRuntimeBackend(onnx, net.Metadata.ClassLabels);
        var apps = new List<WebApplication>();
        var urls = new Dictionary<string, string>();
        foreach (string backend in backends)
        {
            string model = backend == "FastNet, batched" ? batchedModel : fnet;
            if (model != fnet) File.Copy(fnet, model);
            string[] args = backend == "FastNet, batched" ? ["--batching", "true"] : [];
            WebApplication app = ServiceApp.Build(
                ["--model", model, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args],
                backend == "ONNX Runtime" ? _ => ort : null);
            app.StartAsync().GetAwaiter().GetResult();
            apps.Add(app);
            urls[backend] = app.Urls.Single();
            Warm(urls[backend], body);
            Wrk(urls[backend], script, 16, seconds);   // an unreported run first: the whole request path warmed like the runs that follow
        }

        foreach (int connections in new[] { 1, 16, 64 })
        {
            var results = backends.ToDictionary(b => b, _ => new List<WrkResult>());
            for (int round = 0; round < Rounds; round++)
                foreach (string backend in round % 2 == 0 ? backends : backends.Reverse())
                {
                    long allocated = GC.GetTotalAllocatedBytes(precise: true);
                    WrkResult run = Wrk(urls[backend], script, connections, seconds);
                    results[backend].Add(run with { BytesPerRequest = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Math.Max(1, run.Requests) });
                }
            foreach (string backend in backends)
            {
                List<WrkResult> r = results[backend];
                lines.Add($"| {backend} | {connections} | {Median(r, x => x.RequestsPerSecond):N0} | {Median(r, x => x.P50Ms):F3} | {Median(r, x => x.P99Ms):F3} | " +
                    $"{r.Sum(x => x.Non2xx)} | {r.Sum(x => x.SocketErrors)} | {Median(r, x => x.BytesPerRequest):N0} |");
                Console.WriteLine(lines[^1]);
            }
        }

        var reloadLines = new List<string>();
        foreach (string backend in backends.Take(2))
        {
            // A reload halfway through a 64-connection run: the model file replaced by an atomic rename.
            string url = urls[backend];
            string model = backend == "FastNet, batched" ? batchedModel : fnet;
            long before = Version(url);
            string next = Path.Combine(temp, "next.fnet");
            Network replacement = workload.Build();
            replacement.Parameters[0] += 1e-3f;   // another model, same sizes
            replacement.Metadata = net.Metadata;
            replacement.Save(next);
            WrkResult r;
            using (var timer = new Timer(_ => File.Move(next, model, overwrite: true), null, TimeSpan.FromSeconds(seconds / 2.0), Timeout.InfiniteTimeSpan))
                r = Wrk(url, script, 64, seconds);
            Thread.Sleep(1000);
            long after = Version(url);
            reloadLines.Add($"| {backend} | 64 | {r.Requests:N0} | {r.Non2xx} | {r.SocketErrors} | {before} -> {after} |");
            Console.WriteLine(reloadLines[^1]);
        }

        foreach (WebApplication app in apps)
        {
            app.StopAsync().GetAwaiter().GetResult();
            ((IDisposable)app).Dispose();
        }

        // The first requests of a fresh service process, with and without its warm-up; the client here is warm by now.
        lines.AddRange(["", "## The first requests of a fresh process", "",
            $"The service started as its own process (`dotnet FastNet.Service.dll --model {name}.fnet`), timed from the moment GET /healthz answers 200: " +
            "its first POST /predict against the median and 99th percentile of the next 1,000 (sequential, one connection, a client already warm). " +
            "With warm-up (the default) the model runs on every core before the server starts and the service then calls its own /predict a few hundred times; " +
            "`--warmup false` skips both.", "",
            "| service | first request (ms) | next 1,000: median (ms) | p99 (ms) |", "|---|---:|---:|---:|"]);
        foreach (bool warmup in new[] { true, false })
            lines.Add(FirstRequests(warmup ? "warm-up (default)" : "--warmup false", fnet, body, warmup));
        lines.AddRange(["", "## A model reload during a run", "",
            "The model file replaced (renamed over) halfway through a 64-connection run; the service's file watch reloads it.", "",
            "| backend | connections | requests | non-2xx | socket errors | model version before -> after |", "|---|---:|---:|---:|---:|---|"]);
        lines.AddRange(reloadLines);

        HostClass.WriteReport(subfolder, t1 ? "service-load.md" : "service-load-t2.md", lines);
    }

    /// <summary>Starts the service as a process, waits for /healthz to say ready, then times the first /predict and the next 1,000.</summary>
    private static string FirstRequests(string name, string model, string body, bool warmup)
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        string url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FastNet.Service.dll"), "--model", model, "--urls", url,
            "--warmup", warmup.ToString(), "--Logging:LogLevel:Default=Warning"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process service = Process.Start(start)!;
        try
        {
            return Time(name, url, body);
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            service.WaitForExit();
        }
    }

    private static string Time(string name, string url, string body)
    {
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if (client.GetAsync("/healthz").GetAwaiter().GetResult().StatusCode == System.Net.HttpStatusCode.OK) break;
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name}: the service did not become ready");
            Thread.Sleep(10);
        }

        double Once()
        {
            long t0 = Stopwatch.GetTimestamp();
            client.PostAsync("/predict", new StringContent(body, System.Text.Encoding.UTF8, "application/json")).GetAwaiter().GetResult().EnsureSuccessStatusCode();
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        double first = Once();
        double[] next = [.. Enumerable.Range(0, 1000).Select(_ => Once())];
        return $"| {name} | {first:F3} | {LatencyHarness.Percentile(next, 0.5):F3} | {LatencyHarness.Percentile(next, 0.99):F3} |";
    }

    private static void Warm(string url, string body)
    {
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        for (int i = 0; i < 2000; i++)
            client.PostAsync("/predict", new StringContent(body, System.Text.Encoding.UTF8, "application/json")).GetAwaiter().GetResult().EnsureSuccessStatusCode();
    }

    private static long Version(string url)
    {
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        return client.GetFromJsonAsync<JsonElement>("/healthz").GetAwaiter().GetResult().GetProperty("modelVersion").GetInt64();
    }

    private sealed record WrkResult(double RequestsPerSecond, long Requests, double P50Ms, double P99Ms, long Non2xx, long SocketErrors, double BytesPerRequest = 0);

    private static WrkResult Wrk(string url, string script, int connections, int seconds)
    {
        var start = new ProcessStartInfo("/usr/bin/wrk",
            ["-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
             "-d", $"{seconds}s", "--latency", "-s", script, url + "/predict"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process wrk = Process.Start(start)!;
        string output = wrk.StandardOutput.ReadToEnd() + wrk.StandardError.ReadToEnd();
        wrk.WaitForExit();
        if (wrk.ExitCode != 0) throw new InvalidOperationException($"wrk failed:\n{output}");
        double rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        long requests = long.Parse(Requests().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Match non2xx = Non2xx().Match(output);
        Match errors = SocketErrors().Match(output);
        long socketErrors = errors.Success ? errors.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0;
        return new WrkResult(rps, requests, Percentile(output, "50%"), Percentile(output, "99%"), non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0, socketErrors);
    }

    /// <summary>A latency percentile of wrk's --latency table, in milliseconds (wrk prints us, ms or s).</summary>
    private static double Percentile(string output, string which)
    {
        Match m = Regex.Match(output, $@"^\s*{Regex.Escape(which)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success) throw new InvalidOperationException($"no {which} latency in wrk's output:\n{output}");
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    private static string WrkVersion()
    {
        using Process wrk = Process.Start(new ProcessStartInfo("/usr/bin/wrk", "-v") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string text = wrk.StandardOutput.ReadToEnd() + wrk.StandardError.ReadToEnd();
        wrk.WaitForExit();
        return text.Split('\n')[0].Trim();
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}

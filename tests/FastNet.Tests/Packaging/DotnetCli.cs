using System.Diagnostics;
using System.Text;

namespace FastNet.Tests.Packaging;

/// <summary>Runs the dotnet CLI from a test: the SDK that runs the tests, output captured, bounded in time.</summary>
internal static class DotnetCli
{
    /// <summary>The repository root: the folder above the test binaries that holds FastNet.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The build configuration of this test assembly; packing with --no-build reuses that build.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>Runs <c>dotnet args</c> in <paramref name="workingDirectory"/>; fails the test with its output on a non-zero exit.</summary>
    public static string Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // dotnet test sets DOTNET_HOST_PATH to the muxer that runs it; otherwise take the one on PATH.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";   // no build server left running after the test
        // The test host's own variables would point a child build at this test run (e.g. its runtime config).
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "VSTEST_HOST_DEBUG" })
            start.Environment.Remove(name);
        if (environment is not null)
            foreach (var (name, value) in environment) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} took more than 5 minutes:\n{output}");
        }

        process.WaitForExit();   // drains the output events
        if (process.ExitCode != 0)
            Assert.Fail($"dotnet {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output.ToString();
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FastNet.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No FastNet.sln above {AppContext.BaseDirectory}.");
    }
}

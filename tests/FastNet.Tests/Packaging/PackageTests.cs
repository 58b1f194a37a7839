using System.IO.Compression;
using System.Reflection.Metadata;
using System.Xml.Linq;

namespace FastNet.Tests.Packaging;

/// <summary>
/// The FastNet and FastNet.Onnx packages as a user gets them: packed from this build, inspected (license, readme,
/// description, dependencies, a symbols package whose pdb embeds the sources), then restored from a local folder
/// feed into a console outside the repository that builds and runs against them.
/// </summary>
public sealed class PackageTests
{
    /// <summary>Kind GUID of a portable pdb's embedded-source record (Portable PDB specification).</summary>
    private static readonly Guid EmbeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    [Fact]
    public void PackedLibraryHasItsMetadataAndRunsInAConsoleOutsideTheRepository()
    {
        DirectoryInfo temp = Directory.CreateTempSubdirectory("fastnet-package-");
        // A version of its own, so no earlier run's package in a NuGet cache can stand in for this one.
        string version = $"0.0.0-test.t{Guid.NewGuid():N}";
        try
        {
            string feed = Path.Combine(temp.FullName, "feed");
            DotnetCli.Run(DotnetCli.RepositoryRoot, null, "pack", "src/FastNet/FastNet.csproj", "-c", DotnetCli.Configuration,
                "--no-build", "-o", feed, $"-p:MinVerVersionOverride={version}");

            DotnetCli.Run(DotnetCli.RepositoryRoot, null, "pack", "src/FastNet.Onnx/FastNet.Onnx.csproj", "-c", DotnetCli.Configuration,
                "--no-build", "-o", feed, $"-p:MinVerVersionOverride={version}");

            CheckPackage(Path.Combine(feed, $"FastNet.{version}.nupkg"));
            CheckSymbols(Path.Combine(feed, $"FastNet.{version}.snupkg"));
            CheckOnnxPackage(Path.Combine(feed, $"FastNet.Onnx.{version}.nupkg"), version);

            string consumer = Path.Combine(temp.FullName, "consumer");
            WriteConsumer(consumer, feed, version);
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(temp.FullName, "packages") };
            string output = DotnetCli.Run(consumer, environment, "run", "-c", "Release");
            Assert.Contains("consumer: 8 of 8 right, reloaded model agrees, ONNX round trip agrees", output);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static void CheckPackage(string path)
    {
        Assert.True(File.Exists(path), $"dotnet pack wrote no {path}");
        using ZipArchive package = ZipFile.OpenRead(path);
        string[] entries = package.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("LICENSE", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("lib/net10.0/FastNet.dll", entries);
        Assert.Contains("lib/net10.0/FastNet.xml", entries);   // IntelliSense docs

        XDocument nuspec;
        using (Stream stream = package.GetEntry("FastNet.nuspec")!.Open()) nuspec = XDocument.Load(stream);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        XElement metadata = nuspec.Root.Element(ns + "metadata")!;
        string Field(string name) => metadata.Element(ns + name)?.Value ?? "";
        Assert.Equal("FastNet", Field("id"));
        Assert.StartsWith("A SIMD-optimized CPU neural-network core", Field("description"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("README.md", Field("readme"));
        Assert.Contains("neural-network", Field("tags"));
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")));

        // The core depends on these two alone; build-time packages (MinVer, analyzers) must not leak in.
        string[] dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Order().ToArray();
        Assert.Equal(["System.IO.Hashing", "System.Numerics.Tensors"], dependencies);
    }

    /// <summary>FastNet.Onnx: its readme and license, and dependencies on FastNet (this version) and Google.Protobuf only (protoc is build-time).</summary>
    private static void CheckOnnxPackage(string path, string version)
    {
        Assert.True(File.Exists(path), $"dotnet pack wrote no {path}");
        using ZipArchive package = ZipFile.OpenRead(path);
        string[] entries = package.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("LICENSE", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("lib/net10.0/FastNet.Onnx.dll", entries);
        Assert.Contains("lib/net10.0/FastNet.Onnx.xml", entries);
        XDocument nuspec;
        using (Stream stream = package.GetEntry("FastNet.Onnx.nuspec")!.Open()) nuspec = XDocument.Load(stream);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var dependencies = nuspec.Descendants(ns + "dependency").Select(d => (d.Attribute("id")!.Value, d.Attribute("version")!.Value)).OrderBy(d => d.Item1).ToArray();
        Assert.Equal(["FastNet", "Google.Protobuf"], dependencies.Select(d => d.Item1));
        Assert.Equal(version, dependencies[0].Item2);
    }

    private static void CheckSymbols(string path)
    {
        Assert.True(File.Exists(path), $"dotnet pack wrote no {path}");
        using ZipArchive symbols = ZipFile.OpenRead(path);
        ZipArchiveEntry pdbEntry = symbols.GetEntry("lib/net10.0/FastNet.pdb") ?? throw new Xunit.Sdk.XunitException("no FastNet.pdb in the .snupkg");
        var pdb = new MemoryStream();
        using (Stream stream = pdbEntry.Open()) stream.CopyTo(pdb);
        pdb.Position = 0;
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        MetadataReader reader = provider.GetMetadataReader();

        var sources = reader.Documents.Select(d => reader.GetString(reader.GetDocument(d).Name))
            .Where(name => name.EndsWith(".cs", StringComparison.Ordinal) && !name.Contains("/obj/") && !name.Contains("\\obj\\")).ToArray();
        Assert.Contains(sources, s => s.Replace('\\', '/').EndsWith("Kernels/Gemm.cs", StringComparison.Ordinal));
        var embedded = new HashSet<DocumentHandle>();
        foreach (CustomDebugInformationHandle h in reader.CustomDebugInformation)
        {
            CustomDebugInformation info = reader.GetCustomDebugInformation(h);
            if (reader.GetGuid(info.Kind) == EmbeddedSource && info.Parent.Kind == HandleKind.Document)
                embedded.Add((DocumentHandle)info.Parent);
        }

        foreach (DocumentHandle d in reader.Documents)
        {
            string name = reader.GetString(reader.GetDocument(d).Name);
            if (sources.Contains(name)) Assert.True(embedded.Contains(d), $"the pdb does not embed {name}");
        }
    }

    /// <summary>A console that trains a tiny classifier, saves it, reloads it into a predictor and prints a check line.</summary>
    private static void WriteConsumer(string folder, string feed, string version)
    {
        Directory.CreateDirectory(folder);
        string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        // The local feed first; FastNet's dependencies come from the machine's package cache (no download) or nuget.org.
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{globalPackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="FastNet" Version="{version}" />
                <PackageReference Include="FastNet.Onnx" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using FastNet;
            using FastNet.Inference;
            using FastNet.Onnx;
            using FastNet.Training;

            // Class 1 when x0 > x1: eight points, a 2-8-2 network, 300 steps of SGD.
            float[] inputs = [0.9f, 0.1f, 0.2f, 0.8f, 0.7f, 0.3f, 0.1f, 0.6f, 0.8f, 0.4f, 0.3f, 0.9f, 0.6f, 0.2f, 0.4f, 0.5f];
            int[] labels = [1, 0, 1, 0, 1, 0, 1, 0];
            Network net = new NetworkBuilder(inputs: 2).Dense(8, Activation.Tanh).Dense(2).Build(seed: 3);
            var trainer = new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.5f), batchSize: 8, maxThreads: 1);
            for (int step = 0; step < 300; step++) trainer.Step(inputs, labels);

            string path = Path.Combine(AppContext.BaseDirectory, "consumer.fnet");
            net.Save(path);
            string onnx = Path.Combine(AppContext.BaseDirectory, "consumer.onnx");
            net.SaveOnnx(onnx);
            using Predictor trained = net.CreatePredictor(), reloaded = Predictor.Load(path), fromOnnx = OnnxImport.LoadPredictor(onnx);
            int right = 0;
            bool agree = true, onnxAgrees = true;
            for (int i = 0; i < labels.Length; i++)
            {
                ReadOnlySpan<float> x = inputs.AsSpan(2 * i, 2);
                if (trained.PredictClass(x) == labels[i]) right++;
                agree &= trained.PredictClass(x) == reloaded.PredictClass(x);
                onnxAgrees &= trained.PredictClass(x) == fromOnnx.PredictClass(x);
            }

            Console.WriteLine($"consumer: {right} of {labels.Length} right, reloaded model {(agree ? "agrees" : "DIFFERS")}, ONNX round trip {(onnxAgrees ? "agrees" : "DIFFERS")}");
            return right == labels.Length && agree && onnxAgrees ? 0 : 1;
            """);
    }
}

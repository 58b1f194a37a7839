using System.CommandLine;
using Spectre.Console;

namespace FastNet.Mnist;

/// <summary>Entry point: parses the command line, wires Ctrl+C to a graceful stop, and turns every failure into a message and an exit code.</summary>
internal static class DemoProgram
{
    /// <summary>Runs the demo for <paramref name="args"/> and returns the exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="console">Where the report goes.</param>
    /// <param name="errors">Where argument errors go.</param>
    /// <param name="cancellationToken">A stop request besides Ctrl+C (tests).</param>
    public static int Run(string[] args, IAnsiConsole console, TextWriter errors, CancellationToken cancellationToken = default)
    {
        var command = new DemoCommand();
        ParseResult parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) errors.WriteLine(error.Message);
            errors.WriteLine("Run with --help to see the options.");
            return ExitCodes.BadArguments;
        }

        if (parsed.Action is not null)
        {
            // The root command has no action of its own, so this is --help or --version: System.CommandLine prints it.
            return parsed.Invoke(new InvocationConfiguration { Output = console.Profile.Out.Writer, Error = errors });
        }

        DemoOptions options = command.ToOptions(parsed);

        // First Ctrl+C: finish the current batch, then report and save. A second one ends the process at once.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return new DemoRun(options, console).Execute(stop.Token);
        }
        catch (DemoException e)
        {
            console.MarkupLine($"[red]Error:[/] {Markup.Escape(e.Message)}");
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Stopped by Ctrl+C before training began.[/]");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]Error:[/] {Markup.Escape(e.Message)}");
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // A bug of ours, not the user's: still one readable line (the type names where to look).
            console.MarkupLine($"[red]Unexpected error ({Markup.Escape(e.GetType().Name)}):[/] {Markup.Escape(e.Message)} Please report it with the command line you ran.");
            return ExitCodes.Failed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}

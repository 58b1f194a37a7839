namespace FastNet.Mnist;

/// <summary>Checks, before training, that the files the demo will write can be written, naming the user's path if not.</summary>
internal static class OutputPaths
{
    /// <summary>Throws a <see cref="DemoException"/> (bad arguments) unless <paramref name="path"/>'s folder exists and takes a new file.</summary>
    public static void CheckWritable(string path, string option)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (Directory.Exists(full))
            throw new DemoException($"{option}: {full} is a folder; give a file name.", ExitCodes.BadArguments);
        if (!Directory.Exists(folder))
            throw new DemoException($"{option}: cannot write {full}: the folder {folder} does not exist.", ExitCodes.BadArguments);
        // The same kind of file the save makes (a new file beside the target), created and removed at once.
        string probe = Path.Combine(folder, $".fastnet-write-check-{Guid.NewGuid():N}.tmp");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DemoException($"{option}: cannot write {full}: the folder {folder} does not take new files ({e.GetType().Name}).", ExitCodes.BadArguments);
        }
    }
}

namespace FastNet.Serialization;

/// <summary>
/// Writes a file so that readers see the old content or the new one, never a torn mix: a temporary file beside the
/// target, flushed to disk, then renamed over it. A crash or an error mid-write leaves the old file (or none) and
/// no temporary behind. Model files and ONNX exports are saved this way.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    /// <param name="path">The file to create or replace; its folder must exist.</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <param name="what">What the file is, for error messages ("the model", "the ONNX model").</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">Writing or renaming failed (the message names <paramref name="path"/>, not the temporary file).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the target is not writable.</exception>
    public static void Write(string path, Action<Stream> write, string what = "the file")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save {what} to {full}: the folder {folder} does not exist.");
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // The error names the temporary file; the caller knows the path it asked for.
            if (e is IOException) throw new IOException($"Cannot save {what} to {full}: {e.Message}", e);
            if (e is UnauthorizedAccessException) throw new UnauthorizedAccessException($"Cannot save {what} to {full}: {e.Message}", e);
            throw;
        }
    }
}

using System.Buffers.Binary;
using System.IO.Compression;

namespace FastNet.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed (detected by its magic bytes):
/// a big-endian header (two zero bytes, a type code, the number of dimensions, then each dimension as a
/// uint32) followed by the data.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads an image file (unsigned bytes, 3 dimensions) as floats scaled to 0..1, row-major [count x rows*cols].</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX image file (the message names it and the problem).</exception>
    public static (float[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        using Stream stream = OpenMaybeGzip(path);
        int[] dims = ReadHeader(stream, path, expectedDimensions: 3);
        // Each dimension is below 2^31, so rows x cols fits a long, but count x rows x cols need not: compare by
        // division so that a header like 2^30 x 2^30 x 16 (2^64, which wraps to 0) cannot pass as an empty file.
        long pixelsPerImage = (long)dims[1] * dims[2];
        if (pixelsPerImage > Array.MaxLength || (pixelsPerImage > 0 && dims[0] > Array.MaxLength / pixelsPerImage))
            throw Invalid(path, $"{dims[0]} x {dims[1]} x {dims[2]} pixels are more than an array can hold.");
        long total = dims[0] * pixelsPerImage;
        byte[] raw = ReadBody(stream, path, (int)total);
        var pixels = new float[total];
        for (long i = 0; i < total; i++) pixels[i] = raw[i] / 255f;
        return (pixels, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a label file (unsigned bytes, 1 dimension).</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX label file.</exception>
    public static int[] ReadLabels(string path)
    {
        using Stream stream = OpenMaybeGzip(path);
        int[] dims = ReadHeader(stream, path, expectedDimensions: 1);
        byte[] raw = ReadBody(stream, path, dims[0]);
        return Array.ConvertAll(raw, b => (int)b);
    }

    /// <summary>Reads a pair of image and label files into a labelled dataset (classes: 0 .. <paramref name="classCount"/>-1).</summary>
    public static Dataset ReadDataset(string imagesPath, string labelsPath, int classCount = 10)
    {
        var (pixels, count, rows, cols) = ReadImages(imagesPath);
        int[] labels = ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new InvalidDataException($"{labelsPath}: {labels.Length} labels for the {count} images of {imagesPath}.");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classCount) throw Invalid(labelsPath, $"label {labels[i]} of item {i} is outside 0..{classCount - 1}.");
        return Dataset.WithLabels(pixels, rows * cols, labels, classCount);
    }

    private static Stream OpenMaybeGzip(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static int[] ReadHeader(Stream stream, string path, int expectedDimensions)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadFully(stream, magic, path, "the header");
        if (magic[0] != 0 || magic[1] != 0)
            throw Invalid(path, "not an IDX file (its first two bytes must be zero).");
        if (magic[2] != UnsignedByte)
            throw Invalid(path, $"data type 0x{magic[2]:X2} is not supported (expected 0x08, unsigned bytes).");
        if (magic[3] != expectedDimensions)
            throw Invalid(path, $"it has {magic[3]} dimensions, expected {expectedDimensions}.");
        Span<byte> dimBytes = stackalloc byte[4 * expectedDimensions];
        ReadFully(stream, dimBytes, path, "the dimensions");
        var dims = new int[expectedDimensions];
        for (int i = 0; i < dims.Length; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * i)..]);
            if (d > int.MaxValue) throw Invalid(path, $"dimension {i} is {d}, too large.");
            dims[i] = (int)d;
        }

        return dims;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes and checks nothing follows them.</summary>
    private static byte[] ReadBody(Stream stream, string path, int length)
    {
        // Grow with the data actually present rather than trusting the header's size up front.
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (buffer.Length < length)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, length - buffer.Length));
            if (read == 0) throw Invalid(path, $"it is truncated: the header announces {length} data bytes, only {buffer.Length} are present.");
            buffer.Write(chunk, 0, read);
        }

        if (stream.Read(chunk, 0, 1) != 0) throw Invalid(path, $"it has bytes after the {length} the header announces.");
        return buffer.ToArray();
    }

    private static void ReadFully(Stream stream, Span<byte> buffer, string path, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
            throw Invalid(path, $"it is truncated in {what}.");
    }

    private static InvalidDataException Invalid(string path, string problem) => new($"{path}: {problem}");
}

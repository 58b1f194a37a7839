using System.Buffers.Binary;
using System.IO.Compression;

namespace FastNet.Data;

/// <summary>
/// Writes the IDX format that <see cref="IdxReader"/> reads: unsigned-byte images [count x rows x cols] and
/// labels, gzip-compressed when the path ends in ".gz". Files are written to a temporary name and renamed, so a
/// failure never leaves a half-written file under the final name.
/// </summary>
public static class IdxWriter
{
    /// <summary>Writes images given as floats in 0..1 (row-major [count x rows*cols]), each pixel stored as round(255 x value).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A pixel is outside 0..1 or NaN.</exception>
    public static void WriteImages(string path, ReadOnlySpan<float> pixels, int rows, int columns)
    {
        Guard.Positive(rows);
        Guard.Positive(columns);
        int perImage = checked(rows * columns);
        if (pixels.Length % perImage != 0)
            throw new ArgumentException($"'{nameof(pixels)}' has {pixels.Length} values, not a whole number of {rows}x{columns} images.", nameof(pixels));
        var bytes = new byte[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            float v = pixels[i];
            if (!(v >= 0f && v <= 1f)) throw new ArgumentOutOfRangeException(nameof(pixels), v, $"Pixel {i} is outside 0..1.");
            bytes[i] = (byte)MathF.Round(v * 255f);
        }

        Write(path, [pixels.Length / perImage, rows, columns], bytes);
    }

    /// <summary>Writes class labels, each in 0..255.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<int> labels)
    {
        var bytes = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Label {i} is outside 0..255.");
            bytes[i] = (byte)labels[i];
        }

        Write(path, [labels.Length], bytes);
    }

    private static void Write(string path, int[] dimensions, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string temporary = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            using (Stream stream = full.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                       ? new GZipStream(file, CompressionLevel.Optimal) : file)
            {
                // Header: two zero bytes, type 0x08 (unsigned byte), the number of dimensions, then each as big-endian uint32.
                var header = new byte[4 + 4 * dimensions.Length];
                header[2] = 0x08;
                header[3] = (byte)dimensions.Length;
                for (int i = 0; i < dimensions.Length; i++)
                    BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4 + 4 * i), (uint)dimensions[i]);
                stream.Write(header);
                stream.Write(data);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}

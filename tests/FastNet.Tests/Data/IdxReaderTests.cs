using System.Buffers.Binary;
using System.IO.Compression;
using FastNet.Data;

namespace FastNet.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fastnet-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(byte type, uint[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsImagesAndLabelsPlainOrGzip(bool gzip)
    {
        byte[] pixels = [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8];   // 2 images of 2 x 3
        string images = Write("img", Idx(0x08, [2, 2, 3], pixels), gzip);
        string labels = Write("lbl", Idx(0x08, [2], [7, 1]), gzip);
        var (values, count, rows, cols) = IdxReader.ReadImages(images);
        Assert.Equal((2, 2, 3), (count, rows, cols));
        Assert.Equal(pixels.Select(p => p / 255f), values);
        Assert.Equal([7, 1], IdxReader.ReadLabels(labels));
        var set = IdxReader.ReadDataset(images, labels);
        Assert.Equal((2, 6, 10), (set.Count, set.FeatureCount, set.TargetCount));
    }

    [Theory]
    [InlineData("img", "lbl")]
    [InlineData("img.gz", "lbl.gz")]
    public void WriterProducesTheBytesOfTheFormat(string imageName, string labelName)
    {
        string images = Path.Combine(_dir, imageName), labels = Path.Combine(_dir, labelName);
        IdxWriter.WriteImages(images, [0f, 1f, 0.2f, 0.4f, 0.6f / 255f, 1.4f / 255f], rows: 1, columns: 3);
        IdxWriter.WriteLabels(labels, [9, 0]);
        byte[] Raw(string path)
        {
            if (!path.EndsWith(".gz")) return File.ReadAllBytes(path);
            using var zip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            var copy = new MemoryStream();
            zip.CopyTo(copy);
            return copy.ToArray();
        }

        Assert.Equal(Idx(0x08, [2, 1, 3], [0, 255, 51, 102, 1, 1]), Raw(images));   // round(255 v)
        Assert.Equal(Idx(0x08, [2], [9, 0]), Raw(labels));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
        Assert.Throws<ArgumentOutOfRangeException>(() => IdxWriter.WriteImages(images, [1.5f], 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IdxWriter.WriteLabels(labels, [256]));
        Assert.Equal([9, 0], IdxReader.ReadLabels(labels));   // a rejected write left the file as it was
    }

    [Fact]
    public void MalformedFilesNameTheFileAndTheProblem()
    {
        string Fail(byte[] bytes, bool images = true)
        {
            string path = Write("bad", bytes);
            var e = Assert.Throws<InvalidDataException>(() => { if (images) IdxReader.ReadImages(path); else IdxReader.ReadLabels(path); });
            Assert.StartsWith(path, e.Message);
            return e.Message;
        }

        Assert.Contains("first two bytes", Fail([1, 0, 8, 3, 0, 0, 0, 1]));
        Assert.Contains("data type", Fail(Idx(0x0D, [1, 1, 1], [0, 0, 0, 0])));
        Assert.Contains("3 dimensions, expected 1", Fail(Idx(0x08, [1, 1, 1], [0]), images: false));
        Assert.Contains("truncated in the dimensions", Fail(Idx(0x08, [2, 2, 3], [])[..9]));
        Assert.Contains("truncated: the header announces 12", Fail(Idx(0x08, [2, 2, 3], [1, 2, 3])));
        Assert.Contains("bytes after", Fail(Idx(0x08, [1, 1, 2], [1, 2, 3])));
        Assert.Contains("more than an array", Fail(Idx(0x08, [60000, 60000, 60000], [])));
        Assert.Contains("too large", Fail(Idx(0x08, [uint.MaxValue, 1, 1], [])));
        // 2^30 x 2^30 x 16 = 2^64 pixels: a product that wraps to 0 in 64-bit arithmetic must still be rejected.
        Assert.Contains("more than an array", Fail(Idx(0x08, [1u << 30, 1u << 30, 16], [])));
        Assert.Contains("more than an array", Fail(Idx(0x08, [1, int.MaxValue, int.MaxValue], [])));
    }

    [Fact]
    public void ImageAndLabelCountsMustAgree()
    {
        string images = Write("img", Idx(0x08, [2, 1, 1], [1, 2]));
        string labels = Write("lbl", Idx(0x08, [3], [0, 1, 2]));
        Assert.Contains("3 labels for the 2 images", Assert.Throws<InvalidDataException>(() => IdxReader.ReadDataset(images, labels)).Message);
        string tooHigh = Write("lbl2", Idx(0x08, [2], [0, 10]));
        Assert.Contains("label 10", Assert.Throws<InvalidDataException>(() => IdxReader.ReadDataset(images, tooHigh)).Message);
    }
}

using System.Runtime.CompilerServices;

namespace FastNet.Kernels;

/// <summary>
/// A float buffer whose first element sits on a 64-byte (cache-line) boundary, for the buffers whose rows
/// threads write side by side.
/// </summary>
/// <remarks>
/// Why: a GEMM split over threads gives each thread whole micro-tiles of C, 64 floats (256 bytes) wide. On a
/// cache-line-aligned C every tile row covers whole lines; on an unaligned one (managed arrays are only
/// 8-byte aligned) each row boundary between two threads' tiles shares a line, which then bounces between
/// the cores on every store (false sharing). The array lives on the pinned object heap, so the GC never
/// moves it off the boundary.
/// </remarks>
internal readonly struct AlignedBuffer
{
    private const int FloatsPerLine = GemmBlocking.Alignment / sizeof(float);

    private readonly float[]? _storage;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats, the first on a cache-line boundary.</summary>
    public unsafe AlignedBuffer(long length)
    {
        if (length < 0 || length > Array.MaxLength - FloatsPerLine)
            throw new ArgumentOutOfRangeException(nameof(length), length, "Negative, or too many floats for one array.");
        Length = (int)length;
        if (length == 0) return;
        _storage = GC.AllocateArray<float>(Length + FloatsPerLine - 1, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref _storage[0]);
        int misalignment = (int)(address % GemmBlocking.Alignment);
        _offset = misalignment == 0 ? 0 : (GemmBlocking.Alignment - misalignment) / sizeof(float);
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>The whole buffer.</summary>
    public Span<float> Span => _storage is null ? Span<float>.Empty : _storage.AsSpan(_offset, Length);

    /// <summary>The whole buffer as memory (for views kept in fields).</summary>
    public Memory<float> Memory => _storage is null ? Memory<float>.Empty : _storage.AsMemory(_offset, Length);

    /// <summary>Floats <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/>.</summary>
    public Span<float> Slice(int start, int length) => Span.Slice(start, length);
}

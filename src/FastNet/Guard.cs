using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastNet;

/// <summary>Argument checks that name the offending argument in their exceptions.</summary>
/// <remarks>
/// Each check is a comparison inlined into its caller; the message is built in a separate throw helper. The checks
/// run on every training step and prediction, and a check that builds its message itself is too large to inline:
/// it was then a call of its own, compiled unoptimized first and twice more while training ran.
/// </remarks>
internal static class Guard
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < 0) ThrowOutOfRange(name, value, "must be non-negative");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Positive(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0) ThrowOutOfRange(name, value, "must be positive");
    }

    /// <summary>A thread limit: -1 for every core, or a positive count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MaxThreads(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value == 0 || value < -1) ThrowOutOfRange(name, value, "must be -1 (every core) or positive");
    }

    /// <summary>Throws unless <paramref name="length"/> >= <paramref name="required"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MinLength(int length, long required, string name, string what = "elements")
    {
        if (length < required) ThrowTooShort(length, required, name, what);
    }

    /// <summary>Throws unless two spans that pair element by element have the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SameLength(int length, int expected, string name, string otherName)
    {
        if (length != expected) ThrowLengthMismatch(length, expected, name, otherName);
    }

    /// <summary>Checks rows and cols and that a span holds a rows x cols matrix.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Matrix(int length, int rows, int cols, string name)
    {
        NonNegative(rows, nameof(rows));
        NonNegative(cols, nameof(cols));
        MinLength(length, (long)rows * cols, name);
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(string? name, int value, string rule)
        => throw new ArgumentOutOfRangeException(name, value, $"'{name}' {rule}.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(int length, long required, string name, string what)
        => throw new ArgumentException($"'{name}' has {length} {what} but at least {required} are needed.", name);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLengthMismatch(int length, int expected, string name, string otherName)
        => throw new ArgumentException($"'{name}' has length {length} but '{otherName}' has length {expected}; they must match.", name);
}

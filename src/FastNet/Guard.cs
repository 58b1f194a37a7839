using System.Runtime.CompilerServices;

namespace FastNet;

/// <summary>Argument checks that name the offending argument in their exceptions.</summary>
internal static class Guard
{
    public static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be non-negative.");
    }

    public static void Positive(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be positive.");
    }

    /// <summary>A thread limit: -1 for every core, or a positive count.</summary>
    public static void MaxThreads(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value == 0 || value < -1)
            throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be -1 (every core) or positive.");
    }

    /// <summary>Throws unless <paramref name="length"/> >= <paramref name="required"/>.</summary>
    public static void MinLength(int length, long required, string name, string what = "elements")
    {
        if (length < required)
            throw new ArgumentException($"'{name}' has {length} {what} but at least {required} are needed.", name);
    }

    /// <summary>Throws unless two spans that pair element by element have the same length.</summary>
    public static void SameLength(int length, int expected, string name, string otherName)
    {
        if (length != expected)
            throw new ArgumentException($"'{name}' has length {length} but '{otherName}' has length {expected}; they must match.", name);
    }

    /// <summary>Checks rows and cols and that a span holds a rows x cols matrix.</summary>
    public static void Matrix(int length, int rows, int cols, string name)
    {
        NonNegative(rows, nameof(rows));
        NonNegative(cols, nameof(cols));
        MinLength(length, (long)rows * cols, name);
    }
}

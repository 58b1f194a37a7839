using System.Runtime.Intrinsics.X86;

namespace FastNet.Kernels;

/// <summary>
/// Who made this CPU, from CPUID leaf 0: its vendor string ("GenuineIntel", "AuthenticAMD") lies in EBX, EDX, ECX, four
/// bytes each; EAX is the highest standard leaf. Kernels and cache detection that differ by vendor ask here.
/// </summary>
internal static class CpuVendor
{
    /// <summary>Whether the vendor string is "AuthenticAMD".</summary>
    public static readonly bool IsAmd = Is(0x68747541, 0x69746E65, 0x444D4163);      // "Auth", "enti", "cAMD"

    /// <summary>Whether the vendor string is "GenuineIntel".</summary>
    public static readonly bool IsIntel = Is(0x756E6547, 0x49656E69, 0x6C65746E);    // "Genu", "ineI", "ntel"

    /// <summary>The highest standard CPUID leaf (0 off x86).</summary>
    public static readonly int MaxLeaf = X86Base.IsSupported ? X86Base.CpuId(0, 0).Eax : 0;

    private static bool Is(int ebx, int edx, int ecx)
    {
        if (!X86Base.IsSupported) return false;
        (_, int b, int c, int d) = X86Base.CpuId(0, 0);
        return b == ebx && d == edx && c == ecx;
    }
}

using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using FastNet.Tests.Packaging;

namespace FastNet.Tests.Docs;

/// <summary>
/// Every <c>csharp</c> code block of the README and the package READMEs compiles against FastNet, FastNet.Onnx and FastNet.Serving (and ASP.NET Core,
/// for the service example). A block is the body of a method; its <c>using</c> lines go above it, and the free
/// variables it uses without declaring (inputs a reader brings, like <c>features</c>) become the method's
/// parameters, typed from <see cref="FreeVariables"/>.
/// </summary>
public sealed partial class ReadmeTests
{
    /// <summary>Names README examples use as given; a new one must be added here with its type.</summary>
    private static readonly Dictionary<string, string> FreeVariables = new()
    {
        ["batchInputs"] = "float[]", ["batchLabels"] = "int[]", ["ct"] = "System.Threading.CancellationToken",
        ["features"] = "float[]", ["logits"] = "float[]", ["probabilities"] = "float[]",
        ["manyFeatures"] = "float[]", ["manyLogits"] = "float[]",
        ["builder"] = "Microsoft.AspNetCore.Builder.WebApplicationBuilder", ["app"] = "Microsoft.AspNetCore.Builder.WebApplication",
        ["weightIh"] = "float[]", ["sequences"] = "float[]", ["batch"] = "int", ["lastStates"] = "float[]", ["h0"] = "float[]",
        ["dLastStates"] = "float[]", ["dParameters"] = "float[]", ["dSequences"] = "float[]", ["dInitialState"] = "float[]",
        ["a"] = "float[]", ["b"] = "float[]", ["c"] = "float[]", ["m"] = "int", ["n"] = "int", ["k"] = "int",
        ["x"] = "float[]", ["dw"] = "float[]", ["w"] = "float[]", ["y"] = "float[]", ["bias"] = "float[]",
        ["dy"] = "float[]", ["z"] = "float[]", ["dz"] = "float[]", ["gradient"] = "float[]", ["labels"] = "int[]", ["probs"] = "float[]",
        ["inputs"] = "int", ["outputs"] = "int", ["rows"] = "int", ["cols"] = "int", ["net"] = "FastNet.Network",
    };

    public static TheoryData<string> Readmes() => new() { "README.md", "src/FastNet/README.md", "src/FastNet.Onnx/README.md" };

    [Theory]
    [MemberData(nameof(Readmes))]
    public void EveryCSharpBlockCompiles(string readme)
    {
        string text = File.ReadAllText(Path.Combine(DotnetCli.RepositoryRoot, readme));
        var blocks = CSharpBlock().Matches(text).Select(m => (Line: text[..m.Index].Count(ch => ch == '\n') + 2, Code: m.Groups[1].Value)).ToList();
        Assert.NotEmpty(blocks);

        List<MetadataReference> references = References();
        var failures = new List<string>();
        var usings = new List<string>();   // a README is read as one tour: a block sees the usings of the blocks before it
        foreach (var (line, code) in blocks)
        {
            usings.AddRange(code.Split('\n').Where(l => UsingDirective().IsMatch(l)));
            SyntaxTree tree = CSharpSyntaxTree.ParseText(Wrap(code, usings.Distinct()), new CSharpParseOptions(LanguageVersion.Latest));
            var compilation = CSharpCompilation.Create($"ReadmeBlock{line}", [tree], references,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
            var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0)
                failures.Add($"{readme}, block at line {line}:\n  " + string.Join("\n  ", errors.Select(e => e.ToString())));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void ABrokenBlockIsCaught()
    {
        // The test's own check: a block calling a method FastNet does not have must not compile.
        string source = Wrap("using FastNet;\nNetwork net = new NetworkBuilder(inputs: 4).Dense(2).Build(seed: 1);\nnet.Train(features);", ["using FastNet;"]);
        var compilation = CSharpCompilation.Create("Broken", [CSharpSyntaxTree.ParseText(source)], References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Contains(compilation.GetDiagnostics(), d => d.Id == "CS1061");   // no 'Train' on Network
        Assert.Contains("float[] features", source);                              // the free variable became a parameter
    }

    /// <summary>The test host's framework assemblies (ASP.NET Core included, by the project's FrameworkReference) and FastNet.</summary>
    private static List<MetadataReference> References() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(Network).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(FastNet.Onnx.OnnxImport).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(FastNet.Serving.ModelHost).Assembly.Location))
            .ToList();

    /// <summary>
    /// The block as a compilation unit: the usings, with those of a console project's implicit usings, then its
    /// statements in a method whose parameters are its free variables.
    /// </summary>
    private static string Wrap(string code, IEnumerable<string> usings)
    {
        string[] lines = code.Split('\n');
        string body = string.Join('\n', lines.Where(l => !UsingDirective().IsMatch(l)));

        // Free variables: names in FreeVariables that the block uses but does not declare.
        var statements = (BlockSyntax)SyntaxFactory.ParseStatement("{\n" + body + "\n}");
        var declared = statements.DescendantNodes().OfType<VariableDeclaratorSyntax>().Select(v => v.Identifier.Text)
            .Concat(statements.DescendantNodes().OfType<SingleVariableDesignationSyntax>().Select(v => v.Identifier.Text))
            .Concat(statements.DescendantNodes().OfType<ParameterSyntax>().Select(p => p.Identifier.Text))
            .ToHashSet();
        var free = statements.DescendantNodes().OfType<IdentifierNameSyntax>().Select(i => i.Identifier.Text)
            .Where(name => FreeVariables.ContainsKey(name) && !declared.Contains(name)).Distinct()
            .Select(name => $"{FreeVariables[name]} {name}");
        return $$"""
            {{string.Join('\n', usings)}}
            using System;
            using System.Collections.Generic;
            using System.IO;
            using System.Linq;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Http;
            using Microsoft.Extensions.DependencyInjection;

            public static class ReadmeBlock
            {
                public static void Run({{string.Join(", ", free)}})
                {
            {{body}}
                }
            }
            """;
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^\s*using\s+[\w.]+\s*;\s*$")]
    private static partial Regex UsingDirective();
}

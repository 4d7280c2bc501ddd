using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace LeNet.Gen.Testing;

/// <summary>
/// The programs outside .NET that a few tests drive. A test that needs one declares it with
/// <see cref="RequiresFactAttribute"/>; where the program is absent, the test is reported as skipped with the exact command
/// that installs it. CI sets <see cref="ExternalTools.RequireVariable"/>, which turns every such skip into a run that fails
/// with the same command, so CI always runs every test.
/// </summary>
public enum Tool
{
    /// <summary>Debian's PyTorch: <c>/usr/bin/python3</c> able to import <c>torch</c> and <c>numpy</c>.</summary>
    PyTorch,

    /// <summary>What Native AOT links with: <c>clang</c> or <c>gcc</c> on the PATH, and zlib's development files.</summary>
    NativeAotLinker,

    /// <summary>Debian's ONNX package: <c>/usr/bin/python3</c> able to import <c>onnx</c> (its checker).</summary>
    Onnx,

    /// <summary>Debian's headless-capable Chromium and its WebDriver: <c>/usr/bin/chromium</c> and <c>/usr/bin/chromedriver</c>.</summary>
    Chromium,
}

/// <summary>Finds out, once per test process, whether each <see cref="Tool"/> is present.</summary>
public static class ExternalTools
{
    /// <summary>When this environment variable is <c>1</c>, a missing tool fails its tests instead of skipping them.</summary>
    public const string RequireVariable = "LENET_GEN_REQUIRE_ALL_TESTS";

    private static readonly Dictionary<Tool, Lazy<string?>> Missing = Enum.GetValues<Tool>()
        .ToDictionary(tool => tool, tool => new Lazy<string?>(() => Probe(tool)));

    /// <summary>True when CI asked for every test to run (see <see cref="RequireVariable"/>).</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The command that installs <paramref name="tool"/> on Debian or Ubuntu.</summary>
    public static string InstallCommand(Tool tool) => tool switch
    {
        Tool.PyTorch => "sudo apt-get install -y python3-torch python3-numpy",
        Tool.NativeAotLinker => "sudo apt-get install -y clang zlib1g-dev",
        Tool.Onnx => "sudo apt-get install -y python3-onnx",
        Tool.Chromium => "sudo apt-get install -y chromium chromium-driver",
        _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, "unknown tool"),
    };

    /// <summary>Null when <paramref name="tool"/> is present; otherwise what is missing and the command that installs it.</summary>
    public static string? WhyMissing(Tool tool) => Missing[tool].Value;

    /// <summary>
    /// The skip reason for a test that needs <paramref name="tools"/>: null when all are present or when CI requires every
    /// test to run, otherwise what is missing and how to install it.
    /// </summary>
    public static string? SkipReason(IEnumerable<Tool> tools)
    {
        if (Required)
        {
            return null;
        }

        string[] missing = tools.Select(WhyMissing).OfType<string>().ToArray();
        return missing.Length == 0 ? null : string.Join("; ", missing) + $" (set {RequireVariable}=1 to fail instead of skipping)";
    }

    /// <summary>Fails the running test, naming the install command, when one of <paramref name="tools"/> is absent.</summary>
    public static void Require(params Tool[] tools)
    {
        string[] missing = tools.Select(WhyMissing).OfType<string>().ToArray();
        if (missing.Length > 0)
        {
            Assert.Fail(string.Join("; ", missing));
        }
    }

    private static string? Probe(Tool tool)
    {
        string? problem = tool switch
        {
            Tool.PyTorch => ProbePython("torch", "numpy"),
            Tool.NativeAotLinker => ProbeLinker(),
            Tool.Onnx => ProbePython("onnx"),
            Tool.Chromium => ProbeChromium(),
            _ => $"unknown tool {tool}",
        };
        return problem is null ? null : $"{problem}; install it with: {InstallCommand(tool)}";
    }

    private static string? ProbePython(params string[] modules)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            return $"{python} is missing";
        }

        var (exitCode, output) = Run(python, "-c", "import " + string.Join(", ", modules));
        return exitCode == 0 ? null : $"{python} cannot import {string.Join(" and ", modules)} ({output.Trim().Split('\n')[^1]})";
    }

    private static string? ProbeLinker()
    {
        if (OnPath("clang") is null && OnPath("gcc") is null)
        {
            return "neither clang nor gcc is on the PATH (Native AOT links with one of them)";
        }

        return File.Exists("/usr/include/zlib.h") ? null : "zlib's development files are missing (/usr/include/zlib.h)";
    }

    private static string? ProbeChromium()
    {
        string[] missing = new[] { "/usr/bin/chromium", "/usr/bin/chromedriver" }.Where(path => !File.Exists(path)).ToArray();
        return missing.Length == 0 ? null : $"{string.Join(" and ", missing)} {(missing.Length == 1 ? "is" : "are")} missing";
    }

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "timed out after 120 s");
            }

            return (process.ExitCode, output + error.Result);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return (-1, e.Message);
        }
    }
}

/// <summary>
/// A fact that needs programs outside .NET. Where one is absent it is skipped, and the skip reason holds the install
/// command; with <see cref="ExternalTools.RequireVariable"/> set to 1 (as CI sets it) it runs instead, and
/// <see cref="ExternalTools.Require"/> fails it with the same text.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresFactAttribute : FactAttribute
{
    /// <summary>Declares the tools the test needs.</summary>
    public RequiresFactAttribute(params Tool[] tools)
    {
        Tools = tools;
        Skip = ExternalTools.SkipReason(tools);
    }

    /// <summary>The tools the test needs.</summary>
    public IReadOnlyList<Tool> Tools { get; }
}

/// <summary>The theory form of <see cref="RequiresFactAttribute"/>: skipped, naming the install command, where a tool is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresTheoryAttribute : TheoryAttribute
{
    /// <summary>Declares the tools the test needs.</summary>
    public RequiresTheoryAttribute(params Tool[] tools)
    {
        Tools = tools;
        Skip = ExternalTools.SkipReason(tools);
    }

    /// <summary>The tools the test needs.</summary>
    public IReadOnlyList<Tool> Tools { get; }
}

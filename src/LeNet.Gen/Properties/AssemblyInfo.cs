using System.Runtime.CompilerServices;

// The tests reach internal hooks, e.g. the SafeTensors.Save overload that wraps the temporary file's stream.
[assembly: InternalsVisibleTo("LeNet.Gen.Tests")]

using System;
using System.IO;

namespace LeNet.Gen.IO;

/// <summary>
/// A file written all or nothing: the bytes go to a temporary file beside the target, which replaces the target only
/// when <see cref="Commit"/> is called after the last write. Disposing without committing deletes the temporary file,
/// so a failure midway leaves the previous file as it was and nothing else behind. Every weight-file format saves
/// through it.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _target;
    private readonly string _temporary;
    private readonly FileStream _file;
    private bool _committed;

    private AtomicFile(string target, string temporary)
    {
        _target = target;
        _temporary = temporary;
        _file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024);
    }

    /// <summary>The temporary file's stream, to write the whole content to.</summary>
    public Stream Stream => _file;

    /// <summary>Starts writing <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    public static AtomicFile Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string fileName = Path.GetFileName(fullPath);
        string? directory = Path.GetDirectoryName(fullPath);
        if (fileName.Length == 0 || directory is null)
        {
            throw new ArgumentException($"The path '{path}' names a directory, not a file.", nameof(path));
        }

        return new AtomicFile(fullPath, Path.Combine(directory, "." + fileName + "." + Guid.NewGuid().ToString("N") + ".tmp"));
    }

    /// <summary>Flushes the content to disk and puts it in place of the target, replacing any previous file.</summary>
    public void Commit()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the temporary file and, unless committed, deletes it.</summary>
    public void Dispose()
    {
        _file.Dispose();
        if (_committed)
        {
            return;
        }

        try
        {
            File.Delete(_temporary);
        }
        catch (IOException)
        {
            // The original failure matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}

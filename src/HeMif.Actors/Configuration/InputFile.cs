using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace HeMif.Configuration;

/// <summary>
/// Reads every input file HeMif takes (policy, interfaces, host override, scenario): a regular file of at most
/// <see cref="HeMifConfiguration.MaxFileBytes"/>, UTF-8. The kind of file is checked before it is opened, so a FIFO
/// without a writer is refused instead of blocking the caller forever, and a device such as <c>/dev/zero</c> or a huge
/// file is refused instead of being read until memory runs out. Every refusal is a
/// <see cref="HeMifConfigurationException"/> naming the path as the caller gave it and what was wrong.
/// </summary>
internal static class InputFile
{
    private const string Expected = "a readable JSON file";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>What a path names, from <c>stat</c> (following symbolic links), without opening it.</summary>
    internal enum Kind
    {
        Regular,
        Missing,
        Directory,
        Fifo,
        CharacterDevice,
        BlockDevice,
        Socket,
        Other,
        NoPermission,
        LinkLoop,

        /// <summary>This platform cannot say without opening (no <c>statx</c>): treated as a regular file, read with the size limit.</summary>
        Unknown,
    }

    /// <summary>Reads <paramref name="path"/> as text.</summary>
    /// <exception cref="HeMifConfigurationException">The file is missing, not a regular file, too large, unreadable or not UTF-8.</exception>
    public static string Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw Refuse(path, "a path with a NUL character in it");
        }

        var (kind, size) = Stat(path);
        switch (kind)
        {
            case Kind.Missing:
                throw Refuse(path, "nothing: the file does not exist");
            case Kind.Directory:
                throw Refuse(path, "a directory");
            case Kind.Fifo:
                throw Refuse(path, "not a regular file (a FIFO)");
            case Kind.CharacterDevice:
                throw Refuse(path, "not a regular file (a character device)");
            case Kind.BlockDevice:
                throw Refuse(path, "not a regular file (a block device)");
            case Kind.Socket:
                throw Refuse(path, "not a regular file (a socket)");
            case Kind.Other:
                throw Refuse(path, "not a regular file");
            case Kind.NoPermission:
                throw Refuse(path, "a file this process may not read (permission denied)");
            case Kind.LinkLoop:
                throw Refuse(path, "a loop of symbolic links");
        }

        if (size > HeMifConfiguration.MaxFileBytes)
        {
            throw TooLarge(path, size.ToString("N0", CultureInfo.InvariantCulture) + " bytes");
        }

        byte[] bytes;
        try
        {
            bytes = ReadBounded(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Refuse(path, "nothing: the file does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refuse(path, Directory.Exists(path) ? "a directory" : "a file this process may not read (permission denied)", e);
        }
        catch (IOException e)
        {
            throw Refuse(path, "a file that could not be read (" + e.Message + ")", e);
        }

        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Max(0, e.Index) + start;
            var value = e.BytesUnknown is { Length: > 0 } unknown ? unknown[0] : bytes[Math.Min(at, bytes.Length - 1)];
            throw new HeMifConfigurationException(path, "", "UTF-8 text",
                string.Create(CultureInfo.InvariantCulture, $"the byte 0x{value:X2} at offset {at}, which is not UTF-8"), e);
        }
    }

    /// <summary>At most <see cref="HeMifConfiguration.MaxFileBytes"/> bytes; one more is an error (a file that grew, or a platform that could not tell its size).</summary>
    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            Options = FileOptions.SequentialScan,
            BufferSize = 0,
        });
        var buffer = new byte[Math.Min(HeMifConfiguration.MaxFileBytes + 1, stream.CanSeek && stream.Length > 0 ? stream.Length + 1 : 64 * 1024)];
        var read = 0;
        while (true)
        {
            if (read == buffer.Length)
            {
                if (buffer.Length > HeMifConfiguration.MaxFileBytes)
                {
                    throw TooLarge(path, "more bytes than that");
                }

                Array.Resize(ref buffer, (int)Math.Min(HeMifConfiguration.MaxFileBytes + 1L, buffer.Length * 2L));
            }

            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read > HeMifConfiguration.MaxFileBytes)
        {
            throw TooLarge(path, "more bytes than that");
        }

        return buffer.AsSpan(0, read).ToArray();
    }

    private static HeMifConfigurationException Refuse(string path, string found, Exception? inner = null) =>
        new(path, "", Expected, found, inner);

    private static HeMifConfigurationException TooLarge(string path, string found) =>
        new(path, "", string.Create(CultureInfo.InvariantCulture, $"a file of at most {HeMifConfiguration.MaxFileBytes / (1024 * 1024)} MiB ({HeMifConfiguration.MaxFileBytes:N0} bytes)"), found);

    /// <summary>The kind of file <paramref name="path"/> names and its size, following symbolic links, without opening it.</summary>
    internal static (Kind Kind, long Size) Stat(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                return StatLinux(path);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // An old C library without statx: fall back to what .NET can say.
            }
        }

        if (Directory.Exists(path))
        {
            return (Kind.Directory, 0);
        }

        return File.Exists(path) ? (Kind.Unknown, new FileInfo(path).Length) : (Kind.Missing, 0);
    }

    /// <summary>
    /// <c>statx(2)</c>: its buffer has the same layout on every Linux architecture (unlike <c>struct stat</c>):
    /// <c>stx_mode</c> is the 16 bits at offset 28 and <c>stx_size</c> the 64 bits at offset 40.
    /// </summary>
    private static (Kind Kind, long Size) StatLinux(string path)
    {
        const int AtFdCwd = -100;
        const uint StatxType = 0x1;
        const uint StatxSize = 0x200;
        var buffer = new byte[256];
        if (Statx(AtFdCwd, Encoding.UTF8.GetBytes(path + "\0"), 0, StatxType | StatxSize, buffer) != 0)
        {
            return Marshal.GetLastPInvokeError() switch
            {
                2 or 20 => (Kind.Missing, 0), // ENOENT, ENOTDIR
                13 or 1 => (Kind.NoPermission, 0), // EACCES, EPERM
                40 => (Kind.LinkLoop, 0), // ELOOP
                38 => ThrowNoStatx(), // ENOSYS: a kernel older than 4.11
                _ => (Kind.Unknown, File.Exists(path) ? new FileInfo(path).Length : 0),
            };
        }

        var mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        var size = BitConverter.ToInt64(buffer, 40);
        var kind = mode switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            0x1000 => Kind.Fifo,
            0x2000 => Kind.CharacterDevice,
            0x6000 => Kind.BlockDevice,
            0xC000 => Kind.Socket,
            _ => Kind.Other,
        };
        return (kind, size);
    }

    private static (Kind, long) ThrowNoStatx() => throw new EntryPointNotFoundException("statx");

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);
}

namespace HeMif.Hosting;

/// <summary>
/// The stream handed to SocketsHttpHandler for a connection that owns more than its socket (MPTCP: the path manager's
/// endpoints for its subflows), or whose path events a <see cref="RetiringHttpHandler"/> watches. Disposing it closes
/// the socket at once, as disposing the bare stream would, then disposes the whole <see cref="HeMifConnection"/> so that
/// nothing it set up outlives it (its path events complete), and tells <paramref name="closed"/>.
/// </summary>
internal sealed class ConnectionStream(HeMifConnection connection, Action? closed = null) : Stream
{
    private readonly Stream _inner = connection.Stream;
    private int _disposed;

    /// <summary>The connection this stream is the byte stream of.</summary>
    public HeMifConnection Connection => connection;

    public override bool CanRead => _inner.CanRead;

    public override bool CanWrite => _inner.CanWrite;

    public override bool CanSeek => false;

    public override bool CanTimeout => _inner.CanTimeout;

    public override int ReadTimeout
    {
        get => _inner.ReadTimeout;
        set => _inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => _inner.WriteTimeout;
        set => _inner.WriteTimeout = value;
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            closed?.Invoke();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // SocketsHttpHandler disposes synchronously: close the socket now, and let the rest (removing path-manager
            // endpoints, which runs a command) finish in the background rather than block the handler's thread.
            _inner.Dispose();
            closed?.Invoke();
            _ = Task.Run(async () => await connection.DisposeAsync().ConfigureAwait(false)).ContinueWith(
                t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        base.Dispose(disposing);
    }
}

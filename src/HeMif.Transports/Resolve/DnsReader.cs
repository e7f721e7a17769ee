using System.Buffers.Binary;
using System.Text;

namespace HeMif.Transports.Resolve;

/// <summary>
/// A bounds-checked cursor over one DNS message. Every read says whether it fit; the first failure's reason is kept
/// in <see cref="Error"/>. Nothing here throws on any input: that is what lets the parser promise "a result, never an
/// exception" for hostile bytes.
/// </summary>
internal ref struct DnsReader(ReadOnlySpan<byte> message)
{
    private readonly ReadOnlySpan<byte> _message = message;

    /// <summary>The offset of the next read.</summary>
    public int Position { get; set; }

    /// <summary>The first failure's reason, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>The message length: no read goes at or beyond it.</summary>
    public readonly int Length => _message.Length;

    /// <summary>Records <paramref name="reason"/> (the first one wins) and returns false.</summary>
    public bool Fail(string reason)
    {
        Error ??= reason;
        return false;
    }

    /// <summary>The message up to (not including) <paramref name="end"/>, for a reader bounded by one RDATA.</summary>
    public readonly ReadOnlySpan<byte> Window(int end) => _message[..end];

    /// <summary>A slice the caller has already bounds-checked.</summary>
    public readonly ReadOnlySpan<byte> Slice(int start, int length) => _message.Slice(start, length);

    /// <summary>Reads a big-endian 16-bit value (RFC 1035 §2.3.2: "network byte order").</summary>
    public bool TryReadUInt16(out ushort value)
    {
        value = 0;
        if (Position < 0 || Position > _message.Length - 2)
        {
            return Fail($"2-octet field at offset {Position} runs past the end of the message ({_message.Length} octets)");
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_message[Position..]);
        Position += 2;
        return true;
    }

    /// <summary>Reads a big-endian 32-bit value.</summary>
    public bool TryReadUInt32(out uint value)
    {
        value = 0;
        if (Position < 0 || Position > _message.Length - 4)
        {
            return Fail($"4-octet field at offset {Position} runs past the end of the message ({_message.Length} octets)");
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_message[Position..]);
        Position += 4;
        return true;
    }

    /// <summary>
    /// Reads a domain name (RFC 1035 §3.1, §4.1.4) in presentation form without the final dot; the root is "".
    /// Compression pointers ("The first two bits are ones ... The OFFSET field specifies an offset from the start of
    /// the message") are followed only when <paramref name="allowCompression"/>, and only backwards: each pointer must
    /// point before every octet this name has read so far, so the walk strictly retreats and cannot loop; at most
    /// <see cref="DnsMessage.MaxPointerHops"/> of them. Label types 01 and 10 ("reserved for future use") are
    /// rejected, as are labels over 63 octets and names over 255 (RFC 1035 §2.3.4). Bytes outside the host-name
    /// alphabet are written as \DDD and dots inside labels as "\.", so the presentation is ASCII and unambiguous.
    /// </summary>
    public bool TryReadName(bool allowCompression, out string name)
    {
        name = "";
        var text = new StringBuilder();
        var pos = Position;
        var lowest = Position;
        var resumeAt = -1;
        var hops = 0;
        var wireLength = 1; // the final root label's length octet
        while (true)
        {
            if (pos < 0 || pos >= _message.Length)
            {
                return Fail($"name at offset {Position} runs past the end of the message");
            }

            var b = _message[pos];
            switch (b & 0xC0)
            {
                case 0x00 when b == 0:
                    Position = resumeAt >= 0 ? resumeAt : pos + 1;
                    name = text.ToString();
                    return true;
                case 0x00:
                    if (pos + 1 + b > _message.Length)
                    {
                        return Fail($"label of {b} octets at offset {pos} runs past the end of the message");
                    }

                    wireLength += 1 + b;
                    if (wireLength > DnsMessage.MaxNameLength)
                    {
                        return Fail($"name at offset {Position} is longer than {DnsMessage.MaxNameLength} octets");
                    }

                    if (text.Length > 0)
                    {
                        text.Append('.');
                    }

                    AppendLabel(text, _message.Slice(pos + 1, b));
                    pos += 1 + b;
                    break;
                case 0xC0:
                    if (!allowCompression)
                    {
                        return Fail($"compression pointer at offset {pos} where names must be uncompressed");
                    }

                    if (pos + 1 >= _message.Length)
                    {
                        return Fail($"compression pointer at offset {pos} is cut off by the end of the message");
                    }

                    var target = ((b & 0x3F) << 8) | _message[pos + 1];
                    if (target >= lowest)
                    {
                        return Fail($"compression pointer at offset {pos} points forward or into itself (to {target})");
                    }

                    if (++hops > DnsMessage.MaxPointerHops)
                    {
                        return Fail($"name at offset {Position} follows more than {DnsMessage.MaxPointerHops} pointers");
                    }

                    if (resumeAt < 0)
                    {
                        resumeAt = pos + 2;
                    }

                    pos = target;
                    lowest = target;
                    break;
                default:
                    return Fail($"label type 0x{b & 0xC0:X2} at offset {pos} is reserved (RFC 1035 §4.1.4)");
            }
        }
    }

    private static void AppendLabel(StringBuilder text, ReadOnlySpan<byte> label)
    {
        foreach (var c in label)
        {
            if (c is (byte)'.' or (byte)'\\')
            {
                text.Append('\\').Append((char)c);
            }
            else if (c is > 0x20 and < 0x7F)
            {
                text.Append((char)c);
            }
            else
            {
                text.Append('\\').Append(c.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}

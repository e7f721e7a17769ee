using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace HeMif.Lab;

/// <summary>The outcome of one DNS query: answered (with its rcode and addresses) or not.</summary>
internal sealed record DnsResult(bool Answered, string Rcode, IReadOnlyList<IPAddress> Addresses, double Milliseconds, string Error);

/// <summary>
/// A minimal A/AAAA query over UDP, enough to check the lab's DNS servers (the library's own resolver is
/// in HeMif.Transports). Names in answers are skipped, never followed; only records of the asked type count.
/// </summary>
internal static class DnsQuery
{
    private static readonly string[] RcodeNames = ["NoError", "FormErr", "ServFail", "NXDomain", "NotImp", "Refused"];

    public static async Task<DnsResult> QueryAsync(IPEndPoint server, string name, ushort type, Pin pin, TimeSpan timeout)
    {
        var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        var query = BuildQuery(id, name, type);
        using var socket = pin.Open(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var cts = new CancellationTokenSource(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await socket.ConnectAsync(server, cts.Token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var buffer = new byte[4096];
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (n < 12 || BinaryPrimitives.ReadUInt16BigEndian(buffer) != id)
                {
                    continue; // not our answer
                }

                var rcode = buffer[3] & 0x0F;
                var addresses = ParseAnswers(buffer.AsSpan(0, n), type);
                return new DnsResult(true, rcode < RcodeNames.Length ? RcodeNames[rcode] : "Rcode" + rcode, addresses, elapsed, "");
            }
        }
        catch (OperationCanceledException)
        {
            return new DnsResult(false, "", [], Stopwatch.GetElapsedTime(started).TotalMilliseconds, "TimedOut");
        }
        catch (SocketException e)
        {
            return new DnsResult(false, "", [], Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.SocketErrorCode.ToString());
        }
    }

    private static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        using var stream = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // RD
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1); // QDCOUNT
        stream.Write(header);
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63)
            {
                throw new UsageException($"'{name}' is not a valid DNS name");
            }

            stream.WriteByte((byte)bytes.Length);
            stream.Write(bytes);
        }

        stream.WriteByte(0);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(tail, type);
        BinaryPrimitives.WriteUInt16BigEndian(tail[2..], 1); // IN
        stream.Write(tail);
        return stream.ToArray();
    }

    private static List<IPAddress> ParseAnswers(ReadOnlySpan<byte> message, ushort type)
    {
        var result = new List<IPAddress>();
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = 12;
        for (var i = 0; i < questions; i++)
        {
            offset = SkipName(message, offset) + 4;
        }

        for (var i = 0; i < answers && offset + 10 <= message.Length; i++)
        {
            offset = SkipName(message, offset);
            if (offset + 10 > message.Length)
            {
                break;
            }

            var rrType = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + length > message.Length)
            {
                break;
            }

            if (rrType == type && ((type == 1 && length == 4) || (type == 28 && length == 16)))
            {
                result.Add(new IPAddress(message.Slice(offset, length)));
            }

            offset += length;
        }

        return result;
    }

    private static int SkipName(ReadOnlySpan<byte> message, int offset)
    {
        while (offset < message.Length)
        {
            var length = message[offset];
            if (length == 0)
            {
                return offset + 1;
            }

            if ((length & 0xC0) == 0xC0)
            {
                return offset + 2; // a pointer ends the name
            }

            offset += length + 1;
        }

        return message.Length;
    }
}

using System.Text;

namespace HeMif.Fuzz;

/// <summary>
/// Seeded random mutations of seed inputs, for fuzzing without AFL++ (<c>HeMif.Fuzz mutate</c>, the fallback of
/// <c>tools/fuzz.sh</c>) and for the corpus test's fixed-seed round. Not coverage-guided: it only tries what AFL++'s
/// havoc stage tries first (bit flips, boundary values, inserted, deleted and repeated runs, splices of two seeds,
/// and tokens of the formats: JSON punctuation and keywords, HTTP line ends, numbers at the edges of their types).
/// The same seed and seeds give the same inputs, so a finding is reproduced by its seed and index.
/// </summary>
public sealed class Mutator
{
    private const int MaxLength = 64 * 1024;

    private static readonly byte[] BoundaryBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0x3f, 0x40];

    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "-1", "0", "1e999", "-0", "1.5", "18446744073709551616",
            "2147483648", "-9223372036854775809", "\"\\u0000\"", "\\", "\r\n", "\r\n\r\n", "\n", " ", "HTTP/1.1 ", "Location: ",
            "Content-Length: ", "99999999999999999999", "::", "fe80::1%", "0.0.0.0", "255.255.255.255", "//", "/*", "\uFEFF", "\\ud800", "\\udc00", "\\ud83d\\ude00",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private readonly Random random;
    private readonly IReadOnlyList<byte[]> seeds;

    /// <summary>Mutates <paramref name="seeds"/> (at least one; an empty folder is fuzzed from one empty input).</summary>
    public Mutator(IReadOnlyList<byte[]> seeds, int seed)
    {
        this.seeds = seeds.Count > 0 ? seeds : [[]];
        random = new Random(seed);
    }

    /// <summary>The next input: one seed with one to eight stacked mutations.</summary>
    public byte[] Next()
    {
        var data = new List<byte>(seeds[random.Next(seeds.Count)]);
        var rounds = 1 << random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            Mutate(data);
        }

        return data.Count > MaxLength ? [.. data.Take(MaxLength)] : [.. data];
    }

    private void Mutate(List<byte> data)
    {
        switch (random.Next(data.Count == 0 ? 1 : 9))
        {
            case 0:
                data.InsertRange(Position(data), Tokens[random.Next(Tokens.Length)]);
                break;
            case 1:
                data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                data[random.Next(data.Count)] = BoundaryBytes[random.Next(BoundaryBytes.Length)];
                break;
            case 3:
                data[random.Next(data.Count)] = (byte)random.Next(256);
                break;
            case 4:
            {
                var start = random.Next(data.Count);
                data.RemoveRange(start, random.Next(1, Math.Min(32, data.Count - start) + 1));
                break;
            }

            case 5:
            {
                // A run repeated: lengths, nesting and header floods.
                var start = random.Next(data.Count);
                var run = data.GetRange(start, random.Next(1, Math.Min(16, data.Count - start) + 1));
                var times = random.Next(1, 64);
                for (var i = 0; i < times; i++)
                {
                    data.InsertRange(start, run);
                }

                break;
            }

            case 6:
            {
                // Splice: the head of this input, the tail of another seed.
                var other = seeds[random.Next(seeds.Count)];
                var cut = random.Next(data.Count);
                data.RemoveRange(cut, data.Count - cut);
                data.AddRange(other.Skip(random.Next(other.Length + 1)));
                break;
            }

            case 7:
            {
                // Truncated: every length field now points past the end.
                var cut = random.Next(data.Count);
                data.RemoveRange(cut, data.Count - cut);
                break;
            }

            default:
            {
                // A 16- or 32-bit field at an edge, in network byte order (DNS, QUIC and MPTCP lengths and counts).
                var value = random.Next(4) switch { 0 => 0u, 1 => 0xffffffffu, 2 => 0x7fffffffu, _ => (uint)random.Next(0, 1024) };
                var at = random.Next(data.Count);
                var width = random.Next(2) == 0 ? 2 : 4;
                for (var i = 0; i < width && at + i < data.Count; i++)
                {
                    data[at + i] = (byte)(value >> (8 * (width - 1 - i)));
                }

                break;
            }
        }
    }

    private int Position(List<byte> data) => random.Next(data.Count + 1);
}

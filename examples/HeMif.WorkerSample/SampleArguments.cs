namespace HeMif.WorkerSample;

/// <summary>The sample's own switches; every other argument is configuration for the host.</summary>
internal sealed record SampleArguments(bool SelfTest, Uri? Once, string[] Rest, string? Error)
{
    public static SampleArguments Parse(string[] args)
    {
        var selfTest = false;
        Uri? once = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--self-test":
                    selfTest = true;
                    break;
                case "--once":
                    if (i + 1 >= args.Length || !Uri.TryCreate(args[i + 1], UriKind.Absolute, out once) || once.Scheme is not ("http" or "https"))
                    {
                        return new(false, null, [], "--once needs an absolute http:// or https:// URL");
                    }

                    i++;
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        return new(selfTest, once, [.. rest], null);
    }
}

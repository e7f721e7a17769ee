namespace HeMif.Configuration;

/// <summary>
/// Configuration or interface facts that cannot be used. The message names where the input came from (a file, or a
/// configuration section), the path inside it and what was expected there. Loading is all or nothing: when this is
/// thrown, nothing from the input has been applied.
/// </summary>
public sealed class HeMifConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="origin">The file (its path as given), or a description of the configuration section.</param>
    /// <param name="path">
    /// The JSON path (<c>$.operatorRules[2].level</c>, <c>$.destinations['www.example.com'][0]</c>) or configuration key
    /// (<c>HeMif:OperatorRules:2:Level</c>); empty when the file as a whole is the problem (missing, a directory, too large).
    /// </param>
    /// <param name="expected">What should have been there.</param>
    /// <param name="found">What was there.</param>
    /// <param name="inner">The underlying parser error, if any.</param>
    public HeMifConfigurationException(string origin, string path, string expected, string found, Exception? inner = null)
        : base(path.Length == 0 ? $"{origin}: expected {expected}; found {found}" : $"{origin}: {path}: expected {expected}; found {found}", inner)
    {
        Origin = origin;
        Path = path;
        Expected = expected;
        Found = found;
    }

    /// <summary>Creates the exception with a message only (prefer the detailed constructor).</summary>
    public HeMifConfigurationException(string message)
        : base(message)
    {
        Origin = Path = Expected = Found = "";
    }

    /// <summary>Creates the exception with a message and inner exception only (prefer the detailed constructor).</summary>
    public HeMifConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Origin = Path = Expected = Found = "";
    }

    /// <summary>Creates an empty exception (prefer the detailed constructor).</summary>
    public HeMifConfigurationException()
    {
        Origin = Path = Expected = Found = "";
    }

    /// <summary>The file (its path as given), or a description of the configuration section.</summary>
    public string Origin { get; }

    /// <summary>Where in the input: a JSON path or a configuration key; empty when the whole file is the problem.</summary>
    public string Path { get; }

    /// <summary>What was expected there.</summary>
    public string Expected { get; }

    /// <summary>What was found there.</summary>
    public string Found { get; }
}

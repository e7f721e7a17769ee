namespace HeMif.TestKit;

/// <summary>A test-kit expectation failed; the message says what was expected, what arrived, and the hint.</summary>
public sealed class TestKitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TestKitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TestKitException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TestKitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

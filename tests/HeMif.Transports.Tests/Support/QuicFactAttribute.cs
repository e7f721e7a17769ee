using System.Net.Quic;
using HeMif.Transports.Quic;

namespace HeMif.Transports.Tests.Support;

/// <summary>
/// A test that needs QUIC on this host (System.Net.Quic with libmsquic): where the host has none it is reported as
/// skipped, saying plainly that it could not run and why (as the lab's tests do, LabRequirements.cs). No CI=true
/// exception here: libmsquic is not a Debian package, so .ci/run cannot install it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class QuicFactAttribute : FactAttribute
{
    public QuicFactAttribute()
    {
        if (!QuicListener.IsSupported || !QuicConnection.IsSupported)
        {
            Skip = $"could not run: {new QuicTransport().UnsupportedReason ?? "QuicListener unsupported on this host"}; this test needs System.Net.Quic with libmsquic";
        }
    }
}

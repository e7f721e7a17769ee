using System.Net;

namespace HeMif.TestKit.Contracts;

/// <summary>
/// <see cref="AttemptTransportContract"/> for a transport that reaches its destination over TCP (TCP itself, MPTCP,
/// a tunnel through a TCP proxy): the loopback endpoints are the TCP ones, a <see cref="TcpEchoPeer"/>, a
/// <see cref="RefusingPort"/> and a <see cref="SilentTcpPort"/>, so a derived class gives only its transport.
/// </summary>
public abstract class TcpFamilyTransportContract : AttemptTransportContract
{
    /// <inheritdoc />
    protected override ContractPeer StartPeer() => new TcpEchoPeer();

    /// <inheritdoc />
    protected override (IPEndPoint EndPoint, IDisposable Owner) Refusing()
    {
        var port = new RefusingPort();
        return (port.EndPoint, port);
    }

    /// <inheritdoc />
    protected override (IPEndPoint EndPoint, IDisposable Owner) Silent()
    {
        var port = new SilentTcpPort();
        return (port.EndPoint, port);
    }
}

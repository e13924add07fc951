namespace Treecast.Agent.Transfer;

/// <summary>
/// How a transfer server knows who pushes: with <see cref="ClientCertificate"/>, the push's claimed sender must be the VMM
/// its TLS client certificate names (the chain was checked against the fleet's CAs in the handshake); without, only the
/// token and the tree admit it (<c>Agent:Tls:AllowPlaintext</c>).
/// </summary>
public sealed record PushAuthentication(bool ClientCertificate);

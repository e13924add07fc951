namespace Treecast.Security;

/// <summary>Certificate or key files that cannot serve: the message is one line naming the file and the problem.</summary>
public sealed class CertificateMaterialException(string message) : Exception(message);

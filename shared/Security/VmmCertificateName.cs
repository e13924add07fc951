using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Treecast.Security;

/// <summary>
/// How a certificate names the VMM it belongs to: a subject alternative name URI <c>urn:treecast:vmm:{vmmId}</c> (the
/// common name repeats the id for people reading the certificate; only the URI counts).
/// </summary>
public static class VmmCertificateName
{
    public const string UriPrefix = "urn:treecast:vmm:";

    private const string SubjectAlternativeNameOid = "2.5.29.17";

    // GeneralName ::= CHOICE { ..., uniformResourceIdentifier [6] IA5String, ... }
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static Uri UriOf(string vmmId) => new(UriPrefix + vmmId);

    /// <summary>The VMM id the certificate names, or null when it names none (or more than one).</summary>
    public static string? VmmIdOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var extension = certificate.Extensions[SubjectAlternativeNameOid];
        if (extension is null)
        {
            return null;
        }

        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            string? vmmId = null;
            while (names.HasData)
            {
                if (names.PeekTag() != UriTag)
                {
                    names.ReadEncodedValue();
                    continue;
                }

                var uri = names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag);
                if (uri.StartsWith(UriPrefix, StringComparison.Ordinal) && uri.Length > UriPrefix.Length)
                {
                    if (vmmId is not null)
                    {
                        return null;
                    }

                    vmmId = uri[UriPrefix.Length..];
                }
            }

            return vmmId;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}

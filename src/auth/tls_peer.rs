//! Who a client is according to its verified TLS certificate, and the
//! names nats-server's `verify_and_map` would try for it, in its order.
//!
//! rustls has already verified the certificate's chain and signature;
//! `x509-parser` reads its subject and alternative names. This module owns
//! only how those print and in which order they are tried.

use x509_parser::asn1_rs::{Any, Class, Oid, Tag, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{
    OID_DOMAIN_COMPONENT, OID_USERID, OID_X509_COMMON_NAME, OID_X509_COUNTRY_NAME,
    OID_X509_LOCALITY_NAME, OID_X509_ORGANIZATION_NAME, OID_X509_ORGANIZATIONAL_UNIT,
    OID_X509_POSTAL_CODE, OID_X509_SERIALNUMBER, OID_X509_STATE_OR_PROVINCE_NAME,
    OID_X509_STREET_ADDRESS,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// A verified client certificate's identity, kept on the connection's
/// login so authenticators (certificate mapping, plugins) can use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPeer {
    /// The subject as an RFC 2253 DN, most specific attribute first
    /// (`CN=alice,O=Acme,DC=example,DC=com`); all attributes are kept.
    pub subject: String,
    /// Subject alternative names: emails, then DNS names, then URIs.
    pub sans: Vec<String>,
    /// User names to try for `verify_and_map`, in nats-server's order.
    map_names: Vec<String>,
}

impl TlsPeer {
    /// Reads a DER certificate; `None` when it cannot be read.
    pub fn from_der(der: &[u8]) -> Option<TlsPeer> {
        // Anything after the certificate is ignored: rustls hands over one
        // certificate per slice.
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let name = cert.subject();
        let subject = rfc2253(name)?;
        let sans = alt_names(&cert)?;
        let mut map_names = sans.clone();
        let go_subject = go_pkix_subject(name);
        if !subject.is_empty() {
            map_names.push(subject.clone());
        }
        let dcs: Vec<String> = name
            .iter_attributes()
            .filter(|a| *a.attr_type() == OID_DOMAIN_COMPONENT)
            .filter_map(|a| text(a.attr_value()).map(|v| format!("DC={v}")))
            .collect();
        if !dcs.is_empty() {
            map_names.push(format!("{go_subject},{}", dcs.join(",")));
        }
        if !go_subject.is_empty() {
            map_names.push(go_subject);
        }
        map_names.dedup();
        Some(TlsPeer {
            subject,
            sans,
            map_names,
        })
    }

    /// The names `verify_and_map` looks users up by, first match wins:
    /// email SANs, DNS SANs, URI SANs, the full DN, then the DN as Go's
    /// `pkix.Name` prints it (with and without domain components), which
    /// is what nats-server users are usually named after.
    pub fn map_names(&self) -> impl Iterator<Item = &str> {
        self.map_names.iter().map(String::as_str)
    }
}

/// Email SANs, then DNS names, then URIs. `None` when the extension is
/// malformed or repeated, which a verified certificate never is.
fn alt_names(cert: &X509Certificate<'_>) -> Option<Vec<String>> {
    let names = match cert.subject_alternative_name().ok()? {
        Some(san) => san.value.general_names.as_slice(),
        None => &[],
    };
    let emails = names.iter().filter_map(|n| match n {
        GeneralName::RFC822Name(s) => Some(*s),
        _ => None,
    });
    let dns_names = names.iter().filter_map(|n| match n {
        GeneralName::DNSName(s) => Some(*s),
        _ => None,
    });
    let uris = names.iter().filter_map(|n| match n {
        GeneralName::URI(s) => Some(*s),
        _ => None,
    });
    Some(
        emails
            .chain(dns_names)
            .chain(uris)
            .map(str::to_owned)
            .collect(),
    )
}

/// Short names for attribute types in DN strings; others are printed as
/// their dotted OID with a `#hex` value (RFC 2253 section 2.3).
fn short_name(oid: &Oid<'_>) -> Option<&'static str> {
    let names = [
        (OID_X509_COMMON_NAME, "CN"),
        (OID_X509_SERIALNUMBER, "SERIALNUMBER"),
        (OID_X509_COUNTRY_NAME, "C"),
        (OID_X509_LOCALITY_NAME, "L"),
        (OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
        (OID_X509_STREET_ADDRESS, "STREET"),
        (OID_X509_ORGANIZATION_NAME, "O"),
        (OID_X509_ORGANIZATIONAL_UNIT, "OU"),
        (OID_X509_POSTAL_CODE, "POSTALCODE"),
        (OID_DOMAIN_COMPONENT, "DC"),
        (OID_USERID, "UID"),
    ];
    names.into_iter().find(|(o, _)| o == oid).map(|(_, n)| n)
}

/// The text of a directory string, or `None` for other value types. The
/// 8-bit string types are read as UTF-8 (invalid bytes replaced), BMPString
/// as UTF-16; nats-server's Go reads the same types as strings.
fn text(value: &Any<'_>) -> Option<String> {
    if value.class() != Class::Universal || value.header.is_constructed() {
        return None;
    }
    match value.tag() {
        Tag::Utf8String
        | Tag::NumericString
        | Tag::PrintableString
        | Tag::TeletexString
        | Tag::Ia5String => Some(String::from_utf8_lossy(value.data).into_owned()),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .data
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// One attribute as RFC 2253 prints it: `CN=alice`, or `2.5.4.3=#1c04…`
/// (the value's DER in hex) when the type has no short name or the value
/// is not a string. `None` if the value cannot be re-encoded.
fn rfc2253_attribute(a: &AttributeTypeAndValue<'_>) -> Option<String> {
    match (short_name(a.attr_type()), text(a.attr_value())) {
        (Some(name), Some(text)) => Some(format!("{name}={}", escape(&text))),
        _ => {
            let der = a.attr_value().to_der_vec().ok()?;
            Some(format!("{}=#{}", a.attr_type().to_id_string(), hex(&der)))
        }
    }
}

/// RFC 2253: RDNs in reverse certificate order, multi-valued RDNs joined
/// with `+`.
fn rfc2253(name: &X509Name<'_>) -> Option<String> {
    let mut rdns = name
        .iter_rdn()
        .map(|rdn| {
            let attributes = rdn
                .iter()
                .map(rfc2253_attribute)
                .collect::<Option<Vec<_>>>()?;
            Some(attributes.join("+"))
        })
        .collect::<Option<Vec<_>>>()?;
    rdns.reverse();
    Some(rdns.join(","))
}

/// The subject as Go's `pkix.Name.ToRDNSequence().String()` prints it,
/// which nats-server matches user names against: only the attributes
/// `pkix.Name` keeps, in its fixed order (reversed), several values of one
/// type joined with `+`, a single CN and serial number (the last given).
fn go_pkix_subject(name: &X509Name<'_>) -> String {
    let values = |oid: &Oid<'_>| -> Vec<String> {
        name.iter_attributes()
            .filter(|a| a.attr_type() == oid)
            .filter_map(|a| text(a.attr_value()).map(|t| escape(&t)))
            .collect()
    };
    let last = |oid: &Oid<'_>| values(oid).pop().into_iter().collect::<Vec<_>>();
    let order: [(&str, Vec<String>); 9] = [
        ("C", values(&OID_X509_COUNTRY_NAME)),
        ("ST", values(&OID_X509_STATE_OR_PROVINCE_NAME)),
        ("L", values(&OID_X509_LOCALITY_NAME)),
        ("STREET", values(&OID_X509_STREET_ADDRESS)),
        ("POSTALCODE", values(&OID_X509_POSTAL_CODE)),
        ("O", values(&OID_X509_ORGANIZATION_NAME)),
        ("OU", values(&OID_X509_ORGANIZATIONAL_UNIT)),
        ("CN", last(&OID_X509_COMMON_NAME)),
        ("SERIALNUMBER", last(&OID_X509_SERIALNUMBER)),
    ];
    let rdns: Vec<String> = order
        .iter()
        .rev()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| {
            v.iter()
                .map(|value| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.join(",")
}

/// Escapes a value as RFC 2253 (and Go) do.
fn escape(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => i == 0 || i == last,
            '#' => i == 0,
            _ => false,
        };
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(params: rcgen::CertificateParams) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn subject_sans_and_map_order() {
        let mut p =
            rcgen::CertificateParams::new(vec!["svc.example.com".to_string()]).expect("params");
        p.subject_alt_names.push(rcgen::SanType::Rfc822Name(
            "ops@example.com".try_into().expect("email"),
        ));
        p.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://example.com/svc".try_into().expect("uri"),
        ));
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "US");
        dn.push(rcgen::DnType::OrganizationName, "Acme, Inc.");
        dn.push(rcgen::DnType::CommonName, "alice");
        p.distinguished_name = dn;
        let peer = TlsPeer::from_der(&cert(p)).expect("readable");
        assert_eq!(peer.subject, r"CN=alice,O=Acme\, Inc.,C=US");
        assert_eq!(
            peer.sans,
            [
                "ops@example.com",
                "svc.example.com",
                "spiffe://example.com/svc"
            ]
        );
        let names: Vec<&str> = peer.map_names().collect();
        assert_eq!(
            names,
            [
                "ops@example.com",
                "svc.example.com",
                "spiffe://example.com/svc",
                r"CN=alice,O=Acme\, Inc.,C=US"
            ]
        );
    }

    #[test]
    fn domain_components_as_nats_server_appends_them() {
        // rcgen keeps one value per attribute type, so one DC here.
        let mut p = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(
            rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
            rcgen::DnValue::Ia5String("example".try_into().expect("ia5")),
        );
        dn.push(rcgen::DnType::OrganizationalUnitName, "ops");
        dn.push(rcgen::DnType::CommonName, "bob");
        p.distinguished_name = dn;
        let peer = TlsPeer::from_der(&cert(p)).expect("readable");
        assert_eq!(peer.subject, "CN=bob,OU=ops,DC=example");
        assert!(peer.sans.is_empty());
        let names: Vec<&str> = peer.map_names().collect();
        assert_eq!(names, ["CN=bob,OU=ops,DC=example", "CN=bob,OU=ops"]);
    }

    /// Attribute types without a short name, and values that are not
    /// directory strings, print as `OID=#hex` of the value's DER.
    #[test]
    fn unnamed_types_and_non_strings_print_as_hex() {
        let mut p = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CustomDnType(vec![1, 2, 3, 4]), "x,y");
        dn.push(
            rcgen::DnType::CommonName,
            rcgen::DnValue::UniversalString("a".try_into().expect("universal")),
        );
        p.distinguished_name = dn;
        let peer = TlsPeer::from_der(&cert(p)).expect("readable");
        assert_eq!(peer.subject, "2.5.4.3=#1c0400000061,1.2.3.4=#0c03782c79");
        let names: Vec<&str> = peer.map_names().collect();
        assert_eq!(names, ["2.5.4.3=#1c0400000061,1.2.3.4=#0c03782c79"]);
    }

    /// BMPString and TeletexString values are text, for the DN and for
    /// the `pkix.Name` form alike.
    #[test]
    fn bmp_and_teletex_strings_are_text() {
        let mut p = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(
            rcgen::DnType::OrganizationName,
            rcgen::DnValue::TeletexString("Acme".try_into().expect("teletex")),
        );
        dn.push(
            rcgen::DnType::CommonName,
            rcgen::DnValue::BmpString("Zoë #1".try_into().expect("bmp")),
        );
        p.distinguished_name = dn;
        let peer = TlsPeer::from_der(&cert(p)).expect("readable");
        assert_eq!(peer.subject, "CN=Zoë #1,O=Acme");
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"\x30\x05\x30\x03\x02\x01",
            b"\xff\xff\xff",
        ] {
            assert_eq!(TlsPeer::from_der(bytes), None);
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape(" a#b "), r"\ a#b\ ");
        assert_eq!(escape("#x;y"), r"\#x\;y");
    }
}

//! Who a client is according to its verified TLS certificate, and the
//! names nats-server's `verify_and_map` would try for it, in its order.

use super::x509::{Attribute, Subject, read_subject};

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
    pub fn from_der(cert: &[u8]) -> Option<TlsPeer> {
        let s = read_subject(cert)?;
        let subject = rfc2253(&s);
        let sans: Vec<String> = s
            .emails
            .iter()
            .chain(&s.dns_names)
            .chain(&s.uris)
            .cloned()
            .collect();
        let mut map_names = sans.clone();
        let go_subject = go_pkix_subject(&s);
        if !subject.is_empty() {
            map_names.push(subject.clone());
        }
        let dcs: Vec<String> = attributes(&s)
            .filter(|a| a.oid == DOMAIN_COMPONENT)
            .filter_map(|a| a.text.as_ref().map(|v| format!("DC={v}")))
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

const DOMAIN_COMPONENT: &str = "0.9.2342.19200300.100.1.25";

/// Short names for attribute types in DN strings; others are printed as
/// their dotted OID with a `#hex` value (RFC 2253 section 2.3).
const SHORT_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.17", "POSTALCODE"),
    (DOMAIN_COMPONENT, "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

fn short_name(oid: &str) -> Option<&'static str> {
    SHORT_NAMES.iter().find(|(o, _)| *o == oid).map(|(_, n)| *n)
}

fn attributes(s: &Subject) -> impl Iterator<Item = &Attribute> {
    s.rdns.iter().flatten()
}

/// RFC 2253: RDNs in reverse certificate order, multi-valued RDNs joined
/// with `+`.
fn rfc2253(s: &Subject) -> String {
    let rdns: Vec<String> = s
        .rdns
        .iter()
        .rev()
        .map(|rdn| {
            rdn.iter()
                .map(|a| match (short_name(&a.oid), &a.text) {
                    (Some(name), Some(text)) => format!("{name}={}", escape(text)),
                    _ => format!("{}=#{}", a.oid, hex(&a.der)),
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.join(",")
}

/// The subject as Go's `pkix.Name.ToRDNSequence().String()` prints it,
/// which nats-server matches user names against: only the attributes
/// `pkix.Name` keeps, in its fixed order (reversed), several values of one
/// type joined with `+`, a single CN and serial number (the last given).
fn go_pkix_subject(s: &Subject) -> String {
    let values = |oid: &str| -> Vec<String> {
        attributes(s)
            .filter(|a| a.oid == oid)
            .filter_map(|a| a.text.as_deref().map(escape))
            .collect()
    };
    let last = |oid: &str| values(oid).pop().into_iter().collect::<Vec<_>>();
    let order: [(&str, Vec<String>); 9] = [
        ("C", values("2.5.4.6")),
        ("ST", values("2.5.4.8")),
        ("L", values("2.5.4.7")),
        ("STREET", values("2.5.4.9")),
        ("POSTALCODE", values("2.5.4.17")),
        ("O", values("2.5.4.10")),
        ("OU", values("2.5.4.11")),
        ("CN", last("2.5.4.3")),
        ("SERIALNUMBER", last("2.5.4.5")),
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

    #[test]
    fn escaping() {
        assert_eq!(escape(" a#b "), r"\ a#b\ ");
        assert_eq!(escape("#x;y"), r"\#x\;y");
    }
}

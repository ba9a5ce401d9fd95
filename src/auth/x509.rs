//! Just enough DER to read who a verified client certificate names: its
//! subject's attributes and its email, DNS and URI subject alternative
//! names.
//!
//! rustls has already verified the certificate's chain and signature, so
//! this only reads fields; anything it does not understand makes it return
//! `None` rather than guess. It owns no policy about which name maps to
//! which user (see `tls_peer`).

/// One attribute of a subject DN, such as `CN=alice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attribute {
    /// Dotted object identifier, such as `2.5.4.3`.
    pub oid: String,
    /// The value, when it is one of the string types.
    pub text: Option<String>,
    /// The whole DER encoding of the value (for the `#hex` form).
    pub der: Vec<u8>,
}

/// What a certificate says about its subject.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Subject {
    /// Relative distinguished names in certificate order (most general
    /// first); each holds one or more attributes.
    pub rdns: Vec<Vec<Attribute>>,
    pub emails: Vec<String>,
    pub dns_names: Vec<String>,
    pub uris: Vec<String>,
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const EXTENSIONS: u8 = 0xa3;
const VERSION: u8 = 0xa0;
/// id-ce-subjectAltName, 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// GeneralName choices, implicitly tagged.
const SAN_EMAIL: u8 = 0x81;
const SAN_DNS: u8 = 0x82;
const SAN_URI: u8 = 0x86;

/// Reads the subject and SANs of a DER certificate.
pub(super) fn read_subject(cert: &[u8]) -> Option<Subject> {
    let (tag, cert, _) = tlv(cert)?;
    expect(tag, SEQUENCE)?;
    let (tag, mut tbs, _) = tlv(cert)?;
    expect(tag, SEQUENCE)?;
    let (tag, _, rest) = tlv(tbs)?;
    if tag == VERSION {
        tbs = rest;
    }
    // serial, signature algorithm, issuer, validity
    for _ in 0..4 {
        tbs = tlv(tbs)?.2;
    }
    let (tag, name, mut rest) = tlv(tbs)?;
    expect(tag, SEQUENCE)?;
    let mut subject = Subject {
        rdns: read_name(name)?,
        ..Subject::default()
    };
    while !rest.is_empty() {
        let (tag, content, next) = tlv(rest)?;
        if tag == EXTENSIONS {
            read_extensions(content, &mut subject)?;
        }
        rest = next;
    }
    Some(subject)
}

fn read_name(mut name: &[u8]) -> Option<Vec<Vec<Attribute>>> {
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (tag, mut set, rest) = tlv(name)?;
        expect(tag, SET)?;
        let mut rdn = Vec::new();
        while !set.is_empty() {
            let (tag, atv, next) = tlv(set)?;
            expect(tag, SEQUENCE)?;
            let (tag, oid, value) = tlv(atv)?;
            expect(tag, OID)?;
            let (value_tag, content, _) = tlv(value)?;
            rdn.push(Attribute {
                oid: dotted(oid)?,
                text: text(value_tag, content),
                der: value.to_vec(),
            });
            set = next;
        }
        rdns.push(rdn);
        name = rest;
    }
    Some(rdns)
}

fn read_extensions(content: &[u8], subject: &mut Subject) -> Option<()> {
    let (tag, mut list, _) = tlv(content)?;
    expect(tag, SEQUENCE)?;
    while !list.is_empty() {
        let (tag, ext, rest) = tlv(list)?;
        expect(tag, SEQUENCE)?;
        let (tag, oid, mut fields) = tlv(ext)?;
        expect(tag, OID)?;
        let (mut tag, mut value, next) = tlv(fields)?;
        if tag == BOOLEAN {
            fields = next;
            (tag, value, _) = tlv(fields)?;
        }
        expect(tag, OCTET_STRING)?;
        if oid == SUBJECT_ALT_NAME {
            read_alt_names(value, subject)?;
        }
        list = rest;
    }
    Some(())
}

fn read_alt_names(value: &[u8], subject: &mut Subject) -> Option<()> {
    let (tag, mut names, _) = tlv(value)?;
    expect(tag, SEQUENCE)?;
    while !names.is_empty() {
        let (tag, name, rest) = tlv(names)?;
        let list = match tag {
            SAN_EMAIL => Some(&mut subject.emails),
            SAN_DNS => Some(&mut subject.dns_names),
            SAN_URI => Some(&mut subject.uris),
            _ => None,
        };
        if let Some(list) = list {
            list.push(std::str::from_utf8(name).ok()?.to_string());
        }
        names = rest;
    }
    Some(())
}

/// The text of a directory string, or `None` for other value types.
fn text(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, T61String, IA5String
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 => Some(String::from_utf8_lossy(content).into_owned()),
        // BMPString: UTF-16 big endian.
        0x1e => {
            let units: Vec<u16> = content
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// An object identifier in dotted form.
fn dotted(oid: &[u8]) -> Option<String> {
    let (&first, rest) = oid.split_first()?;
    let mut out = format!("{}.{}", first / 40, first % 40);
    let mut arc: u64 = 0;
    for &b in rest {
        arc = arc.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            out.push('.');
            out.push_str(&arc.to_string());
            arc = 0;
        }
    }
    Some(out)
}

fn expect(tag: u8, want: u8) -> Option<()> {
    (tag == want).then_some(())
}

/// Splits one DER tag-length-value off the front of `buf`: the tag, the
/// content and what follows. Only low tag numbers and definite lengths,
/// which is all DER certificates use.
fn tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_rejects_truncation_and_long_forms() {
        assert_eq!(
            tlv(&[0x30, 0x02, 1, 2, 9]),
            Some((0x30, &[1u8, 2][..], &[9u8][..]))
        );
        assert_eq!(tlv(&[0x30, 0x03, 1, 2]), None);
        assert_eq!(tlv(&[0x30, 0x81]), None);
        assert_eq!(tlv(&[0x1f, 0x00]), None);
        assert_eq!(
            tlv(&[0x04, 0x81, 0x01, 7]),
            Some((0x04, &[7u8][..], &[][..]))
        );
    }

    #[test]
    fn dotted_oids() {
        assert_eq!(dotted(&[0x55, 0x04, 0x03]).as_deref(), Some("2.5.4.3"));
        assert_eq!(
            dotted(&[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19]).as_deref(),
            Some("0.9.2342.19200300.100.1.25")
        );
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"\x30\x05\x30\x03\x02\x01",
            b"\xff\xff\xff",
        ] {
            assert_eq!(read_subject(bytes), None);
        }
    }
}

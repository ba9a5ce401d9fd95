//! `.creds` files: a user JWT and the user's nkey seed, each between
//! dashed markers, as `nsc` and nats-io/jwt's `FormatUserConfig` write them
//! and every NATS client reads them.

use nkeys::{KeyPair, KeyPairType};

use super::claims::ClaimType;
use super::claims::kind_name;
use super::codec::decode_verified;
use super::error::JwtError;

/// The creds file nats-io/jwt's `FormatUserConfig` writes, byte for byte.
/// Like it, this refuses anything but a verified user JWT, a user seed
/// (`SU...`) and a seed whose public key is the JWT's subject, so a
/// mismatched file is caught when written rather than at login.
pub fn format_creds(jwt: &str, seed: &str) -> Result<String, JwtError> {
    let decoded = decode_verified(jwt)?;
    if decoded.claim_type() != ClaimType::User {
        return Err(JwtError::WrongClaimType {
            expected: ClaimType::User,
            found: decoded.claim_type(),
        });
    }
    let seed = seed.trim();
    let key = KeyPair::from_seed(seed).map_err(|_| JwtError::CredsBadSeed)?;
    if key.key_pair_type() != KeyPairType::User {
        return Err(JwtError::CredsNotUserSeed {
            found: kind_name(&key.key_pair_type()),
        });
    }
    let subject = &decoded.data().sub;
    if key.public_key() != *subject {
        return Err(JwtError::CredsSeedMismatch {
            seed_key: key.public_key(),
            subject: subject.clone(),
        });
    }
    Ok(format!(
        "-----BEGIN NATS USER JWT-----
{jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
{seed}
------END USER NKEY SEED------

*************************************************************
"
    ))
}

/// The JWT and the seed of a creds file, read as tolerantly as nats-io's
/// parsers: a marker is any line holding three or more dashes and ending
/// with three or more, lines may end in CRLF and carry stray spaces, the first marked
/// block is the JWT and the second the seed. A file without markers is a
/// bare JWT; a seed without markers is the first line starting with `SO`,
/// `SA` or `SU`. The JWT is returned unverified; the seed must decode.
pub fn parse_creds(text: &str) -> Result<(String, String), JwtError> {
    let blocks = marked_blocks(text);
    let jwt = match blocks.first() {
        Some(jwt) => jwt.to_string(),
        None => text.trim().to_string(),
    };
    if jwt.is_empty() {
        return Err(JwtError::CredsNoJwt);
    }
    let seed = match blocks.get(1) {
        Some(seed) => *seed,
        None => text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("SO") || l.starts_with("SA") || l.starts_with("SU"))
            .ok_or(JwtError::CredsNoSeed)?,
    };
    if !(seed.starts_with("SO") || seed.starts_with("SA") || seed.starts_with("SU")) {
        return Err(JwtError::CredsBadSeed);
    }
    KeyPair::from_seed(seed).map_err(|_| JwtError::CredsBadSeed)?;
    Ok((jwt, seed.to_string()))
}

/// Contents of every `marker / one line / marker` block, in order. Mirrors
/// nats-io/jwt's `userConfigRE`: the content line holds only
/// `[A-Za-z0-9_.=-]` (which keeps the `*****` banner out).
fn marked_blocks(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i + 2 < lines.len() {
        if is_marker(lines[i]) && is_token(lines[i + 1]) && is_marker(lines[i + 2]) {
            blocks.push(lines[i + 1]);
            i += 3;
        } else {
            i += 1;
        }
    }
    blocks
}

/// Three or more dashes, anything, three or more dashes at the line's end.
fn is_marker(line: &str) -> bool {
    line.strip_suffix("---")
        .is_some_and(|rest| rest.contains("---"))
}

fn is_token(line: &str) -> bool {
    !line.is_empty()
        && line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'='))
}

#[cfg(test)]
mod tests {
    use nkeys::KeyPair;

    use super::*;
    use crate::auth::jwt::{AccountClaims, UserClaims, encode_at};

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn creds_are_written_like_nats_io_jwt_and_read_back() {
        let account = KeyPair::new_account();
        let user = KeyPair::new_user();
        let jwt = encode_at(&UserClaims::new(user.public_key()), &account, NOW).unwrap();
        let seed = user.seed().unwrap();
        let creds = format_creds(&jwt, &seed).unwrap();
        let expected = format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\
             NKEYs are sensitive and should be treated as secrets.\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
             *************************************************************\n"
        );
        assert_eq!(creds, expected);
        assert_eq!(parse_creds(&creds).unwrap(), (jwt.clone(), seed.clone()));

        // CRLF line ends, indentation and trailing spaces.
        let messy = creds.replace('\n', " \r\n  ");
        assert_eq!(parse_creds(&messy).unwrap(), (jwt.clone(), seed.clone()));
        // No markers: a bare JWT line and a bare seed line.
        assert_eq!(
            parse_creds(&format!("{jwt}\n")).unwrap_err(),
            JwtError::CredsNoSeed
        );
        let one_block = format!("---- JWT ----\n{jwt}\n---- END ----\n\n  {seed}\n");
        assert_eq!(
            parse_creds(&one_block).unwrap(),
            (jwt.clone(), seed.clone())
        );
        assert_eq!(parse_creds("").unwrap_err(), JwtError::CredsNoJwt);
        let bad_seed = creds.replace(&seed, &format!("SU{}", &seed[3..]));
        assert_eq!(parse_creds(&bad_seed).unwrap_err(), JwtError::CredsBadSeed);

        let other = KeyPair::new_user().seed().unwrap();
        assert!(matches!(
            format_creds(&jwt, &other),
            Err(JwtError::CredsSeedMismatch { .. })
        ));
        assert!(matches!(
            format_creds(&jwt, &account.seed().unwrap()),
            Err(JwtError::CredsNotUserSeed { .. })
        ));
        let account_jwt = encode_at(
            &AccountClaims::new(account.public_key()),
            &KeyPair::new_operator(),
            NOW,
        )
        .unwrap();
        assert!(matches!(
            format_creds(&account_jwt, &seed),
            Err(JwtError::WrongClaimType { .. })
        ));
    }
}

//! `auth describe`: what a JWT says and whether to believe it.
//!
//! The header and claims are printed even when the signature fails, since
//! a tampered or mis-signed token is exactly when one wants to read them.
//! Seeds are never printed.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::KeyPair;
use std::fs;
use std::path::{Path, PathBuf};

use super::clock::{human_duration, now_unix};
use crate::auth::jwt::{decode_verified, parse_creds};

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// A .jwt file, a .creds file, or a JWT itself.
    #[arg(value_name = "FILE|TOKEN")]
    input: String,
}

pub fn run(args: DescribeArgs) -> anyhow::Result<()> {
    let (token, seed) = read_input(&args.input)?;
    let parts: Vec<&str> = token.split('.').collect();
    print_part("header", parts.first().copied());
    print_part("claims", parts.get(1).copied());

    // Signature and key kinds first, then the clock, as `jwt::decode`
    // does; an expired token is still a genuine one.
    let verified = decode_verified(&token).map(|decoded| decoded.data().clone());
    match &verified {
        Ok(data) => println!("signature: valid (issuer {})", data.iss),
        Err(e) => println!("signature: INVALID: {e}"),
    }
    if let Ok(data) = &verified {
        let now = now_unix();
        if data.exp > 0 && now > data.exp {
            let ago = human_duration(now - data.exp);
            println!("expired at {} ({ago} ago)", data.exp);
        } else if data.exp > 0 {
            let left = human_duration(data.exp - now);
            println!("expires at {} (in {left})", data.exp);
        }
        if data.nbf > now {
            let wait = human_duration(data.nbf - now);
            println!("not yet valid: valid from {} (in {wait})", data.nbf);
        }
        if let Some(seed) = seed {
            match KeyPair::from_seed(&seed) {
                Ok(key) if key.public_key() == data.sub => {
                    println!("seed: matches the subject {}", data.sub);
                }
                Ok(key) => println!(
                    "seed: MISMATCH: its public key {} is not the subject {}",
                    key.public_key(),
                    data.sub
                ),
                Err(_) => println!("seed: INVALID: not a valid nkey seed"),
            }
        }
    }
    if let Err(e) = verified {
        bail!("the JWT signature does not verify: {e}");
    }
    Ok(())
}

/// The token and, for a .creds file, the seed. An argument that names no
/// file is taken as the token itself.
fn read_input(input: &str) -> anyhow::Result<(String, Option<String>)> {
    let path = PathBuf::from(input);
    if !path.exists() {
        let token = input.trim();
        if !looks_like_jwt(token) {
            bail!("`{input}`: no such file, and not a JWT (header.payload.signature)");
        }
        return Ok((token.to_string(), None));
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    if let Ok((token, seed)) = parse_creds(&text) {
        return Ok((token, Some(seed)));
    }
    // A .jwt file, or a decorated JWT without a seed.
    match text.lines().map(str::trim).find(|l| looks_like_jwt(l)) {
        Some(token) => Ok((token.to_string(), None)),
        None => bail!("`{}` holds no JWT", Path::new(input).display()),
    }
}

fn looks_like_jwt(text: &str) -> bool {
    text.split('.').count() == 3
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Prints one base64url JSON part of the token, pretty, or why it cannot.
fn print_part(name: &str, part: Option<&str>) {
    let json = part
        .ok_or_else(|| "missing".to_string())
        .and_then(|p| {
            URL_SAFE_NO_PAD
                .decode(p)
                .map_err(|_| "not base64url".into())
        })
        .and_then(|bytes| {
            serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| e.to_string())
        })
        .and_then(|value| serde_json::to_string_pretty(&value).map_err(|e| e.to_string()));
    match json {
        Ok(json) => println!("{name}:\n{json}"),
        Err(reason) => println!("{name}: cannot be read: {reason}"),
    }
}

//! Operator mode from a nats-server file: `operator` (a JWT or the file
//! holding it), `resolver: MEMORY` and `resolver_preload` (account public
//! key to account JWT). The JWTs are checked when the tenancy is built, by
//! the same code that trusts an `operator_dir`.

use super::read::Issues;
use crate::config::natsconf::Pos;
use crate::config::{InlineOperator, ServerConfig};
use std::io::Read;
use std::path::Path;

/// Largest operator JWT file read: JWTs are a few KiB.
const MAX_JWT_FILE: u64 = 64 * 1024;

/// `value` itself when it is a JWT (`eyJ...`), else the JWT in the file it
/// names, plain or decorated (`-----BEGIN NATS OPERATOR JWT-----`). As in
/// nats-server, a relative path is taken from the working directory.
pub(super) fn jwt_or_file(value: &str) -> Result<String, String> {
    if value.starts_with("eyJ") {
        return Ok(value.to_string());
    }
    let path = Path::new(value);
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_JWT_FILE).read_to_string(&mut text))
        .map_err(|e| format!("cannot read the operator JWT {}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("eyJ"))
        .map(str::to_string)
        .ok_or_else(|| format!("{} holds no JWT", path.display()))
}

pub(super) fn apply(
    config: &mut ServerConfig,
    pos: Pos,
    operator_jwt: String,
    resolver: Option<(Pos, String)>,
    account_jwts: Vec<String>,
    issues: &mut Issues,
) {
    match resolver {
        Some((_, r)) if r.eq_ignore_ascii_case("MEMORY") => {}
        Some((pos, r)) => issues.error(
            &pos,
            "resolver",
            format!("`{r}`: only MEMORY is supported (Switchyard's operator_dir is its directory resolver)"),
        ),
        None => issues.error(&pos, "operator", "needs `resolver: MEMORY` and `resolver_preload`"),
    }
    config.inline_operator = Some(InlineOperator {
        operator_jwt,
        account_jwts,
    });
}

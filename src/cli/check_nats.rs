//! `switchyard check --nats-config FILE`: what a nats-server configuration
//! file means in Switchyard's terms, what of it Switchyard ignores, and
//! whether the broker would start from it (tenants validated and built as
//! `serve` would, TLS files read).

use crate::config::natsmap::{self, NatsTranslation};
use std::path::Path;

/// Prints the meaning and the ignored parts to stdout, or every problem
/// to stderr and fails with their count.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let problems: Vec<String> = match natsmap::load(path) {
        Ok(t) => match crate::server::check_tenancy(&t.config) {
            Ok(()) => {
                print!("{}", describe(&t));
                return Ok(());
            }
            Err(e) => e
                .to_string()
                .lines()
                .filter(|l| !l.ends_with(':'))
                .map(str::to_string)
                .collect(),
        },
        Err(e) => e.to_string().lines().map(str::to_string).collect(),
    };
    for problem in &problems {
        eprintln!("{problem}");
    }
    let n = problems.len();
    anyhow::bail!("{n} problem{} found", if n == 1 { "" } else { "s" })
}

/// The translation as a short report, one fact a line.
pub fn describe(t: &NatsTranslation) -> String {
    let c = &t.config;
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let port = if c.port == 0 {
        "a free port".to_string()
    } else {
        c.port.to_string()
    };
    line(format!("clients: {} on {port}", c.host));
    if let Some(p) = c.http_port {
        line(format!(
            "monitoring: http on {}",
            if p == 0 {
                "a free port".to_string()
            } else {
                p.to_string()
            }
        ));
    }
    if let Some(tls) = &c.tls {
        let verify = if tls.verify_and_map {
            ", client certificates name the user"
        } else if tls.verify {
            ", client certificates required"
        } else {
            ""
        };
        line(format!("tls: required of every client{verify}"));
    }
    match (&c.authorization, c.inline_tenants.is_empty()) {
        (Some(a), _) if a.token.is_some() => line("auth: one token for every client".into()),
        (Some(_), _) => line("auth: one user and password for every client".into()),
        (None, true) => line("auth: none (every client in one shared account)".into()),
        (None, false) => {
            for (_, tenant) in &c.inline_tenants {
                line(format!(
                    "tenant {}: {} users, {} exports, {} imports, {} mappings",
                    tenant.name,
                    tenant.users.len(),
                    tenant.exports.len(),
                    tenant.imports.len(),
                    tenant.mappings.len()
                ));
            }
        }
    }
    if let Some(user) = &c.no_auth_user {
        line(format!("clients without credentials: the user `{user}`"));
    }
    if let Some(system) = &c.system_account {
        line(format!("system account: tenant `{system}`"));
    }
    line(format!(
        "limits: max_payload {}, max_pending {}, max_connections {}, ping every {:?} (max {} out)",
        c.max_payload, c.max_pending, c.max_connections, c.ping_interval, c.ping_max
    ));
    for note in &t.notes {
        line(format!("note: {note}"));
    }
    for ignored in &t.ignored {
        line(format!("unsupported: {ignored}"));
    }
    out
}

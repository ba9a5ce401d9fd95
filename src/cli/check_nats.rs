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
    let port_text = |p: u16| {
        if p == 0 {
            "a free port".to_string()
        } else {
            p.to_string()
        }
    };
    if let Some(leaf) = &c.leafnodes {
        if let Some(p) = leaf.port {
            let host = leaf.host.as_deref().unwrap_or(&c.host);
            line(format!("leaf nodes: hub port on {host} {}", port_text(p)));
        }
        for r in &leaf.remotes {
            let tenant = r.tenant.as_deref().unwrap_or("the global account");
            line(format!(
                "leaf node remote: {} for {tenant}",
                r.urls.join(", ")
            ));
        }
    }
    if let Some(cluster) = &c.cluster {
        let host = cluster.host.as_deref().unwrap_or(&c.host);
        line(format!(
            "cluster {}: routes on {host} {}, {} seed route(s){}",
            cluster.name.as_deref().unwrap_or("(unnamed)"),
            port_text(cluster.port),
            cluster.routes.len(),
            if cluster.user.is_some() {
                ", peers must present a user and password"
            } else {
                ""
            }
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::natsconf::{Limits, parse_with};

    #[test]
    fn clusters_and_leaf_nodes_are_described() {
        let path = Path::new("/etc/nats/server.conf");
        let text = "cluster { name: c1, listen: 127.0.0.1:-1, routes: [nats://10.0.0.2:6222], authorization { user: r, password: p } }\nleafnodes { port: 7422 }\n";
        let map = parse_with(text, path, &Limits::default(), &|_| None).expect("parses");
        let report = describe(&natsmap::translate(&map, path).expect("translates"));
        assert!(
            report.contains(
                "cluster c1: routes on 127.0.0.1 a free port, 1 seed route(s), peers must present a user and password"
            ),
            "{report}"
        );
        assert!(
            report.contains("leaf nodes: hub port on 0.0.0.0 7422"),
            "{report}"
        );
    }
}

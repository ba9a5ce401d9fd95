//! nats-server's command-line flags, read with Go's `flag` package rules:
//! `-x v`, `--x v`, `-x=v`, `--x=v`; boolean flags take no separate value
//! (`-D`, `-D=false`); parsing stops at `--` or the first non-flag word.
//!
//! Every flag nats-server 2.15 documents in `--help` is listed: the ones
//! Switchyard implements, and the ones it does not (JetStream, clustering,
//! syslog, ...), which fail with a message naming the flag instead of
//! Go's bare "flag provided but not defined".

use std::path::PathBuf;

/// The flags given, as nats-server names them. `None`: not given.
/// One field per nats-server flag we accept.
#[derive(Debug, Default, PartialEq)]
pub struct CompatFlags {
    pub port: Option<i64>,
    pub addr: Option<String>,
    pub http_port: Option<i64>,
    pub config: Option<PathBuf>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub auth: Option<String>,
    pub tls: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_ca_cert: Option<PathBuf>,
    pub tls_verify: bool,
    pub log_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub ports_file_dir: Option<PathBuf>,
    pub debug: bool,
    pub trace: bool,
    /// `-T`/`--logtime`: timestamps on log lines (default on).
    pub log_time: Option<bool>,
    pub signal: Option<String>,
    /// `--cluster`/`--cluster_listen`: the route port's URL.
    pub cluster: Option<String>,
    pub cluster_name: Option<String>,
    pub cluster_advertise: Option<String>,
    /// `--routes`: comma-separated seed route URLs.
    pub routes: Option<String>,
    pub no_advertise: bool,
    pub connect_retries: Option<i64>,
    pub test_config: bool,
    pub version: bool,
    pub help: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Value,
}

/// What a flag does: sets one of the fields, or is refused.
#[derive(Clone, Copy)]
enum Flag {
    Port,
    Addr,
    HttpPort,
    Config,
    Name,
    User,
    Pass,
    Auth,
    Tls,
    TlsCert,
    TlsKey,
    TlsCaCert,
    TlsVerify,
    Log,
    Pid,
    PortsFileDir,
    Debug,
    Trace,
    DebugTrace,
    LogTime,
    Signal,
    Cluster,
    ClusterName,
    ClusterAdvertise,
    Routes,
    NoAdvertise,
    ConnectRetries,
    Test,
    Version,
    Help,
    /// A nats-server flag for a feature Switchyard lacks.
    Unsupported(&'static str),
}

const FLAGS: &[(&[&str], Kind, Flag)] = &[
    (&["p", "port"], Kind::Value, Flag::Port),
    (&["a", "addr", "net"], Kind::Value, Flag::Addr),
    (&["m", "http_port"], Kind::Value, Flag::HttpPort),
    (&["c", "config"], Kind::Value, Flag::Config),
    (&["n", "name", "server_name"], Kind::Value, Flag::Name),
    (&["user"], Kind::Value, Flag::User),
    (&["pass"], Kind::Value, Flag::Pass),
    (&["auth"], Kind::Value, Flag::Auth),
    (&["tls"], Kind::Bool, Flag::Tls),
    (&["tlscert"], Kind::Value, Flag::TlsCert),
    (&["tlskey"], Kind::Value, Flag::TlsKey),
    (&["tlscacert"], Kind::Value, Flag::TlsCaCert),
    (&["tlsverify"], Kind::Bool, Flag::TlsVerify),
    (&["l", "log"], Kind::Value, Flag::Log),
    (&["P", "pid"], Kind::Value, Flag::Pid),
    (&["ports_file_dir"], Kind::Value, Flag::PortsFileDir),
    (&["D", "debug"], Kind::Bool, Flag::Debug),
    (&["V", "trace", "VV"], Kind::Bool, Flag::Trace),
    (&["DV", "DVV"], Kind::Bool, Flag::DebugTrace),
    (&["T", "logtime"], Kind::Bool, Flag::LogTime),
    (&["sl", "signal"], Kind::Value, Flag::Signal),
    (&["t"], Kind::Bool, Flag::Test),
    (&["v", "version"], Kind::Bool, Flag::Version),
    (&["h", "help", "help_tls"], Kind::Bool, Flag::Help),
    (
        &["js", "jetstream"],
        Kind::Bool,
        Flag::Unsupported("JetStream is not supported"),
    ),
    (
        &["sd", "store_dir"],
        Kind::Value,
        Flag::Unsupported("JetStream is not supported"),
    ),
    (
        &["ms", "https_port"],
        Kind::Value,
        Flag::Unsupported("HTTPS monitoring is not supported (use -m)"),
    ),
    (&["cluster", "cluster_listen"], Kind::Value, Flag::Cluster),
    (&["cluster_name"], Kind::Value, Flag::ClusterName),
    (&["cluster_advertise"], Kind::Value, Flag::ClusterAdvertise),
    (&["routes"], Kind::Value, Flag::Routes),
    (&["no_advertise"], Kind::Bool, Flag::NoAdvertise),
    (&["connect_retries"], Kind::Value, Flag::ConnectRetries),
    (
        &["client_advertise"],
        Kind::Value,
        Flag::Unsupported("client_advertise is not supported"),
    ),
    (
        &["s", "syslog"],
        Kind::Bool,
        Flag::Unsupported("syslog is not supported"),
    ),
    (
        &["r", "remote_syslog"],
        Kind::Value,
        Flag::Unsupported("syslog is not supported"),
    ),
    (
        &["log_size_limit", "max_traced_msg_len"],
        Kind::Value,
        Flag::Unsupported("not supported"),
    ),
];

/// Reads `args` (without the program name).
pub fn parse(args: &[String]) -> Result<CompatFlags, String> {
    let mut out = CompatFlags::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        let Some(body) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|b| !b.is_empty() && !b.starts_with('-'))
        else {
            return Err(format!(
                "unexpected argument `{arg}` (nats-server takes flags only)"
            ));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(&(_, kind, flag)) = FLAGS.iter().find(|(names, _, _)| names.contains(&name))
        else {
            return Err(format!("flag provided but not defined: -{name}"));
        };
        let value = match kind {
            Kind::Bool => match inline {
                None => "true".to_string(),
                Some(v) => v.to_string(),
            },
            Kind::Value => match inline {
                Some(v) => v.to_string(),
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("flag needs an argument: -{name}"))?;
                    i += 1;
                    v.clone()
                }
            },
        };
        set(&mut out, flag, name, value)?;
    }
    if let Some(extra) = args.get(i) {
        return Err(format!(
            "unexpected argument `{extra}` (nats-server takes flags only)"
        ));
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`.
fn boolean(name: &str, v: &str) -> Result<bool, String> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean value {v:?} for -{name}")),
    }
}

fn integer(name: &str, v: &str) -> Result<i64, String> {
    v.parse()
        .map_err(|_| format!("invalid value {v:?} for flag -{name}: parse error"))
}

fn set(out: &mut CompatFlags, flag: Flag, name: &str, v: String) -> Result<(), String> {
    match flag {
        Flag::Port => out.port = Some(integer(name, &v)?),
        Flag::Addr => out.addr = Some(v),
        Flag::HttpPort => out.http_port = Some(integer(name, &v)?),
        Flag::Config => out.config = Some(v.into()),
        Flag::Name => out.name = Some(v),
        Flag::User => out.user = Some(v),
        Flag::Pass => out.pass = Some(v),
        Flag::Auth => out.auth = Some(v),
        Flag::Tls => out.tls = boolean(name, &v)?,
        Flag::TlsCert => out.tls_cert = Some(v.into()),
        Flag::TlsKey => out.tls_key = Some(v.into()),
        Flag::TlsCaCert => out.tls_ca_cert = Some(v.into()),
        Flag::TlsVerify => out.tls_verify = boolean(name, &v)?,
        Flag::Log => out.log_file = Some(v.into()),
        Flag::Pid => out.pid_file = Some(v.into()),
        Flag::PortsFileDir => out.ports_file_dir = Some(v.into()),
        Flag::Debug => out.debug = boolean(name, &v)?,
        Flag::Trace => out.trace = boolean(name, &v)?,
        Flag::DebugTrace => {
            let on = boolean(name, &v)?;
            out.debug = on;
            out.trace = on;
        }
        Flag::LogTime => out.log_time = Some(boolean(name, &v)?),
        Flag::Signal => out.signal = Some(v),
        Flag::Cluster => out.cluster = Some(v),
        Flag::ClusterName => out.cluster_name = Some(v),
        Flag::ClusterAdvertise => out.cluster_advertise = Some(v),
        Flag::Routes => out.routes = Some(v),
        Flag::NoAdvertise => out.no_advertise = boolean(name, &v)?,
        Flag::ConnectRetries => out.connect_retries = Some(integer(name, &v)?),
        Flag::Test => out.test_config = boolean(name, &v)?,
        Flag::Version => out.version = boolean(name, &v)?,
        Flag::Help => out.help = boolean(name, &v)?,
        Flag::Unsupported(why) => {
            return Err(format!("-{name}: {why} by Switchyard"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn go_flag_syntax() {
        let f = parse(&args(
            "-p -1 --addr=127.0.0.1 -m 8222 --config x.conf -DV -T=false --user u --pass=p --tls --tlsverify=false -P a.pid",
        ))
        .unwrap();
        assert_eq!(f.port, Some(-1));
        assert_eq!(f.addr.as_deref(), Some("127.0.0.1"));
        assert_eq!(f.http_port, Some(8222));
        assert_eq!(f.config, Some(PathBuf::from("x.conf")));
        assert!(f.debug && f.trace && f.tls && !f.tls_verify);
        assert_eq!(f.log_time, Some(false));
        assert_eq!(
            (f.user.as_deref(), f.pass.as_deref()),
            (Some("u"), Some("p"))
        );
        assert_eq!(f.pid_file, Some(PathBuf::from("a.pid")));
    }

    #[test]
    fn cluster_flags() {
        let f = parse(&args(
            "--cluster nats://127.0.0.1:6222 --cluster_name c1 --routes nats://a:1,nats://b:2 --no_advertise --connect_retries 2",
        ))
        .unwrap();
        assert_eq!(f.cluster.as_deref(), Some("nats://127.0.0.1:6222"));
        assert_eq!(f.cluster_name.as_deref(), Some("c1"));
        assert_eq!(f.routes.as_deref(), Some("nats://a:1,nats://b:2"));
        assert!(f.no_advertise);
        assert_eq!(f.connect_retries, Some(2));
    }

    #[test]
    fn refusals_name_the_flag() {
        assert_eq!(
            parse(&args("-js")).unwrap_err(),
            "-js: JetStream is not supported by Switchyard"
        );
        assert_eq!(
            parse(&args("-x")).unwrap_err(),
            "flag provided but not defined: -x"
        );
        assert_eq!(
            parse(&args("-p")).unwrap_err(),
            "flag needs an argument: -p"
        );
        assert!(
            parse(&args("-p abc"))
                .unwrap_err()
                .contains("invalid value \"abc\"")
        );
        assert!(
            parse(&args("-D=maybe"))
                .unwrap_err()
                .contains("invalid boolean")
        );
        assert!(
            parse(&args("stray"))
                .unwrap_err()
                .contains("unexpected argument")
        );
        assert!(parse(&args("-p 1 -- rest")).unwrap_err().contains("`rest`"));
    }
}

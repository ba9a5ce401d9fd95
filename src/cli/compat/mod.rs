//! The nats-server-compatible command line: what runs when the binary is
//! invoked as `nats-server` (a symlink or copy) or as `switchyard compat
//! ...`. Deployments, test harnesses and client test suites that start
//! `nats-server -c FILE -p -1` start Switchyard unchanged.
//!
//! Owns flag parsing (`flags`), the startup log lines and files harnesses
//! wait for (`announce`), and signalling a running server. Uses
//! `config::natsmap` for the configuration file and `cli::serve` for the
//! signal loop; the broker itself is the same `Server` as `serve` runs.
//!
//! May use: every module below `cli`.

mod announce;
mod flags;

pub use flags::{CompatFlags, parse};

use crate::config::natsmap::{self, ProcessSettings};
use crate::config::{Authorization, ServerConfig, TlsConfig};
use announce::{NatsLog, Report, version_line};
use anyhow::Context;
use std::path::Path;

/// Whether `argv0` names nats-server: the compatible command line applies.
pub fn invoked_as_nats_server(argv0: &str) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == "nats-server")
}

const USAGE: &str = "\
Usage: nats-server [options]   (Switchyard's nats-server-compatible command line)

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222; -1 picks a free one)
    -n, --name <server_name>         Server name (default: the server id)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -c, --config <file>              Configuration file (nats-server format; .toml: Switchyard's)
    -t                               Test configuration and exit
    -sl,--signal <signal>=<pid>      Send signal to a server: ldm, reload, quit, stop, term
    --ports_file_dir <dir>           Creates a ports file in the directory (<executable_name>_<pid>.ports)
Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace (Switchyard's trace level)
    -DV                              Debug and trace
Authorization Options:
    --user <user>                    User required for connections
    --pass <password>                Password required for connections
    --auth <token>                   Authorization token required for connections
TLS Options:
    --tls                            Enable TLS, do not verify clients
    --tlscert <file>                 Server certificate file
    --tlskey <file>                  Private key for server certificate
    --tlsverify                      Enable TLS, verify client certificates
    --tlscacert <file>               Client certificate CA for verification
Cluster Options:
    --routes <rurl-1, rurl-2>        Routes to solicit and connect
    --cluster <cluster-url>          Cluster URL for solicited routes
    --cluster_name <string>          Cluster Name, must be the same on every server
    --no_advertise <bool>            Do not advertise known cluster information to clients
    --cluster_advertise <string>     Cluster URL to advertise to other servers
    --connect_retries <number>       For implicit routes, number of connect retries

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version

Not supported (the flag fails): JetStream (-js, -sd), HTTPS monitoring (-ms),
syslog (-s, -r). See docs/compatibility.md.
";

/// Runs the compatible command line with `args` (after the program name).
pub fn run(program: &str, args: &[String]) -> anyhow::Result<()> {
    let flags = flags::parse(args).map_err(|e| anyhow::anyhow!("{e}\n\n{USAGE}"))?;
    if flags.help {
        print!("{USAGE}");
        return Ok(());
    }
    if flags.version {
        println!("{}", version_line());
        return Ok(());
    }
    if let Some(signal) = &flags.signal {
        return send_signal(signal);
    }
    let (config, process, report) = configure(&flags)?;
    if flags.test_config {
        crate::server::check_tenancy(&config)?;
        let file = flags
            .config
            .as_deref()
            .map_or("(none)".into(), |p| p.display().to_string());
        println!("nats-server: configuration file {file} is valid");
        return Ok(());
    }
    let log = NatsLog::open(&process, flags.log_time.unwrap_or(true))?;
    log.start_tracing(&process);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(announce::serve(config, process, report, log, program))
}

/// The configuration file (if any), then the flags over it.
fn configure(flags: &CompatFlags) -> anyhow::Result<(ServerConfig, ProcessSettings, Report)> {
    let mut report = Report {
        config_file: flags.config.as_ref().map(|p| p.display().to_string()),
        nats_file: None,
        ignored: Vec::new(),
        notes: Vec::new(),
    };
    let (mut config, mut process) = match &flags.config {
        Some(path) if path.extension().is_some_and(|x| x == "toml") => {
            (ServerConfig::load(path)?, ProcessSettings::default())
        }
        Some(path) => {
            let t = natsmap::load(path)?;
            report.nats_file = Some(path.clone());
            report.ignored = t.ignored;
            report.notes = t.notes;
            (t.config, t.process)
        }
        None => (ServerConfig::default(), ProcessSettings::default()),
    };
    let port = |n: i64, what: &str| -> anyhow::Result<u16> {
        match n {
            -1 => Ok(0),
            n => u16::try_from(n).map_err(|_| anyhow::anyhow!("{what}: port {n} is out of range")),
        }
    };
    if let Some(p) = flags.port {
        config.port = port(p, "-p")?;
    }
    if let Some(a) = &flags.addr {
        config.host = a.clone();
    }
    if let Some(p) = flags.http_port {
        config.http_port = Some(port(p, "-m")?);
    }
    if let Some(n) = &flags.name {
        config.server_name = Some(n.clone());
    }
    if flags.user.is_some() || flags.pass.is_some() || flags.auth.is_some() {
        if config.has_tenants() {
            anyhow::bail!(
                "--user, --pass and --auth cannot be combined with accounts in the configuration file"
            );
        }
        let mut auth = config.authorization.take().unwrap_or_default();
        if let Some(token) = &flags.auth {
            auth = Authorization {
                token: Some(token.clone()),
                ..Authorization::default()
            };
        }
        if flags.user.is_some() || flags.pass.is_some() {
            auth.token = None;
            auth.user = flags.user.clone().or(auth.user);
            auth.password = flags.pass.clone().or(auth.password);
        }
        config.authorization = Some(auth);
    }
    apply_tls(flags, &mut config)?;
    apply_cluster(flags, &mut config)?;
    if let Some(f) = &flags.log_file {
        process.log_file = Some(f.clone());
    }
    if let Some(f) = &flags.pid_file {
        process.pid_file = Some(f.clone());
    }
    if let Some(d) = &flags.ports_file_dir {
        process.ports_file_dir = Some(d.clone());
    }
    process.debug |= flags.debug;
    process.trace |= flags.trace;
    config
        .validate()
        .map_err(|errs| anyhow::anyhow!("invalid configuration:\n{}", errs.join("\n")))?;
    Ok((config, process, report))
}

/// `--cluster`, `--cluster_name`, `--routes` and the rest: they create
/// or override `[cluster]`.
fn apply_cluster(flags: &CompatFlags, config: &mut ServerConfig) -> anyhow::Result<()> {
    let given = flags.cluster.is_some()
        || flags.cluster_name.is_some()
        || flags.cluster_advertise.is_some()
        || flags.routes.is_some()
        || flags.no_advertise
        || flags.connect_retries.is_some();
    if !given {
        return Ok(());
    }
    let cluster = config.cluster.get_or_insert_with(Default::default);
    if let Some(url) = &flags.cluster {
        let u = crate::config::parse_route_url(url)
            .map_err(|e| anyhow::anyhow!("--cluster {url:?}: {e}"))?;
        cluster.host = Some(u.host);
        cluster.port = u.port;
    }
    if let Some(name) = &flags.cluster_name {
        cluster.name = Some(name.clone());
    }
    if let Some(adv) = &flags.cluster_advertise {
        cluster.advertise = Some(adv.clone());
    }
    if let Some(routes) = &flags.routes {
        cluster.routes = routes
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
    }
    cluster.no_advertise |= flags.no_advertise;
    if let Some(n) = flags.connect_retries {
        cluster.connect_retries = u32::try_from(n)
            .map_err(|_| anyhow::anyhow!("--connect_retries: {n} is out of range"))?;
    }
    Ok(())
}

/// `--tls`, `--tlscert`, `--tlskey`, `--tlscacert`, `--tlsverify`, as
/// nats-server: naming a certificate turns TLS on, `--tlsverify` requires
/// client certificates signed by `--tlscacert`.
fn apply_tls(flags: &CompatFlags, config: &mut ServerConfig) -> anyhow::Result<()> {
    let any = flags.tls
        || flags.tls_verify
        || flags.tls_cert.is_some()
        || flags.tls_key.is_some()
        || flags.tls_ca_cert.is_some();
    if !any {
        return Ok(());
    }
    let existing = config.tls.take();
    let cert = flags
        .tls_cert
        .clone()
        .or_else(|| existing.as_ref().map(|t| t.cert_file.clone()))
        .context("TLS needs --tlscert")?;
    let key = flags
        .tls_key
        .clone()
        .or_else(|| existing.as_ref().map(|t| t.key_file.clone()))
        .context("TLS needs --tlskey")?;
    let mut tls = existing.unwrap_or_else(|| TlsConfig::new(cert.clone(), key.clone()));
    tls.cert_file = cert;
    tls.key_file = key;
    if let Some(ca) = &flags.tls_ca_cert {
        tls.ca_file = Some(ca.clone());
    }
    if flags.tls_verify {
        tls.verify = true;
    }
    config.tls = Some(tls);
    Ok(())
}

/// `--signal ldm|reload|quit|stop|term|reopen=PID`, sent with `kill`.
fn send_signal(spec: &str) -> anyhow::Result<()> {
    let (name, pid) = spec
        .split_once('=')
        .context("--signal needs the process id: --signal SIGNAL=PID")?;
    let pid: u32 = pid
        .trim()
        .parse()
        .with_context(|| format!("--signal: `{pid}` is not a process id"))?;
    let signal = match name {
        "ldm" => "USR2",
        "reload" => "HUP",
        "quit" => "INT",
        "stop" => "KILL",
        "term" => "TERM",
        // SIGUSR1 would end a Switchyard process (it does not catch it).
        "reopen" => anyhow::bail!("--signal reopen: log reopening is not supported"),
        other => {
            anyhow::bail!("--signal: unknown signal `{other}` (ldm, reload, quit, stop, term)")
        }
    };
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .context("cannot run kill")?;
    anyhow::ensure!(status.success(), "could not signal process {pid}");
    Ok(())
}

//! The benchmark's arguments (`switchyard bench ...`), its modes, and the
//! plan the mode implementations run, validated from the arguments.

use super::endpoint;
use super::error::BenchError;
use super::stream;
use std::time::Duration;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Publishers only: how fast the server swallows messages.
    Pub,
    /// Subscribers only, counting messages sent by an external publisher.
    Sub,
    /// One subject, publishers and N subscribers that each get every message (fan-out).
    Pubsub,
    /// One subject, publishers and N subscribers sharing one queue group.
    Queue,
    /// Sequential request/reply round trips through a responder connection.
    Req,
    /// Connection set-up: connect, INFO, CONNECT, PING, PONG, close; repeated.
    Connect,
    /// No server: the ceiling for one hop, a task relaying large chunks
    /// between two loopback sockets (--msgs × --size bytes).
    Relay,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Pub => "pub",
            Mode::Sub => "sub",
            Mode::Pubsub => "pubsub",
            Mode::Queue => "queue",
            Mode::Req => "req",
            Mode::Connect => "connect",
            Mode::Relay => "relay",
        }
    }
}

/// Measure a NATS server (nats-server, switchyard, ...) with raw-protocol publishers and subscribers.
/// One field per command-line flag.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// What to measure: pub, sub, pubsub (fan-out to every subscriber), queue
    /// (one queue group), req (request/reply latency), connect (connection
    /// set-up rate and latency), relay (no server: the loopback ceiling for
    /// one hop) [default: pubsub].
    #[arg(value_enum, value_name = "MODE")]
    pub mode: Option<Mode>,

    /// The mode, as a flag instead of the positional MODE.
    #[arg(
        long = "mode",
        value_enum,
        value_name = "MODE",
        conflicts_with = "mode"
    )]
    pub mode_flag: Option<Mode>,

    /// Server to measure: nats://[user:pass@]host:port or plain host:port.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub url: String,

    /// Subject to publish and subscribe on.
    #[arg(long, default_value = "bench.subject")]
    pub subject: String,

    /// Messages to publish in total (split between publishers), requests in
    /// req mode, or connections in connect mode; `_` and `,` separators are
    /// accepted [default: 1,000,000, 20,000 for req, 2,000 for connect,
    /// 1 GiB worth for relay].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub msgs: Option<u64>,

    /// Payload size in bytes; k/KiB and m/MiB suffixes are accepted.
    #[arg(long, value_name = "BYTES", default_value = "16", value_parser = parse_size)]
    pub size: usize,

    /// Publisher connections; the messages are split between them. In connect
    /// mode: how many connections are set up at the same time.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub pubs: usize,

    /// In relay mode: the most the relay reads (and then writes) at once.
    #[arg(long, value_name = "BYTES", default_value = "1MiB", value_parser = parse_size)]
    pub relay_chunk: usize,

    /// Subscriber connections [default: 4 for queue, otherwise 1].
    #[arg(long, value_name = "N")]
    pub subs: Option<usize>,

    /// Give up when a connection makes no progress for this many seconds, and
    /// report how many messages went missing.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,

    /// Print the result as one JSON object on one line instead of text.
    #[arg(long)]
    pub json: bool,

    /// User name sent in CONNECT.
    #[arg(long, requires = "password")]
    pub user: Option<String>,

    /// Password sent in CONNECT.
    #[arg(long, requires = "user")]
    pub password: Option<String>,

    /// Authentication token sent in CONNECT.
    #[arg(long)]
    pub token: Option<String>,

    /// NATS .creds file (user JWT and seed): CONNECT carries the JWT and the
    /// server's INFO nonce signed with the seed, as for a user of an
    /// operator-mode server. Applies to --url, and to subscribers unless
    /// --sub-url is given.
    #[arg(long, value_name = "FILE")]
    pub creds: Option<std::path::PathBuf>,

    /// Upgrade every connection to TLS after the server's INFO (as NATS
    /// clients do), trusting the CA certificates in FILE (PEM). The
    /// server's certificate must name the URL's host.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<std::path::PathBuf>,

    /// Where subscribers (and the responder in req mode) connect, when they
    /// must log in differently from publishers, e.g. as a user of another
    /// tenant to measure an import: nats://user:pass@host:port [default: --url
    /// with the same credentials]
    #[arg(long, value_name = "URL")]
    pub sub_url: Option<String>,

    /// Subject subscribers (and the responder) listen on, when an import
    /// maps the publishers' subject to another one [default: --subject]
    #[arg(long, value_name = "SUBJECT")]
    pub sub_subject: Option<String>,

    /// Before publishing, wait until the subscribers' interest has reached
    /// the publishers' server: publish probes on a subject of its own (one
    /// every 10 ms, never counted) until every subscriber has received one.
    /// For subscribers on another server (--sub-url on a leaf node or
    /// cluster peer), whose SUB is answered before the interest has crossed
    /// to the publishers' server. pubsub and queue modes only.
    #[arg(long)]
    pub await_interest: bool,
}

/// Validated arguments shared by the mode implementations.
/// One field per validated flag.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub mode: Mode,
    pub endpoint: endpoint::Endpoint,
    pub url: String,
    pub subject: String,
    /// Subscribers' and responder's endpoint and subject.
    pub sub_endpoint: endpoint::Endpoint,
    pub sub_subject: String,
    pub msgs: u64,
    pub size: usize,
    pub pubs: usize,
    pub subs: usize,
    pub timeout: Duration,
    pub json: bool,
    /// Relay mode's read size.
    pub relay_chunk: usize,
    /// With --await-interest: the subject probes are published on.
    pub probe: Option<String>,
}

impl Plan {
    pub(super) fn from_args(args: &BenchArgs) -> Result<Self, BenchError> {
        let mode = args.mode_flag.or(args.mode).unwrap_or(Mode::Pubsub);
        let bad = |m: &str| Err(BenchError::Args(m.to_string()));
        let msgs = args.msgs.unwrap_or(match mode {
            Mode::Req => 20_000,
            Mode::Connect => 2_000,
            Mode::Relay => ((1u64 << 30) / args.size.max(1) as u64).max(1),
            _ => 1_000_000,
        });
        let subs = args.subs.unwrap_or(if mode == Mode::Queue { 4 } else { 1 });
        if msgs == 0 {
            return bad("--msgs must be at least 1");
        }
        if args.pubs == 0 || subs == 0 {
            return bad("--pubs and --subs must be at least 1");
        }
        if mode == Mode::Relay && (args.size == 0 || args.relay_chunk == 0) {
            return bad("--size and --relay-chunk must be at least 1 byte in relay mode");
        }
        if args.timeout == 0 {
            return bad("--timeout must be at least 1 second");
        }
        let subject_ok = !args.subject.is_empty()
            && !args.subject.bytes().any(|b| b.is_ascii_whitespace())
            && !args.subject.split('.').any(str::is_empty);
        if !subject_ok {
            return bad("--subject must be a non-empty subject without spaces or empty tokens");
        }
        let wildcard = args.subject.split('.').any(|t| t == "*" || t == ">");
        if wildcard && mode != Mode::Sub {
            return bad(
                "--subject must be a literal subject (wildcards only make sense in sub mode)",
            );
        }
        if args.await_interest && !matches!(mode, Mode::Pubsub | Mode::Queue) {
            return bad("--await-interest applies to pubsub and queue modes only");
        }
        let endpoint = endpoint::Endpoint::parse(
            &args.url,
            args.user.clone(),
            args.password.clone(),
            args.token.clone(),
        )?
        .with_creds(
            args.creds
                .as_deref()
                .map(endpoint::UserCreds::load)
                .transpose()?,
        );
        let with_tls = |ep: endpoint::Endpoint| match &args.tls_ca {
            Some(ca) => {
                let tls = stream::TlsClient::new(ca, ep.host())?;
                Ok::<_, BenchError>(ep.with_tls(tls))
            }
            None => Ok(ep),
        };
        let endpoint = with_tls(endpoint)?;
        let sub_endpoint = match &args.sub_url {
            Some(url) => with_tls(endpoint::Endpoint::parse(url, None, None, None)?)?,
            None => endpoint.clone(),
        };
        Ok(Plan {
            mode,
            url: endpoint.display.clone(),
            endpoint,
            subject: args.subject.clone(),
            sub_endpoint,
            sub_subject: args
                .sub_subject
                .clone()
                .unwrap_or_else(|| args.subject.clone()),
            msgs,
            size: args.size,
            pubs: args.pubs,
            subs,
            timeout: Duration::from_secs(args.timeout),
            json: args.json,
            relay_chunk: args.relay_chunk,
            // Unique per run, so probes of another run never count here.
            probe: args
                .await_interest
                .then(|| format!("_BENCH.probe.{}", fastrand::u64(..))),
        })
    }
}

fn parse_count(s: &str) -> Result<u64, String> {
    let digits: String = s.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    digits
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        _ => return Err(format!("{s:?}: unknown unit (use B, KiB or MiB)")),
    };
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size in bytes"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

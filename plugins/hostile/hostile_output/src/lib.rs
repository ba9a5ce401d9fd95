//! Hostile test plugin: answers with more than the broker accepts, or
//! writes more to stdout and stderr than the broker logs.
//!
//! Config: `subjects` (comma-separated, default `>`); `mode`:
//! - `big-payload` (default): modifies each message's payload to
//!   `size_kib` KiB (default 9216, i.e. 9 MiB, past the 8 MiB payload cap).
//!   If the plugin's memory limit is smaller, building it traps instead;
//! - `many-split`: splits each message into `count` messages (default
//!   100,000; the contract allows 16);
//! - `bad-index`: returns a verdict for an index past the batch;
//! - `inject-subject`, `inject-reply`, `inject-header-name`,
//!   `inject-header-value`: answers with protocol in a subject, a reply
//!   subject, a header name or a header value (`\r\nPUB other.tenant
//!   5\r\nhello`), trying to write commands of its own onto the wire;
//! - `reserved-reply`: gives its message a reply subject in the broker's
//!   own `_R_.` namespace (service-import responses);
//! - `print`: passes each message, printing `hostile_output stdout
//!   <payload>` to stdout and `hostile_output stderr <payload>` to stderr,
//!   then a line that tries to forge a log line (a carriage return, a
//!   newline-free fake log record, a terminal escape), then `partial
//!   <payload>` without a newline;
//! - `flood`: passes each message after writing `count` lines (default
//!   100,000) to stderr, then `size_kib` KiB (default 10240) with no
//!   newline at all.

use std::io::Write;
use std::sync::OnceLock;

use switchyard_plugin::__private::transform::Verdict;
use switchyard_plugin::{Action, Header, Message, OutMessage, Registration, Transform, config};

/// What the injecting modes append: a whole PUB to another tenant's subject.
const INJECTION: &str = "\r\nPUB other.tenant 5\r\nhello";

enum Mode {
    BigPayload(usize),
    ManySplit(usize),
    BadIndex,
    InjectSubject,
    InjectReply,
    InjectHeaderName,
    InjectHeaderValue,
    ReservedReply,
    Print,
    Flood { lines: usize, bytes: usize },
}

static MODE: OnceLock<Mode> = OnceLock::new();

fn mode() -> &'static Mode {
    MODE.get_or_init(|| match config::get("mode").as_deref() {
        Some("many-split") => {
            Mode::ManySplit(config::parse("count").ok().flatten().unwrap_or(100_000))
        }
        Some("bad-index") => Mode::BadIndex,
        Some("inject-subject") => Mode::InjectSubject,
        Some("inject-reply") => Mode::InjectReply,
        Some("inject-header-name") => Mode::InjectHeaderName,
        Some("inject-header-value") => Mode::InjectHeaderValue,
        Some("reserved-reply") => Mode::ReservedReply,
        Some("print") => Mode::Print,
        Some("flood") => Mode::Flood {
            lines: config::parse("count").ok().flatten().unwrap_or(100_000),
            bytes: config::parse("size_kib").ok().flatten().unwrap_or(10_240) * 1024,
        },
        _ => Mode::BigPayload(config::parse("size_kib").ok().flatten().unwrap_or(9216) * 1024),
    })
}

struct HostileOutput;

impl Transform for HostileOutput {
    fn register() -> Registration {
        let registration = Registration::subjects_from_config("subjects", &[">"]);
        match mode() {
            Mode::Print => registration.with_payload(),
            _ => registration,
        }
    }

    fn transform(msg: &Message<'_>) -> Action {
        match *mode() {
            Mode::BigPayload(bytes) => Action::payload(vec![b'x'; bytes]),
            Mode::ManySplit(count) => Action::Split(
                (0..count)
                    .map(|_| OutMessage::new(msg.subject(), Vec::new()))
                    .collect(),
            ),
            Mode::InjectSubject => Action::subject(format!("{}{INJECTION}", msg.subject())),
            Mode::InjectReply => with_reply(msg, format!("reply{INJECTION}")),
            Mode::ReservedReply => with_reply(msg, "_R_.abcdef.ghijkl".into()),
            Mode::InjectHeaderName => with_header(Header::new(format!("X-Evil{INJECTION}"), "v")),
            Mode::InjectHeaderValue => with_header(Header::new("X-Evil", format!("v{INJECTION}"))),
            Mode::Print => {
                let payload = String::from_utf8_lossy(msg.payload());
                println!("hostile_output stdout {payload}");
                eprintln!("hostile_output stderr {payload}");
                eprintln!("forged\r2026-01-01T00:00:00Z ERROR switchyard: fake\x1b[2J");
                eprint!("partial {payload}");
                Action::Pass
            }
            Mode::Flood { lines, bytes } => {
                let mut stderr = std::io::stderr().lock();
                for i in 0..lines {
                    let _ = writeln!(stderr, "flood line {i}");
                }
                let _ = stderr.write_all(&vec![b'x'; bytes]);
                Action::Pass
            }
            // Handled below, outside the per-message walk.
            Mode::BadIndex => Action::Pass,
        }
    }
}

/// The message as published, with `reply` as its reply subject.
fn with_reply(msg: &Message<'_>, reply: String) -> Action {
    let mut out = OutMessage::new(msg.subject(), msg.payload().to_vec());
    out.reply = Some(reply);
    Action::Split(vec![out])
}

/// The message with `header` as its only header.
fn with_header(header: Header) -> Action {
    Action::Modify {
        subject: None,
        headers: Some(vec![header]),
        payload: None,
    }
}

/// `bad-index` needs a verdict the SDK would never produce, so this plugin
/// exports the raw guest instead of using `export_transform!`.
struct RawHostileOutput;

impl switchyard_plugin::__private::transform::Guest for RawHostileOutput {
    fn register() -> switchyard_plugin::__private::transform::Registration {
        HostileOutput::register().into()
    }

    fn transform_batch(batch: switchyard_plugin::__private::transform::Batch) -> Vec<Verdict> {
        if let Mode::BadIndex = mode() {
            return vec![Verdict {
                index: batch.messages.len() as u32,
                action: Action::Drop.into(),
            }];
        }
        switchyard_plugin::transform::walk_batch(&batch, HostileOutput::transform)
    }
}

switchyard_plugin::bindings::transform::__export_transform_world!(
    RawHostileOutput with_types_in switchyard_plugin::bindings::transform
);

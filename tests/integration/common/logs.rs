//! The broker's log as events, for tests that assert what a plugin host
//! logged: one global tracing subscriber per test binary (brokers log from
//! their own threads), recording the plugin host's events only, up to a cap.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Events kept; later ones are dropped, so a test that floods the log
/// cannot exhaust the test binary's memory.
const MAX_EVENTS: usize = 100_000;

/// One logged event: its level, target, message and other fields.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub level: tracing::Level,
    pub target: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl LogEvent {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

fn captured() -> &'static Mutex<Vec<LogEvent>> {
    static CAPTURED: OnceLock<Mutex<Vec<LogEvent>>> = OnceLock::new();
    CAPTURED.get_or_init(Mutex::default)
}

struct Capture;

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let mut captured = captured().lock();
        if captured.len() >= MAX_EVENTS {
            return;
        }
        captured.push(LogEvent {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            message: visitor.message,
            fields: visitor.fields,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .insert(field.name().to_string(), format!("{value:?}"));
        }
    }
}

/// Starts capturing (once per test binary): call before starting the
/// broker whose log a test reads.
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let only_plugins = tracing_subscriber::filter::filter_fn(|meta| {
            meta.target().starts_with("switchyard::plugin")
        });
        let subscriber = tracing_subscriber::registry().with(Capture.with_filter(only_plugins));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test binary");
    });
}

/// The captured events that `keep` selects, in the order they were logged.
pub fn events(keep: impl Fn(&LogEvent) -> bool) -> Vec<LogEvent> {
    captured()
        .lock()
        .iter()
        .filter(|e| keep(e))
        .cloned()
        .collect()
}

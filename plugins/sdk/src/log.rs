//! Log lines written through the broker, tagged with tenant and plugin.
//! Lines above the broker's log level are dropped by the host cheaply, but
//! the message is still built in the plugin: avoid formatting on hot paths.

use crate::bindings::transform::switchyard::plugin::host;
pub use crate::bindings::transform::switchyard::plugin::types::Level;

pub fn log(level: Level, message: &str) {
    host::log(level, message);
}

pub fn trace(message: &str) {
    log(Level::Trace, message);
}

pub fn debug(message: &str) {
    log(Level::Debug, message);
}

pub fn info(message: &str) {
    log(Level::Info, message);
}

pub fn warn(message: &str) {
    log(Level::Warn, message);
}

pub fn error(message: &str) {
    log(Level::Error, message);
}

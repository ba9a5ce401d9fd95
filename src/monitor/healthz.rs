//! `/healthz`: healthy while the broker accepts clients. There is no
//! cluster or storage whose state could make it otherwise yet; lame-duck
//! mode, which stops accepting, does.

use super::json::to_json;
use super::observer::Observer;
use serde::Serialize;

/// What nats-server reports once its client listener is closed (its
/// readiness check names the missing listener, `server`).
const NOT_ACCEPTING: &str = "failed to be ready for connections after 1ms: server";

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

pub fn build(observer: &dyn Observer) -> Health {
    if observer.in_lame_duck() {
        Health {
            status: "error",
            error: Some(NOT_ACCEPTING),
        }
    } else {
        Health {
            status: "ok",
            error: None,
        }
    }
}

/// The body, and whether it is healthy (HTTP 200) or not (503).
pub fn render(observer: &dyn Observer) -> (Vec<u8>, bool) {
    let health = build(observer);
    (to_json(&health), health.is_ok())
}

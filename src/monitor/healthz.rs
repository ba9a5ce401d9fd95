//! `/healthz`: the broker answers, so it is healthy. There is no cluster
//! or storage whose state could make it otherwise yet.

use super::to_json;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

pub fn build() -> Health {
    Health { status: "ok" }
}

pub fn render() -> Vec<u8> {
    to_json(&build())
}

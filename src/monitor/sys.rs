//! Monitoring over NATS for system-account clients: the answers to
//! `$SYS.REQ.SERVER.PING.<KIND>` and `$SYS.REQ.SERVER.<id>.<KIND>`, in
//! nats-server's envelope `{"server": {...}, "data": {...}}` (or `"error"`;
//! statsz: `{"server": {...}, "statsz": {...}}`).
//! A request payload may carry the endpoint's options as JSON, with
//! nats-server's names (e.g. `{"sort":"msgs_to","limit":5}` for CONNZ).

use super::error::RequestError;
use super::observer::Observer;
use super::server_ref::ServerRef;
use super::sysreq::SystemRequest;
use super::{accountz, connz, healthz, leafz, routez, statsz, subsz, varz};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Serialize)]
struct ApiError {
    code: u16,
    description: String,
}

#[derive(Debug, Serialize)]
struct Envelope<T: Serialize> {
    server: ServerRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ApiError>,
}

/// `{"acc": "NAME"}` for ACCOUNTZ (nats-server's `AccountzOptions` name is `account`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AccountzOptions {
    account: Option<String>,
    acc: Option<String>,
}

/// The JSON answer to a monitoring request from a system-account client;
/// `None` when a statsz request's filter leaves this server out (no reply,
/// as from nats-server).
pub fn answer_system_request(
    observer: &dyn Observer,
    kind: SystemRequest,
    payload: &[u8],
) -> Option<Vec<u8>> {
    Some(match kind {
        SystemRequest::Varz => envelope(observer, Ok(varz::build(observer))),
        SystemRequest::Healthz => envelope(observer, Ok(healthz::build(observer))),
        SystemRequest::Connz => envelope(
            observer,
            options::<connz::Options>(payload).and_then(|o| connz::build(observer, &o)),
        ),
        SystemRequest::Subsz => envelope(
            observer,
            options::<subsz::Options>(payload).and_then(|o| subsz::build(observer, &o)),
        ),
        SystemRequest::Accountz => envelope(
            observer,
            options::<AccountzOptions>(payload)
                .and_then(|o| accountz::build(observer, o.account.or(o.acc).as_deref())),
        ),
        SystemRequest::Routez => envelope(
            observer,
            options::<routez::Options>(payload).map(|o| routez::build(observer, &o)),
        ),
        SystemRequest::Leafz => envelope(
            observer,
            options::<leafz::Options>(payload).and_then(|o| leafz::build(observer, &o)),
        ),
        SystemRequest::Statsz => match options::<statsz::Filter>(payload) {
            Ok(filter) if filter.excludes(&observer.summary()) => return None,
            Ok(_) => statsz::answer(observer),
            Err(e) => envelope::<()>(observer, Err(e)),
        },
    })
}

/// Options from a request payload; an empty payload means the defaults.
fn options<T: DeserializeOwned + Default>(payload: &[u8]) -> Result<T, RequestError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(payload).map_err(|e| RequestError::BadOptions(e.to_string()))
}

fn envelope<T: Serialize>(observer: &dyn Observer, result: Result<T, RequestError>) -> Vec<u8> {
    let server = ServerRef::of(observer);
    let (data, error) = match result {
        Ok(d) => (Some(d), None),
        Err(e) => (
            None,
            Some(ApiError {
                code: 400,
                description: e.to_string(),
            }),
        ),
    };
    // Compact, as nats-server sends it over NATS.
    serde_json::to_vec(&Envelope {
        server,
        data,
        error,
    })
    .unwrap_or_default()
}

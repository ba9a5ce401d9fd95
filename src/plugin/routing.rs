//! Routing policies: one synchronous call per message on the plugin's
//! subjects, after transforms, deciding where the message goes inside the
//! tenant. The payload is copied to the host state only for plugins that
//! registered `wants-payload`, and into the guest only if it asks.

use super::bindings::routing::Routing;
use super::bindings::routing::exports::switchyard::plugin::router::{
    Decision, Publisher, RouteRequest,
};
use super::error::CallError;
use super::pool::PluginPool;
use super::registration::Registered;
use super::transform::MAX_SPLIT;
use super::validate::{Output, validate_output};
use crate::config::tenant::FailurePolicy;

pub struct RoutingPlugin {
    pub name: String,
    pub registered: Registered,
    pub policy: FailurePolicy,
    pub pool: PluginPool<Routing>,
}

/// The publisher, as a routing policy sees it.
pub struct PublisherInfo<'a> {
    pub user: &'a str,
    pub client_id: u64,
    pub client_name: Option<&'a str>,
}

/// Where a routed message goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Allow,
    Deny(String),
    Reroute(String),
    FanOut(Vec<String>),
}

impl RoutingPlugin {
    pub fn decide(
        &self,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
        publisher: &PublisherInfo<'_>,
    ) -> Result<Route, CallError> {
        let subject = String::from_utf8_lossy(subject);
        let reply = reply.map(String::from_utf8_lossy);
        let wants_payload = self.registered.wants_payload;
        let request = RouteRequest {
            subject: &subject,
            reply: reply.as_deref(),
            headers: headers.filter(|_| self.registered.wants_headers),
            payload_size: payload.len() as u32,
            publisher: Publisher {
                user: publisher.user,
                client_id: publisher.client_id,
                client_name: publisher.client_name,
            },
        };
        let decision = self.pool.call(1, |bindings, store| {
            if wants_payload {
                let held = &mut store.data_mut().payload;
                held.clear();
                held.extend_from_slice(payload);
            }
            let decision = bindings
                .switchyard_plugin_router()
                .call_route(&mut *store, request);
            if wants_payload {
                store.data_mut().payload.clear();
            }
            decision
        })?;
        match decision {
            Decision::Allow => Ok(Route::Allow),
            Decision::Deny(reason) => Ok(Route::Deny(reason)),
            Decision::Reroute(to) => {
                if let Err(why) = validate_output(Output::Subject(to.as_bytes())) {
                    return Err(self.pool.bad_output(&format!("reroute: {why}")));
                }
                Ok(Route::Reroute(to))
            }
            Decision::FanOut(extra) => {
                if extra.len() > MAX_SPLIT {
                    return Err(self.pool.bad_output("fan-out to more than 16 subjects"));
                }
                for subject in &extra {
                    if let Err(why) = validate_output(Output::Subject(subject.as_bytes())) {
                        return Err(self.pool.bad_output(&format!("fan-out: {why}")));
                    }
                }
                Ok(Route::FanOut(extra))
            }
        }
    }
}

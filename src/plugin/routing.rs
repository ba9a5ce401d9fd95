//! Routing policies: one call per batch of messages on the plugin's
//! subjects (after the transforms of the chain), deciding where each goes
//! inside the tenant.
//!
//! The batch is built like a transform's (`TransformBatch`): metadata as
//! spans of one buffer the guest receives, everything else in host-only
//! buffers. Payloads are never copied into the guest unless it asks with
//! `message-payload.payload(index)`: for plugins that registered
//! `wants-payload`, the batch's payload buffer is moved into the instance's
//! `HostState` for the call (a swap, not a copy) and moved back after it.

use super::abi::{Range32, RawRouteRef};
use super::bindings::routing::Routing;
pub(super) use super::bindings::routing::exports::switchyard::plugin::router::RouteVerdict;
use super::bindings::routing::exports::switchyard::plugin::router::{Decision, Publisher};
use super::error::CallError;
use super::load::Batched;
use super::pool::PluginPool;
use super::registration::Registered;
use super::transform::{MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_SPLIT, OutMessage};
use super::validate::{Output, validate_output};
use crate::config::tenant::FailurePolicy;
use wasmtime::component::{ComponentType, Lower};

pub struct RoutingPlugin {
    pub name: String,
    pub registered: Registered,
    pub policy: FailurePolicy,
    pub pool: PluginPool<Batched<Routing>>,
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

/// The payloads of a batch and where each one lies, readable by the
/// `message-payload` import while the batch is being decided.
#[derive(Default)]
pub struct BatchPayloads {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

impl BatchPayloads {
    /// Payload `index`; empty when there is none.
    pub fn get(&self, index: u32) -> &[u8] {
        match self.spans.get(index as usize) {
            Some(&(o, l)) => self.bytes.get(o as usize..(o + l) as usize).unwrap_or(&[]),
            None => &[],
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }
}

/// The messages waiting for one routing policy.
#[derive(Default)]
pub struct RouteBatch {
    /// What the guest receives: subjects, replies, wanted headers.
    data: Vec<u8>,
    refs: Vec<RawRouteRef>,
    /// Headers the plugin did not ask for, kept for delivery.
    hidden: Vec<u8>,
    /// Where each message's headers are: `(in_data, offset, len)`.
    headers: Vec<Option<(bool, u32, u32)>>,
    payloads: BatchPayloads,
}

/// `route-batch`'s argument, the `batch` record, with the messages already
/// in canonical-ABI form (`abi`).
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct BatchArg<'a> {
    publisher: Publisher<'a>,
    data: &'a [u8],
    messages: &'a [RawRouteRef],
}

impl RouteBatch {
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.refs.len() >= MAX_BATCH_MESSAGES
            || self.data.len() + self.hidden.len() + self.payloads.bytes.len() >= MAX_BATCH_BYTES
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.refs.clear();
        self.hidden.clear();
        self.headers.clear();
        self.payloads.clear();
    }

    pub fn push(&mut self, registered: &Registered, msg: OutMessage<'_>) {
        let subject = append(&mut self.data, msg.subject);
        let reply = msg.reply.map(|r| append(&mut self.data, r));
        let headers = msg.headers.map(|h| {
            if registered.wants_headers {
                let (o, l) = append(&mut self.data, h);
                (true, o, l)
            } else {
                let (o, l) = append(&mut self.hidden, h);
                (false, o, l)
            }
        });
        let payload = append(&mut self.payloads.bytes, msg.payload);
        self.payloads.spans.push(payload);
        self.headers.push(headers);
        self.refs.push(RawRouteRef::new(
            subject,
            reply,
            headers
                .filter(|&(shared, ..)| shared)
                .map(|(_, o, l)| (o, l)),
            payload.1,
        ));
    }

    /// Message `i` as it entered the batch.
    pub fn message(&self, i: usize) -> OutMessage<'_> {
        let r = &self.refs[i];
        OutMessage {
            subject: slice(&self.data, r.subject()),
            reply: r.reply().map(|s| slice(&self.data, s)),
            headers: self.headers[i].map(|(shared, o, l)| {
                let buf = if shared { &self.data } else { &self.hidden };
                slice(buf, (o, l))
            }),
            payload: self.payloads.get(i as u32),
        }
    }
}

fn append(buf: &mut Vec<u8>, bytes: &[u8]) -> Range32 {
    let offset = buf.len() as u32;
    buf.extend_from_slice(bytes);
    (offset, bytes.len() as u32)
}

fn slice(buf: &[u8], (offset, len): Range32) -> &[u8] {
    &buf[offset as usize..(offset + len) as usize]
}

/// The decisions for a batch, sorted by index: only the messages that are
/// not simply allowed (usually none).
pub type Verdicts = Vec<(u32, Route)>;

impl RoutingPlugin {
    /// Calls the plugin on `batch` and returns its checked verdicts, or the
    /// failure that gives the whole batch the plugin's failure policy.
    pub fn run(
        &self,
        batch: &mut RouteBatch,
        publisher: &PublisherInfo<'_>,
    ) -> Result<Verdicts, CallError> {
        let wants_payload = self.registered.wants_payload;
        let RouteBatch {
            data,
            refs,
            payloads,
            ..
        } = batch;
        let verdicts = self.pool.call(refs.len() as u64, |bindings, store| {
            if wants_payload {
                std::mem::swap(&mut store.data_mut().payloads, payloads);
            }
            let call = bindings.batch_fn();
            let arg = BatchArg {
                publisher: Publisher {
                    user: publisher.user,
                    client_id: publisher.client_id,
                    client_name: publisher.client_name,
                },
                data,
                messages: refs,
            };
            let verdicts = call.call(&mut *store, (arg,)).map(|(v,)| v);
            if wants_payload {
                std::mem::swap(&mut store.data_mut().payloads, payloads);
            }
            verdicts
        })?;
        self.check(verdicts, refs.len())
    }

    /// Validates what the plugin answered: every index inside the batch
    /// and used once, every subject a literal one, fan-outs bounded.
    fn check(&self, verdicts: Vec<RouteVerdict>, len: usize) -> Result<Verdicts, CallError> {
        let mut out: Verdicts = Vec::with_capacity(verdicts.len());
        for RouteVerdict { index, decision } in verdicts {
            if index as usize >= len {
                return Err(self.pool.bad_output("verdict index outside the batch"));
            }
            let route = match decision {
                Decision::Allow => Route::Allow,
                Decision::Deny(reason) => Route::Deny(reason),
                Decision::Reroute(to) => {
                    if let Err(why) = validate_output(Output::Subject(to.as_bytes())) {
                        return Err(self.pool.bad_output(&format!("reroute: {why}")));
                    }
                    Route::Reroute(to)
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
                    Route::FanOut(extra)
                }
            };
            out.push((index, route));
        }
        if !out.is_sorted_by_key(|(i, _)| *i) {
            out.sort_by_key(|(i, _)| *i);
        }
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(self.pool.bad_output("two verdicts for one message"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_each_message_and_hides_what_was_not_asked_for() {
        let registered = Registered {
            subjects: vec!["a.>".into()],
            wants_headers: false,
            wants_payload: true,
        };
        let mut batch = RouteBatch::default();
        batch.push(
            &registered,
            OutMessage {
                subject: b"a.one",
                reply: Some(b"r.1"),
                headers: Some(b"NATS/1.0\r\nX: y\r\n\r\n"),
                payload: b"first",
            },
        );
        batch.push(
            &registered,
            OutMessage {
                subject: b"a.two",
                reply: None,
                headers: None,
                payload: b"",
            },
        );
        assert_eq!(batch.len(), 2);
        let one = batch.message(0);
        assert_eq!(one.subject, b"a.one");
        assert_eq!(one.reply, Some(&b"r.1"[..]));
        assert_eq!(one.headers, Some(&b"NATS/1.0\r\nX: y\r\n\r\n"[..]));
        assert_eq!(one.payload, b"first");
        assert_eq!(batch.message(1).payload, b"");
        // The guest sees no headers it did not register for, and no payload.
        assert!(batch.refs[0].headers().is_none());
        assert_eq!(batch.refs[0].payload_size(), 5);
        assert_eq!(batch.data, b"a.oner.1a.two");
        assert_eq!(batch.payloads.get(0), b"first");
        assert_eq!(batch.payloads.get(7), b"");
        batch.clear();
        assert!(batch.is_empty());
    }
}

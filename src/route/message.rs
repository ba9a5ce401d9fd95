//! A message on its way to subscribers, borrowing from wherever it was
//! read (a publisher's read buffer, a plugin's output).

use crate::plugin::transform::{OutMessage, Produced};
use bytes::Bytes;

#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub subject: &'a [u8],
    pub reply: Option<&'a [u8]>,
    pub headers: Option<&'a [u8]>,
    pub payload: &'a [u8],
    /// The same bytes as `payload`, as a shared buffer, when the publisher
    /// read a large payload into one (`client::SHARE_MIN`): delivery then
    /// queues a reference to it for each subscriber instead of a copy.
    /// `None` for small payloads and whatever a plugin made.
    pub shared: Option<&'a Bytes>,
}

// The plugin host has its own view of a message (it sits below delivery);
// these convert between the two and from a plugin's output.
impl<'a> From<OutMessage<'a>> for Message<'a> {
    fn from(m: OutMessage<'a>) -> Self {
        Message {
            subject: m.subject,
            reply: m.reply,
            headers: m.headers,
            payload: m.payload,
            shared: None,
        }
    }
}

impl<'a> From<Message<'a>> for OutMessage<'a> {
    fn from(m: Message<'a>) -> Self {
        OutMessage {
            subject: m.subject,
            reply: m.reply,
            headers: m.headers,
            payload: m.payload,
        }
    }
}

impl<'a> From<&'a Produced> for Message<'a> {
    fn from(p: &'a Produced) -> Self {
        Message {
            subject: &p.subject,
            reply: p.reply.as_deref(),
            headers: p.headers.as_deref(),
            payload: &p.payload,
            shared: None,
        }
    }
}

//! The per-message records of a batch (`message-ref`, `route-ref`), laid
//! out by the host in the component model's canonical ABI as the batch is
//! built, so a call copies the whole list into the guest with one `memcpy`.
//!
//! Lowering the bindgen records instead costs a bounds-checked store, and a
//! look-up of the guest's memory, per field per message: a quarter of the
//! broker's CPU time with a no-op transform at 16 B messages. The types
//! here type-check as the records they stand for (wasmtime compares them
//! with the component's types when the function is first looked up), and
//! `tests` checks the layout against the bindgen records' ABI.
//!
//! `unsafe` is allowed here only for the two trait impls wasmtime declares
//! `unsafe` (its derive macros write the same impls for bindgen records).
#![allow(unsafe_code)]

use super::bindings::routing::exports::switchyard::plugin::router::RouteRef;
use super::bindings::transform::exports::switchyard::plugin::transformer::MessageRef;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use wasmtime::component::__internal::{
    CanonicalAbiInfo, InstanceType, InterfaceType, LowerContext,
};
use wasmtime::component::{ComponentType, Lower};

/// A byte range as the batch builder records it: `(offset, len)`.
pub type Range32 = (u32, u32);

/// One record of type `T`, already in canonical-ABI bytes.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Raw<T, const N: usize> {
    bytes: [u8; N],
    _record: PhantomData<fn() -> T>,
}

/// A `message-ref`: subject, reply?, headers?, payload.
pub type RawMessageRef = Raw<MessageRef, 40>;
/// A `route-ref`: subject, reply?, headers?, payload-size.
pub type RawRouteRef = Raw<RouteRef, 36>;

fn put_span(bytes: &mut [u8], at: usize, (offset, len): Range32) {
    bytes[at..at + 4].copy_from_slice(&offset.to_le_bytes());
    bytes[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
}

/// An `option<span>`: a discriminant byte, then the span at offset 4.
fn put_option(bytes: &mut [u8], at: usize, span: Option<Range32>) {
    if let Some(span) = span {
        bytes[at] = 1;
        put_span(bytes, at + 4, span);
    }
}

fn span_at(bytes: &[u8], at: usize) -> Range32 {
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (word(at), word(at + 4))
}

fn option_at(bytes: &[u8], at: usize) -> Option<Range32> {
    (bytes[at] != 0).then(|| span_at(bytes, at + 4))
}

impl RawMessageRef {
    pub fn new(
        subject: Range32,
        reply: Option<Range32>,
        headers: Option<Range32>,
        payload: Range32,
    ) -> Self {
        let mut bytes = [0u8; 40];
        put_span(&mut bytes, 0, subject);
        put_option(&mut bytes, 8, reply);
        put_option(&mut bytes, 20, headers);
        put_span(&mut bytes, 32, payload);
        Raw {
            bytes,
            _record: PhantomData,
        }
    }

    pub fn subject(&self) -> Range32 {
        span_at(&self.bytes, 0)
    }

    pub fn reply(&self) -> Option<Range32> {
        option_at(&self.bytes, 8)
    }
}

impl RawRouteRef {
    pub fn new(
        subject: Range32,
        reply: Option<Range32>,
        headers: Option<Range32>,
        payload_size: u32,
    ) -> Self {
        let mut bytes = [0u8; 36];
        put_span(&mut bytes, 0, subject);
        put_option(&mut bytes, 8, reply);
        put_option(&mut bytes, 20, headers);
        bytes[32..36].copy_from_slice(&payload_size.to_le_bytes());
        Raw {
            bytes,
            _record: PhantomData,
        }
    }

    pub fn subject(&self) -> Range32 {
        span_at(&self.bytes, 0)
    }

    pub fn reply(&self) -> Option<Range32> {
        option_at(&self.bytes, 8)
    }

    pub fn headers(&self) -> Option<Range32> {
        option_at(&self.bytes, 20)
    }

    pub fn payload_size(&self) -> u32 {
        span_at(&self.bytes, 28).1
    }
}

// SAFETY: the layout is the record's own (`ABI` is `T::ABI`, and
// `layout_matches_the_bindgen_records` checks N against it); the type
// check is `T`'s.
unsafe impl<T: ComponentType, const N: usize> ComponentType for Raw<T, N> {
    type Lower = T::Lower;
    const ABI: CanonicalAbiInfo = T::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        T::typecheck(ty, types)
    }
}

/// A record lowered on its own (as a function argument, never the case
/// for these: they only travel in lists) goes through `T`'s own lowering.
trait FromRaw<const N: usize>: Sized {
    fn from_raw(bytes: &[u8; N]) -> Self;
}

fn span(r: Range32) -> super::bindings::transform::switchyard::plugin::types::Span {
    super::bindings::transform::switchyard::plugin::types::Span {
        offset: r.0,
        len: r.1,
    }
}

impl FromRaw<40> for MessageRef {
    fn from_raw(bytes: &[u8; 40]) -> Self {
        MessageRef {
            subject: span(span_at(bytes, 0)),
            reply: option_at(bytes, 8).map(span),
            headers: option_at(bytes, 20).map(span),
            payload: span(span_at(bytes, 32)),
        }
    }
}

impl FromRaw<36> for RouteRef {
    fn from_raw(bytes: &[u8; 36]) -> Self {
        RouteRef {
            subject: span(span_at(bytes, 0)),
            reply: option_at(bytes, 8).map(span),
            headers: option_at(bytes, 20).map(span),
            payload_size: span_at(bytes, 28).1,
        }
    }
}

// SAFETY: every store writes exactly `N` (= `SIZE32`) bytes at an offset
// wasmtime allocated and bounds-checked for this type, through the safe,
// bounds-checked memory slice.
unsafe impl<T: Lower + FromRaw<N>, const N: usize> Lower for Raw<T, N> {
    fn linear_lower_to_flat<U>(
        &self,
        cx: &mut LowerContext<'_, U>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        T::from_raw(&self.bytes).linear_lower_to_flat(cx, ty, dst)
    }

    fn linear_lower_to_memory<U>(
        &self,
        cx: &mut LowerContext<'_, U>,
        _ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        cx.as_slice_mut()[offset..][..N].copy_from_slice(&self.bytes);
        Ok(())
    }

    fn linear_store_list_to_memory<U>(
        cx: &mut LowerContext<'_, U>,
        _ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        let dst = &mut cx.as_slice_mut()[offset..][..items.len() * N];
        for (chunk, item) in dst.chunks_exact_mut(N).zip(items) {
            chunk.copy_from_slice(&item.bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_bindgen_records() {
        assert_eq!(<MessageRef as ComponentType>::ABI.size32, 40);
        assert_eq!(<MessageRef as ComponentType>::ABI.align32, 4);
        assert_eq!(<RouteRef as ComponentType>::ABI.size32, 36);
        assert_eq!(<RouteRef as ComponentType>::ABI.align32, 4);
        assert_eq!(std::mem::size_of::<RawMessageRef>(), 40);
        assert_eq!(std::mem::size_of::<RawRouteRef>(), 36);
    }

    #[test]
    fn fields_read_back() {
        let m = RawMessageRef::new((1, 2), Some((3, 4)), None, (5, 6));
        assert_eq!(m.subject(), (1, 2));
        assert_eq!(m.reply(), Some((3, 4)));
        let back = MessageRef::from_raw(&m.bytes);
        assert!(back.headers.is_none());
        assert_eq!((back.payload.offset, back.payload.len), (5, 6));
        let r = RawRouteRef::new((7, 8), None, Some((9, 10)), 11);
        assert_eq!(r.subject(), (7, 8));
        assert_eq!(r.reply(), None);
        assert_eq!(r.headers(), Some((9, 10)));
        assert_eq!(r.payload_size(), 11);
    }
}

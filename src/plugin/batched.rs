//! A message plugin's instance as the host calls it: the world's bindings
//! plus its batch function (`transform-batch`, `route-batch`), called with
//! arguments the host lays out itself (`abi`) rather than through the
//! bindings. `load` type-checks the function once per instance; `transform`
//! and `routing` call it through `batch_fn`.

use super::abi::{RawMessageRef, RawRouteRef};
use super::bindings::routing::Routing;
use super::bindings::routing::exports::switchyard::plugin::router::{Publisher, RouteVerdict};
use super::bindings::transform::Transform;
use super::bindings::transform::exports::switchyard::plugin::transformer::Verdict;
use wasmtime::component::{ComponentType, Func, Lower, TypedFunc};

/// A message world's bindings and its batch function.
pub struct Batched<W> {
    pub world: W,
    pub batch: Func,
}

/// `transform-batch`'s argument, the `batch` record, with the messages
/// already in canonical-ABI form (`abi`).
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct TransformArg<'a> {
    pub data: &'a [u8],
    pub messages: &'a [RawMessageRef],
}

/// `route-batch`'s argument, the `batch` record, with the messages already
/// in canonical-ABI form (`abi`).
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct RouteArg<'a> {
    pub publisher: Publisher<'a>,
    pub data: &'a [u8],
    pub messages: &'a [RawRouteRef],
}

impl Batched<Transform> {
    /// The batch function, typed as `load` checked it.
    #[allow(unsafe_code)]
    pub fn batch_fn<'a>(&self) -> TypedFunc<(TransformArg<'a>,), (Vec<Verdict>,)> {
        // SAFETY: `load` type-checked `batch` with exactly these argument
        // and result types when it made the instance.
        unsafe { TypedFunc::new_unchecked(self.batch) }
    }
}

impl Batched<Routing> {
    /// The batch function, typed as `load` checked it.
    #[allow(unsafe_code)]
    pub fn batch_fn<'a>(&self) -> TypedFunc<(RouteArg<'a>,), (Vec<RouteVerdict>,)> {
        // SAFETY: as above.
        unsafe { TypedFunc::new_unchecked(self.batch) }
    }
}

//! Serde helpers for the JWT fields: Go's `omitempty` (skip zero values)
//! and Go's decoding of `null` as an empty value.

use serde::{Deserialize, Deserializer};

pub(crate) fn is_zero(n: &i64) -> bool {
    *n == 0
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Go decodes `null` into an empty slice, map or struct; so do we.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

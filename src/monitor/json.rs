//! The JSON documents monitoring answers with.

/// A JSON document with nats-server's indentation.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

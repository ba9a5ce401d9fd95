//! The CONNECT document a client sends before anything else (and, with
//! auth required, before it is authenticated), and the INFO document the
//! load generator and tests read back from a server.
//!
//! `ConnectOptions::from_json` must turn every byte string into either
//! options or `None`, never a panic. An INFO that parses must survive a
//! round trip through its serializer unchanged, since the server writes
//! INFO with the same struct.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard::protocol::{ConnectOptions, ServerInfo};

fuzz_target!(|data: &[u8]| {
    let _ = ConnectOptions::from_json(data);
    if let Ok(info) = serde_json::from_slice::<ServerInfo>(data) {
        let json = serde_json::to_vec(&info).expect("INFO serializes");
        let again: ServerInfo = serde_json::from_slice(&json).expect("serialized INFO parses");
        assert_eq!(info, again);
    }
});

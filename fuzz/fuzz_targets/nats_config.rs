//! A nats-server configuration file, through `config::natsconf::parse_with`
//! (what `nats-server -c FILE` and `check --nats-config` run, the
//! environment empty and includes relative to a directory that does not
//! exist) and `config::natsmap::translate`. Hostile files (deep nesting,
//! doubling variables, huge numbers) must get errors, never a panic or a
//! stack overflow; a translation that succeeds must be a configuration
//! the server accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use switchyard::config::natsconf::{Limits, parse_with};
use switchyard::config::natsmap::translate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-switchyard-fuzz/server.conf");
    let no_env = |_: &str| -> Option<String> { None };
    let Ok(map) = parse_with(text, path, &Limits::default(), &no_env) else {
        return;
    };
    if let Ok(t) = translate(&map, path) {
        assert_eq!(t.config.validate(), Ok(()));
    }
});

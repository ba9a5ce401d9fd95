//! The server's TOML configuration, as `ServerConfig::load` parses and
//! validates it once the file is read. An operator's typo must be a config
//! error naming the key, never a panic, and every duration a valid
//! configuration gives must be one a timer can be set to (the connection
//! task adds `ping_interval` to the clock).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::time::{Duration, Instant};
use switchyard::ServerConfig;

fn schedulable(d: Duration) {
    assert!(Instant::now().checked_add(d).is_some(), "{d:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = ServerConfig::from_toml(text, Path::new("/etc/switchyard/switchyard.toml"))
    {
        assert_eq!(config.validate(), Ok(()));
        let durations = [
            config.ping_interval,
            config.auth_timeout,
            config.write_deadline,
            config.lame_duck_duration,
            config.lame_duck_grace_period,
        ];
        let plugins = config.auth_plugins.iter().filter_map(|p| p.timeout);
        for d in durations.into_iter().chain(plugins) {
            schedulable(d);
        }
    }
});

//! The integration suite as one test binary: one link instead of one per
//! file, which matters when every binary carries wasmtime.

mod common;

mod auth_cli;
mod auth_cli_serve;
mod auth_nats_server;
mod bench_connect;
mod check_command;
mod cli_serve;
mod cluster;
mod cluster_nats;
mod compat_cli;
mod differential;
mod hostile;
mod interop_python;
mod isolation;
mod lame_duck;
mod large_payloads;
mod layers;
mod leaf_bench;
mod leaf_examples;
mod leaf_monitor;
mod leaf_nats;
mod leaf_plugins;
mod leaf_rules;
mod leaf_secure;
mod leaf_tenants;
mod messaging;
mod monitor;
mod nats_config;
mod operator_activation;
mod operator_limits;
mod operator_mode;
mod operator_user_rules;
mod permissions;
mod plugins_examples;
mod plugins_exports;
mod plugins_hostile;
mod plugins_polyglot;
mod protocol_errors;
mod slow_consumer;
mod sys_requests;
mod tenants;
mod timers;
mod tls;
mod varz_keys;

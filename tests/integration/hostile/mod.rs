//! Attacks from issue "Hostile tenants", each as a test: a client, tenant
//! or plugin that does not trust the others tries to cross into another
//! tenant, exhaust memory or CPU, or starve other clients; each test
//! asserts the bound that holds (memory through the broker's own pending
//! counters, latency as a generous bound).

mod isolation;
mod leaf;
mod logins;
mod memory;
mod plugins;

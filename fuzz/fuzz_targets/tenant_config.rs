//! A tenant file, as the server reads it: parsed (`parse_tenant`, what
//! `load_dir` does with each file), checked (`validate_for`), and, when
//! valid, compiled into what the message path uses: its users, its subject
//! mappings and every permission set. A tenant's file is written by the
//! tenant, so none of this may panic, and the durations of a valid file
//! must be ones a timer can be set to (the message path adds a service's
//! `response_threshold` and a reply permit's `ttl` to the clock).
//!
//! Building may still refuse a file that validates: a malformed bcrypt
//! hash, for one, is reported by `UserDirectory` when the tenancy is
//! loaded (`serve` and `check` both do that), not by `validate_for`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::time::Instant;
use switchyard::auth::UserDirectory;
use switchyard::config::tenant::AllowResponses;
use switchyard::config::tenants::{parse_tenant, validate_for};
use switchyard::tenant::mappings;
use switchyard::tenant::permissions::CompiledPermissions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/etc/switchyard/tenants/fuzz.toml");
    let Ok(tenant) = parse_tenant(path, text) else {
        return;
    };
    let files = vec![(PathBuf::from(path), tenant)];
    let _ = validate_for(&files, true);
    if !validate_for(&files, false).is_empty() {
        return;
    }
    let tenants = [files.into_iter().next().expect("one file").1];
    let _ = UserDirectory::new(&tenants, None);
    let _ = UserDirectory::with_certificate_users(&tenants, None);
    let tenant = &tenants[0];
    let _ = mappings::compile(&tenant.mappings);
    let permissions = tenant
        .users
        .iter()
        .filter_map(|u| u.permissions.as_ref())
        .chain(tenant.default_permissions.as_ref());
    let mut durations: Vec<_> = tenant
        .exports
        .iter()
        .filter_map(|e| e.response_threshold)
        .chain(tenant.plugins.iter().filter_map(|p| p.timeout))
        .collect();
    for p in permissions {
        let _ = CompiledPermissions::compile(p);
        if let Some(AllowResponses::Limits(limits)) = &p.allow_responses {
            durations.push(limits.ttl);
        }
    }
    for d in durations {
        assert!(Instant::now().checked_add(d).is_some(), "{d:?}");
    }
});

//! Hostile test plugin: allocates memory without bound. The broker's memory
//! limit must make `memory.grow` fail, which traps the plugin (the
//! allocator aborts), and the broker must discard the instance.
//!
//! Config: `subjects` (comma-separated, default `>`); `mode`:
//! - `unbounded` (default): every call allocates 1 MiB blocks, touching
//!   each page, until allocation fails;
//! - `leak`: every call leaks `leak_kib` KiB (default 1024) and passes, to
//!   test recycling at a memory high-water mark without a trap.

use std::sync::OnceLock;

use switchyard_plugin::{Action, Message, Registration, Transform, config};

enum Mode {
    Unbounded,
    Leak(usize),
}

static MODE: OnceLock<Mode> = OnceLock::new();

fn mode() -> &'static Mode {
    MODE.get_or_init(|| match config::get("mode").as_deref() {
        Some("leak") => {
            let kib = config::parse("leak_kib").ok().flatten().unwrap_or(1024);
            Mode::Leak(kib * 1024)
        }
        _ => Mode::Unbounded,
    })
}

struct HostileMemory;

impl Transform for HostileMemory {
    fn register() -> Registration {
        Registration::subjects_from_config("subjects", &[">"])
    }

    fn transform(_msg: &Message<'_>) -> Action {
        match *mode() {
            Mode::Unbounded => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Filled with non-zero bytes so every page is written.
                    hoard.push(std::hint::black_box(vec![0xA5; 1 << 20]));
                }
            }
            Mode::Leak(bytes) => {
                std::hint::black_box(vec![0xA5u8; bytes].leak());
                Action::Pass
            }
        }
    }
}

switchyard_plugin::export_transform!(HostileMemory);

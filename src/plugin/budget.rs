//! CPU-time budgets for plugin calls.
//!
//! A call's deadline is the CPU time its thread spends from the start of
//! the call, not the wall-clock time that passes: on a busy machine a
//! thread can be descheduled for longer than a whole budget, and a
//! well-behaved plugin must not be failed (and its message dropped) for
//! that.
//!
//! The epoch ticker still does the interrupting, so a call costs at most
//! one read of the thread's CPU clock (at most one per thread per tick,
//! see `REUSE_WITHIN`) and nothing per instruction. Each call sets
//! its epoch deadline to its budget in ticks; wall-clock time is never less
//! than the CPU time spent, so by the time that deadline passes the budget
//! may be spent but cannot have been overspent by more than a tick. The
//! store's epoch-deadline callback then reads the CPU clock: a call with
//! budget left is given that much more in ticks (`UpdateDeadline::Continue`),
//! one without traps with `Trap::Interrupt`, which the pool reports as a
//! timeout. A guest that loops is therefore stopped once it has burnt its
//! budget, within a tick of CPU time; a descheduled one is extended as
//! often as the ticker fires, at the price of one clock read per tick, up
//! to a wall-clock backstop of a hundred budgets (at least a second).

use std::cell::Cell;
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline};

use super::ticker::EPOCH_TICK;

/// However little CPU time a call uses, it is stopped once this many of
/// its budgets of wall-clock time have passed (and never before
/// `MIN_WALL_CLOCK`): a guest that found a way to wait without running
/// (a host call that blocks) must not hold a broker thread for ever, while
/// a thread merely descheduled on a busy machine is never kept off a CPU
/// for anything like this long.
pub const WALL_CLOCK_FACTOR: u32 = 100;
pub const MIN_WALL_CLOCK: Duration = Duration::from_secs(1);

/// The budget of the call a store is running, and where it started on the
/// thread's CPU clock. Lives in the store's data, so the epoch callback can
/// reach it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBudget {
    start: Duration,
    budget: Duration,
    /// Ticks of deadline given to the call so far: the epoch has advanced
    /// at least about this many times since it began, each tick at least
    /// `EPOCH_TICK` of wall-clock time, so no clock read is needed for the
    /// wall-clock backstop.
    granted: u64,
    /// The backstop, in ticks.
    wall_limit: u64,
    /// How often the current call's deadline was extended because it still
    /// had budget: each is at least a tick of wall-clock time the thread
    /// did not spend running it.
    pub extensions: u64,
}

impl CpuBudget {
    /// Starts a call, at `now`, with `budget` of CPU time on the current
    /// thread, and returns the epoch deadline to set, in ticks.
    ///
    /// The start is the thread's CPU clock as last read on this thread if
    /// that was less than `REUSE_WITHIN` ago (`recent_cpu_time`), and the
    /// budget grows by that age: the thread cannot have run longer than
    /// that since, so the call is never stopped before it has used its
    /// whole budget, and at most that much later.
    #[inline]
    pub fn begin(&mut self, budget: Duration, now: Instant) -> u64 {
        let (start, age) = recent_cpu_time(now);
        self.start = start;
        self.budget = budget.saturating_add(age);
        self.granted = ticks(budget);
        self.wall_limit = ticks(budget.saturating_mul(WALL_CLOCK_FACTOR).max(MIN_WALL_CLOCK));
        self.extensions = 0;
        self.granted
    }

    /// What the epoch callback decides once the thread has used `now`
    /// (its CPU clock): more ticks while the budget lasts and the
    /// wall-clock backstop is not reached, else a trap.
    pub fn on_deadline(&mut self, now: Duration) -> UpdateDeadline {
        let used = now.saturating_sub(self.start);
        let wall_left = self.wall_limit.saturating_sub(self.granted);
        match self.budget.checked_sub(used) {
            Some(left) if !left.is_zero() && wall_left > 0 => {
                let more = ticks(left).min(wall_left);
                self.granted += more;
                self.extensions += 1;
                UpdateDeadline::Continue(more)
            }
            _ => UpdateDeadline::Interrupt,
        }
    }
}

/// `d` in epoch ticks, rounded up, at least one.
fn ticks(d: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    (d.as_nanos().div_ceil(tick) as u64).max(1)
}

/// How old a reading of the thread's CPU clock a call may start from.
/// Reading that clock is a system call (no vDSO path): 0.7 µs on this
/// project's shared 2-core machine, 4-5 µs while it was heavily loaded,
/// against about 1 µs for a whole no-op plugin call; reusing a reading
/// for a tick makes it at most one read per thread per millisecond.
pub const REUSE_WITHIN: Duration = EPOCH_TICK;

thread_local! {
    /// The last reading of this thread's CPU clock, and when it was taken.
    static LAST_READING: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
}

/// The thread's CPU clock as read less than `REUSE_WITHIN` before `now`
/// (or read now), and the age of that reading.
#[inline]
fn recent_cpu_time(now: Instant) -> (Duration, Duration) {
    LAST_READING.with(|last| {
        if let Some((at, cpu)) = last.get() {
            let age = now.saturating_duration_since(at);
            if age < REUSE_WITHIN {
                return (cpu, age);
            }
        }
        let cpu = thread_cpu_time();
        last.set(Some((now, cpu)));
        (cpu, Duration::ZERO)
    })
}

/// Makes `store` measure its calls' deadlines in CPU time: `budget` finds
/// the store's `CpuBudget` in its data. Each call must start with
/// `CpuBudget::begin` and set the epoch deadline it returns.
pub fn arm<T: 'static>(store: &mut Store<T>, budget: fn(&mut T) -> &mut CpuBudget) {
    store.epoch_deadline_callback(move |mut ctx| {
        Ok(budget(ctx.data_mut()).on_deadline(thread_cpu_time()))
    });
}

/// The CPU time the calling thread has used since it started.
///
/// `CLOCK_THREAD_CPUTIME_ID` has no std equivalent; `libc` is the thinnest
/// way to it (already in the dependency tree through tokio and wasmtime).
#[cfg(unix)]
#[allow(unsafe_code)]
#[inline]
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant every supported unix knows. On failure `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Elsewhere: wall-clock time, the behaviour before CPU budgets.
#[cfg(not(unix))]
pub fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;
    use wasmtime::{Config, Engine, Func, Instance, Module, Trap};

    #[test]
    fn the_deadline_is_extended_while_cpu_budget_is_left() {
        let budget = Duration::from_millis(10);
        let mut b = CpuBudget::default();
        b.begin(budget, Instant::now());
        b.start = Duration::from_secs(5);
        b.budget = budget;
        // 10 ms of wall-clock time passed, but the thread ran for 1 ms.
        let update = b.on_deadline(Duration::from_secs(5) + Duration::from_millis(1));
        assert!(matches!(update, UpdateDeadline::Continue(9)));
        let update = b.on_deadline(Duration::from_secs(5) + Duration::from_micros(9_500));
        assert!(matches!(update, UpdateDeadline::Continue(1)));
        assert_eq!(b.extensions, 2);
        for spent in [budget, budget * 3] {
            let update = b.on_deadline(Duration::from_secs(5) + spent);
            assert!(matches!(update, UpdateDeadline::Interrupt));
        }
        assert_eq!(b.extensions, 2);
    }

    /// A call that waits without running is stopped after 100 budgets (at
    /// least 1 s) of wall-clock time, in ticks granted.
    #[test]
    fn a_call_that_never_runs_hits_the_wall_clock_backstop() {
        for (budget, limit) in [(10u64, 1000u64), (100, 10_000)] {
            let mut b = CpuBudget::default();
            let mut granted = b.begin(Duration::from_millis(budget), Instant::now());
            let idle = b.start;
            loop {
                match b.on_deadline(idle) {
                    UpdateDeadline::Continue(n) => granted += n,
                    UpdateDeadline::Interrupt => break,
                    _ => unreachable!("sync calls only"),
                }
            }
            assert_eq!(granted, limit, "{budget} ms");
        }
    }

    #[test]
    fn the_first_deadline_is_the_budget_in_ticks() {
        let mut b = CpuBudget::default();
        let now = Instant::now() + Duration::from_secs(10);
        assert_eq!(b.begin(Duration::from_millis(10), now), 10);
        assert_eq!(b.begin(Duration::from_micros(10_001), now), 11);
        assert_eq!(b.begin(Duration::ZERO, now), 1);
    }

    /// Calls within a tick of a reading start from it, with their budget
    /// grown by its age; a later call reads the clock again.
    #[test]
    fn a_recent_cpu_reading_is_reused_with_its_age_added() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let budget = Duration::from_millis(10);
        let (mut a, mut b, mut c) = (
            CpuBudget::default(),
            CpuBudget::default(),
            CpuBudget::default(),
        );
        a.begin(budget, t0);
        b.begin(budget, t0 + Duration::from_micros(300));
        assert_eq!(b.start, a.start);
        assert_eq!(b.budget, budget + Duration::from_micros(300));
        // Burn some CPU so that a fresh reading differs.
        let spin = Instant::now();
        while thread_cpu_time() <= a.start + Duration::from_millis(2) {
            assert!(
                spin.elapsed() < Duration::from_secs(10),
                "the clock stands still"
            );
        }
        c.begin(budget, t0 + REUSE_WITHIN);
        assert!(c.start > a.start, "read again after a tick");
        assert_eq!(c.budget, budget);
    }

    #[test]
    fn the_thread_cpu_clock_does_not_count_sleeping() {
        let start = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_cpu_time() - start < Duration::from_millis(25));
        // And it does count running.
        let spin = Instant::now();
        while thread_cpu_time() - start < Duration::from_millis(5) {
            assert!(
                spin.elapsed() < Duration::from_secs(10),
                "the clock stands still"
            );
            std::hint::black_box(0);
        }
    }

    /// A core module (hand-assembled: the engine is built without `wat`):
    /// `short` calls the host's `wait` and then loops ten times; `spin`
    /// loops forever. Both loops' headers are epoch checks.
    const MODULE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type 0: () -> ()
        0x02, 0x0d, 0x01, 0x04, b'h', b'o', b's', b't', 0x04, b'w', b'a', b'i', b't', 0x00,
        0x00, // import host.wait: type 0
        0x03, 0x03, 0x02, 0x00, 0x00, // functions 1 and 2: type 0
        0x07, 0x10, 0x02, 0x05, b's', b'h', b'o', b'r', b't', 0x00, 0x01, 0x04, b's', b'p', b'i',
        b'n', 0x00, 0x02, // exports
        0x0a, 0x1f, 0x02, // code, two bodies
        0x15, 0x01, 0x01, 0x7f, // short: one i32 local
        0x10, 0x00, // call $wait
        0x03, 0x40, // loop
        0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00, // local 0 += 1
        0x41, 0x0a, 0x49, 0x0d, 0x00, // br_if 0 while < 10
        0x0b, 0x0b, // end loop, end function
        0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // spin: loop br 0
    ];

    struct Data {
        budget: CpuBudget,
    }

    fn engine() -> Engine {
        let mut config = Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).expect("engine")
    }

    /// Runs export `name` under a 10 ms CPU budget; `wait` is what the
    /// guest's host import does.
    fn call(
        engine: &Engine,
        name: &str,
        wait: impl Fn() + Send + Sync + 'static,
    ) -> (wasmtime::Result<()>, CpuBudget, Duration) {
        let module = Module::new(engine, MODULE).expect("module");
        let mut store = Store::new(
            engine,
            Data {
                budget: CpuBudget::default(),
            },
        );
        arm(&mut store, |d: &mut Data| &mut d.budget);
        let wait = Func::wrap(&mut store, wait);
        store.set_epoch_deadline(1000);
        let instance = Instance::new(&mut store, &module, &[wait.into()]).expect("instance");
        let f = instance
            .get_typed_func::<(), ()>(&mut store, name)
            .expect("export");
        let ticks = store
            .data_mut()
            .budget
            .begin(Duration::from_millis(10), Instant::now());
        store.set_epoch_deadline(ticks);
        let cpu = thread_cpu_time();
        let result = f.call(&mut store, ());
        (result, store.data().budget, thread_cpu_time() - cpu)
    }

    /// A descheduled call: the host import blocks while another thread
    /// advances the epoch far past the budget (what the ticker does while
    /// the calling thread waits for a CPU). The call has used almost no CPU
    /// time, so it is extended and succeeds.
    #[test]
    fn a_descheduled_call_is_not_failed() {
        let engine = engine();
        let (passed_tx, passed_rx) = mpsc::channel::<()>();
        let ticker_engine = engine.clone();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let advancer = std::thread::spawn(move || {
            go_rx.recv().expect("go");
            // 100 ticks: ten budgets of wall-clock time.
            for _ in 0..100 {
                ticker_engine.increment_epoch();
            }
            passed_tx.send(()).expect("send");
        });
        let passed_rx = std::sync::Mutex::new(passed_rx);
        let (result, budget, _) = call(&engine, "short", move || {
            go_tx.send(()).expect("go");
            passed_rx
                .lock()
                .expect("lock")
                .recv()
                .expect("epoch advanced");
        });
        advancer.join().expect("advancer");
        result.expect("a call that used little CPU time succeeds");
        assert!(
            budget.extensions >= 1,
            "the deadline passed and was extended"
        );
    }

    /// A guest that loops burns CPU time and is stopped once its budget is
    /// spent, with the trap the pool reports as a timeout.
    #[test]
    fn a_looping_call_traps_once_its_cpu_budget_is_spent() {
        let engine = engine();
        let ticker = super::super::ticker::EpochTicker::start(engine.clone()).expect("ticker");
        let running = ticker.enter();
        let start = Instant::now();
        let (result, _, cpu) = call(&engine, "spin", || {});
        let wall = start.elapsed();
        drop(running);
        ticker.stop();
        let error = result.expect_err("an endless loop must trap");
        assert_eq!(error.downcast_ref::<Trap>(), Some(&Trap::Interrupt));
        assert!(cpu >= Duration::from_millis(10), "stopped early: {cpu:?}");
        // Generous: a tick of CPU time late at most, but the machine is shared.
        assert!(wall < Duration::from_secs(5), "stopped late: {wall:?}");
    }
}

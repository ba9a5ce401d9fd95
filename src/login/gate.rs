//! Logins in progress: the small pool of threads that checks credentials,
//! and the caps on how many logins may wait for it.
//!
//! bcrypt is slow by design (tens of milliseconds per check), and ed25519
//! signatures of JWTs and nonces and auth-plugin calls are not free
//! either. Run on an async worker, forty sockets looping wrong passwords
//! held every worker and a logged-in client's PING waited behind them.
//! Here every check runs on a dedicated pool of [`login_workers`] threads
//! (half the cores), so the other half always serve connections; and a
//! login is only admitted while fewer than `max_pending_logins` are in
//! progress on the server and fewer than `max_pending_logins_per_ip` from
//! the client's address. A login over either cap is refused at once (the
//! connection is told `maximum connections exceeded`, see
//! `CloseReason::TooManyLogins`) rather than queued behind work that would
//! outlast its auth timeout. The admission counts bound the pool's queue.
//!
//! This module owns the counting and the pool; what a check does is the
//! caller's (`login`).

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc;

/// Threads that check credentials: half the cores, at least one, so that
/// on the 2-core machines we run on one core is always left to the async
/// workers however many logins are queued.
pub fn login_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Why a login was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// `max_pending_logins` are in progress on the server.
    Server,
    /// `max_pending_logins_per_ip` are in progress from this address.
    Address,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_ip: FxHashMap<IpAddr, usize>,
}

type Job = Box<dyn FnOnce() + Send>;

/// The pool and the counts of logins in progress; one per server. The
/// pool's threads end when the gate is dropped.
pub struct LoginGate {
    jobs: mpsc::Sender<Job>,
    max_pending: usize,
    max_per_ip: usize,
    counts: Mutex<Counts>,
}

impl LoginGate {
    pub fn new(max_pending: usize, max_per_ip: usize, workers: usize) -> Arc<LoginGate> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("login-check-{i}"))
                .spawn(move || check_jobs(&queue));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a login-check thread");
            }
        }
        Arc::new(LoginGate {
            jobs,
            max_pending,
            max_per_ip,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Admits one login from `ip`, counted until the ticket is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<LoginTicket, Busy> {
        let mut counts = self.counts.lock();
        if counts.total >= self.max_pending {
            return Err(Busy::Server);
        }
        let from_ip = counts.by_ip.entry(ip).or_default();
        if *from_ip >= self.max_per_ip {
            return Err(Busy::Address);
        }
        *from_ip += 1;
        counts.total += 1;
        Ok(LoginTicket {
            gate: self.clone(),
            ip,
        })
    }

    /// Logins in progress (waiting for a thread or being checked).
    #[cfg(test)]
    fn pending(&self) -> usize {
        self.counts.lock().total
    }
}

/// A checking thread: runs jobs until the gate is gone. Jobs catch their
/// own panics; this is a second net so that no job can end the thread.
fn check_jobs(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = queue.lock().recv();
        let Ok(job) = job else {
            return;
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// One admitted login. Dropping it (the check finished, or the connection
/// gave up before it started) frees its place.
pub struct LoginTicket {
    gate: Arc<LoginGate>,
    ip: IpAddr,
}

impl LoginTicket {
    /// Runs `check` on the pool. `None` if it panicked or the pool is
    /// gone. The ticket is held until `check` returns, even if the caller
    /// stops waiting (a running check cannot be interrupted, so it goes on
    /// counting); a check whose caller stopped waiting before it started
    /// is skipped.
    pub async fn run<T, F>(self, check: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let jobs = self.gate.jobs.clone();
        let job: Job = Box::new(move || {
            if answer.is_closed() {
                return;
            }
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
            // Free the place before answering (or, after a panic, dropping
            // the answer), so a caller that sees the end of its check also
            // sees the count go down.
            drop(self);
            if let Ok(checked) = checked {
                let _ = answer.send(checked);
            }
        });
        jobs.send(job).ok()?;
        answered.await.ok()
    }
}

impl Drop for LoginTicket {
    fn drop(&mut self) {
        let mut counts = self.gate.counts.lock();
        counts.total -= 1;
        if let Some(n) = counts.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn caps_per_address_and_per_server_and_frees_on_drop() {
        let gate = LoginGate::new(3, 2, 1);
        let a1 = gate.admit(ip(1)).expect("first from a");
        let a2 = gate.admit(ip(1)).expect("second from a");
        assert_eq!(gate.admit(ip(1)).err(), Some(Busy::Address));
        let b1 = gate.admit(ip(2)).expect("first from b");
        assert_eq!(gate.admit(ip(3)).err(), Some(Busy::Server));
        assert_eq!(gate.pending(), 3);
        drop(a1);
        assert_eq!(gate.pending(), 2);
        let a3 = gate.admit(ip(1)).expect("a has room again");
        drop((a2, a3, b1));
        assert_eq!(gate.pending(), 0);
        assert!(gate.counts.lock().by_ip.is_empty(), "no entry left behind");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_run_on_the_pool_no_more_than_its_threads_at_once() {
        let gate = LoginGate::new(100, 100, 2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let checks = (0..8u8).map(|i| {
            let ticket = gate.admit(ip(i)).expect("room");
            let (running, most) = (running.clone(), most.clone());
            tokio::spawn(ticket.run(move || {
                let thread = std::thread::current();
                assert!(thread.name().is_some_and(|n| n.starts_with("login-check-")));
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }))
        });
        let mut results = Vec::new();
        for check in checks.collect::<Vec<_>>() {
            results.push(check.await.expect("joined").expect("did not panic"));
        }
        assert_eq!(results, (0..8).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two at once");
        assert_eq!(gate.pending(), 0);
    }

    #[tokio::test]
    async fn a_panicking_check_is_none_frees_its_place_and_spares_the_thread() {
        let gate = LoginGate::new(1, 1, 1);
        let ticket = gate.admit(ip(1)).expect("room");
        let result: Option<()> = ticket.run(|| panic!("check panicked")).await;
        assert_eq!(result, None);
        assert_eq!(gate.pending(), 0);
        // The only thread survived and checks the next login.
        let ticket = gate.admit(ip(1)).expect("room again");
        assert_eq!(ticket.run(|| 7).await, Some(7));
    }
}

//! Soak: sustained writes, deletes and searches on fresh stores, under a
//! watchdog that turns a hang into a failure with every thread's stack.
//!
//! sled 0.34.7 can deadlock between growing the file and truncating it in
//! its I/O pool under sustained writes (spacejam/sled issue 1412; fixed
//! after 0.34.7 by pull request 1269). This test drives that path: writers
//! put records and delete their oldest ones (freeing segments at the end
//! of the file, which sled truncates), a reader queries and searches, and
//! every round starts on a fresh store. It runs on the backend that
//! `VOICEFLOW_TEST_STORE_BACKEND` names (`redb`, the default, or `sled`).
//!
//! `make test` runs a short version (`VOICEFLOW_SOAK_PUTS`, default 5,000
//! puts, with the deletes and reads that go with them). The long run, for
//! millions of operations:
//!
//! ```text
//! VOICEFLOW_SOAK_PUTS=2000000 cargo test --release -p voiceflow-core --test store_soak -- --nocapture
//! ```
//!
//! `VOICEFLOW_SOAK_STALL_S` (default 60) is how long no operation may
//! complete before the watchdog prints the stacks (with gdb when it is
//! installed, else each thread's kernel wait channel) and exits with 101.

mod store_support;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use store_support::{open, passphrase, sample};
use voiceflow_core::store::{Query, RecordId};

/// Puts per round (one fresh store each).
const PUTS_PER_ROUND: u64 = 5_000;
/// Writer threads (a server writes from many connections).
const WRITERS: usize = 3;
/// Records the writers leave in place; beyond them each deletes its oldest.
const KEEP: usize = 300;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Writes straight to the process's standard error: libtest captures the
/// print macros, and the watchdog exits the process.
fn report(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Every thread's stack: gdb's backtraces, or the kernel's view of each
/// thread (name, state, wait channel) without gdb.
fn thread_stacks() -> String {
    let pid = std::process::id().to_string();
    let gdb = std::process::Command::new("gdb")
        .args(["-p", &pid, "-batch", "-nx", "-ex", "thread apply all bt"])
        .output();
    if let Ok(out) = gdb {
        if out.status.success() && !out.stdout.is_empty() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
    }
    let mut text = String::from("(gdb not available: kernel view of each thread)\n");
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let read = |f: &str| {
                std::fs::read_to_string(task.path().join(f))
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            let state = read("status")
                .lines()
                .find(|l| l.starts_with("State:"))
                .unwrap_or_default()
                .to_string();
            text += &format!(
                "tid {} {:?} {} wchan={} syscall={}\n",
                task.file_name().to_string_lossy(),
                read("comm"),
                state,
                read("wchan"),
                read("syscall")
            );
        }
    }
    text
}

/// Fails the process with the stacks when `progress` stops moving for
/// `stall`; returns when `done` is set.
fn watchdog(
    progress: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    stall: Duration,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut last = progress.load(Ordering::Relaxed);
        let mut since = Instant::now();
        while !done.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(200));
            let now = progress.load(Ordering::Relaxed);
            if now != last {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() >= stall {
                report(&format!(
                    "\nstore_soak: HANG: no operation completed for {:?} after {now} operations\n{}\n",
                    stall,
                    thread_stacks()
                ));
                std::process::exit(101);
            }
        }
    })
}

/// One round on a fresh store: `puts` records written by the writers, each
/// deleting its oldest record once it has [`KEEP`] / [`WRITERS`] (so the
/// store stays the same size and sled keeps freeing segments), while the
/// reader searches and lists. Returns (deletes, reads).
fn round(puts: u64, progress: &AtomicU64) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), passphrase());
    let remaining = AtomicU64::new(puts);
    let writing = AtomicBool::new(true);
    let (deletes, reads) = (AtomicU64::new(0), AtomicU64::new(0));
    let kept: usize = thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, remaining, deletes) = (&store, &remaining, &deletes);
                scope.spawn(move || {
                    let mut mine: VecDeque<RecordId> = VecDeque::new();
                    let mut n = w;
                    while remaining
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        mine.push_back(store.put(&sample(n)).expect("put"));
                        progress.fetch_add(1, Ordering::Relaxed);
                        if mine.len() > KEEP / WRITERS {
                            let oldest = mine.pop_front().expect("not empty");
                            store.delete(&oldest).expect("delete");
                            deletes.fetch_add(1, Ordering::Relaxed);
                            progress.fetch_add(1, Ordering::Relaxed);
                        }
                        n += WRITERS;
                    }
                    mine.len()
                })
            })
            .collect();
        scope.spawn(|| {
            let mut n = 0u64;
            while writing.load(Ordering::Acquire) {
                if n.is_multiple_of(2) {
                    store.search(&format!("item{n}"), 10).expect("search");
                } else {
                    let page = store.query(&Query::new().limit(20)).expect("query");
                    assert!(page.unreadable.is_empty());
                }
                n += 1;
                reads.fetch_add(1, Ordering::Relaxed);
                progress.fetch_add(1, Ordering::Relaxed);
            }
        });
        let kept = writers.into_iter().map(|w| w.join().unwrap()).sum();
        writing.store(false, Ordering::Release);
        kept
    });
    store.flush().expect("flush");
    assert_eq!(store.count(), kept, "every record not deleted is there");
    (deletes.into_inner(), reads.into_inner())
}

#[test]
fn sustained_writes_deletes_and_searches_never_hang() {
    let total = env_u64("VOICEFLOW_SOAK_PUTS", PUTS_PER_ROUND);
    let stall = Duration::from_secs(env_u64("VOICEFLOW_SOAK_STALL_S", 60));
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let dog = watchdog(Arc::clone(&progress), Arc::clone(&done), stall);
    let started = Instant::now();
    let (mut deletes, mut reads, mut rounds) = (0, 0, 0);
    let mut left = total;
    while left > 0 {
        let puts = left.min(PUTS_PER_ROUND);
        let (d, r) = round(puts, &progress);
        (deletes, reads, rounds) = (deletes + d, reads + r, rounds + 1);
        left -= puts;
        if rounds % 10 == 0 {
            report(&format!(
                "store_soak: round {rounds}, {} operations, {:.0} s\n",
                progress.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            ));
        }
    }
    done.store(true, Ordering::Relaxed);
    dog.join().unwrap();
    report(&format!(
        "store_soak: {} operations in {rounds} fresh stores ({total} puts, {deletes} deletes, \
         {reads} searches and queries) in {:.1} s, no hang\n",
        progress.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    ));
}

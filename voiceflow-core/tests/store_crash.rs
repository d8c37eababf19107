//! Crash safety: child processes killed with SIGKILL at random moments.
//!
//! The children are this test executable run again with `--exact` and an
//! environment variable naming their role; they print what they have done
//! on stdout, and the parent kills them while they work.

mod store_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use store_support::{config, open, passphrase, sample};
use voiceflow_core::store::{FlushPolicy, Query, RecordId, Store, StoreConfig, StoreKey};
use voiceflow_core::Error;

/// Set in a child: its role's store folder.
const WRITER_ENV: &str = "VOICEFLOW_STORE_CRASH_WRITER";
const ROTATOR_ENV: &str = "VOICEFLOW_STORE_CRASH_ROTATOR";
/// Set in a writer child: which round it is (keeps record numbers apart).
const ROUND_ENV: &str = "VOICEFLOW_STORE_CRASH_ROUND";

fn old_key() -> StoreKey {
    StoreKey::raw([1; 32])
}

fn new_key() -> StoreKey {
    StoreKey::passphrase("the key after rotation")
}

/// A child process, killed with SIGKILL when dropped (also when the parent
/// test panics).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this executable's test `test` as a child with `env` set; its
/// stdout lines arrive on the returned channel until it dies.
fn spawn_child(test: &str, env: &[(&str, String)]) -> (Killed, Receiver<String>) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (Killed(child), receiver)
}

/// What follows `marker` in a line the child printed (the test harness may
/// have written its own text before it on the same line).
fn after_marker<'l>(line: &'l str, marker: &str) -> Option<&'l str> {
    line.find(marker).map(|at| &line[at + marker.len()..])
}

/// Waits up to a minute for a line with `marker`; returns what follows it.
fn wait_for(lines: &Receiver<String>, marker: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no {marker:?} from the child: {e}"));
        if let Some(rest) = after_marker(&line, marker) {
            return rest.to_string();
        }
    }
}

/// Kills the child with SIGKILL and returns every line it printed.
fn kill(child: Killed, lines: Receiver<String>) -> Vec<String> {
    drop(child);
    lines.into_iter().collect()
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Child role: writes records (single and batched) forever, flushing now
/// and then and printing `ACK <id> <n>` for each record once its flush
/// returned.
#[test]
fn crash_child_writer() {
    let Ok(folder) = std::env::var(WRITER_ENV) else {
        return; // only runs as a child of a_writer_killed_at_random_keeps_every_flushed_record
    };
    let round: usize = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let manual = StoreConfig {
        flush: FlushPolicy::Manual,
        ..config()
    };
    let store = Store::open(folder, passphrase(), manual).unwrap();
    println!("READY");
    let mut rng = rand::thread_rng();
    let mut next = round * 1_000_000;
    let mut unflushed = Vec::new();
    loop {
        let count = if rng.gen_bool(0.3) {
            rng.gen_range(2..8)
        } else {
            1
        };
        let numbers: Vec<usize> = (next..next + count).collect();
        next += count;
        let ids = if count == 1 {
            vec![store.put(&sample(numbers[0])).unwrap()]
        } else {
            store
                .put_batch(&numbers.iter().map(|n| sample(*n)).collect::<Vec<_>>())
                .unwrap()
        };
        unflushed.extend(ids.into_iter().zip(numbers));
        if rng.gen_bool(0.2) {
            store.flush().unwrap();
            for (id, n) in unflushed.drain(..) {
                println!("ACK {id} {n}");
            }
        }
    }
}

#[test]
fn a_writer_killed_at_random_keeps_every_flushed_record() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_str().unwrap().to_string();
    let mut rng = rand::thread_rng();
    let mut acknowledged: Vec<(RecordId, usize)> = Vec::new();
    for round in 1..=6 {
        let (child, lines) = spawn_child(
            "crash_child_writer",
            &[(WRITER_ENV, folder.clone()), (ROUND_ENV, round.to_string())],
        );
        wait_for(&lines, "READY");
        thread::sleep(Duration::from_millis(rng.gen_range(30..300)));
        let printed = kill(child, lines);
        let acks_before = acknowledged.len();
        for line in printed.iter().filter_map(|line| after_marker(line, "ACK ")) {
            let (id, n) = line.split_once(' ').unwrap();
            acknowledged.push((id.parse().unwrap(), n.parse().unwrap()));
        }
        assert!(
            acknowledged.len() > acks_before,
            "round {round}: the child acknowledged nothing before it was killed"
        );

        let store = open(dir.path(), passphrase());
        for (id, n) in &acknowledged {
            match store.get(id) {
                Ok(record) => assert_eq!(record.data, sample(*n), "round {round}, record {n}"),
                Err(e) => panic!("round {round}: acknowledged record {n} ({id}) lost: {e}"),
            }
        }
        let all = store.query(&Query::new().limit(usize::MAX)).unwrap();
        assert!(all.unreadable.is_empty(), "round {round}: torn records");
        assert!(all.records.len() >= acknowledged.len());
        let (last_id, last_n) = acknowledged.last().unwrap();
        let hits = store.search(&format!("item{last_n}"), 5).unwrap();
        assert_eq!(hits.len(), 1, "round {round}: index lost an entry");
        assert_eq!(hits[0].id, *last_id);
    }
}

/// Child role: opens the store with the old key and rotates it to the new
/// one, printing `PROGRESS <done> <total>` after each batch.
#[test]
fn crash_child_rotator() {
    let Ok(folder) = std::env::var(ROTATOR_ENV) else {
        return; // only runs as a child of a_rotation_killed_part_way_opens_with_either_key
    };
    let mut store = Store::open(folder, old_key(), config()).unwrap();
    store
        .rotate_key_with_progress(new_key(), |done, total| {
            println!("PROGRESS {done} {total}");
        })
        .unwrap();
    println!("DONE");
}

const ROTATION_RECORDS: usize = 2_000;

/// Opens a copy of `folder` with `key`.
fn open_copy(folder: &Path, copy: PathBuf, key: StoreKey) -> Result<Store, Error> {
    copy_folder(folder, &copy);
    Store::open(copy, key, config())
}

fn assert_every_record_reads(store: &Store, ids: &[RecordId], what: &str) {
    assert_eq!(store.count(), ids.len(), "{what}");
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(store.get(id).unwrap().data, sample(n), "{what}: record {n}");
    }
    assert_eq!(
        store
            .search("transcript", ROTATION_RECORDS + 1)
            .unwrap()
            .len(),
        ROTATION_RECORDS,
        "{what}: index"
    );
    assert_eq!(store.search("item1999", 2).unwrap()[0].id, ids[1999]);
}

#[test]
fn a_rotation_killed_part_way_opens_with_either_key() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    let ids: Vec<RecordId> = {
        let store = open(&original, old_key());
        let data: Vec<_> = (0..ROTATION_RECORDS).map(sample).collect();
        data.chunks(500)
            .flat_map(|chunk| store.put_batch(chunk).unwrap())
            .collect()
    };
    let batches = ROTATION_RECORDS.div_ceil(256);
    let mut rng = rand::thread_rng();
    let mut interrupted = 0;
    for round in 0..4 {
        let folder = dir.path().join(format!("round{round}"));
        copy_folder(&original, &folder);
        let (child, lines) = spawn_child(
            "crash_child_rotator",
            &[(ROTATOR_ENV, folder.to_str().unwrap().to_string())],
        );
        let kill_after = rng.gen_range(1..batches) * 256;
        loop {
            let progress = wait_for(&lines, "PROGRESS ");
            let done: usize = progress.split(' ').next().unwrap().parse().unwrap();
            if done >= kill_after {
                break;
            }
        }
        kill(child, lines);

        let by_old = open_copy(
            &folder,
            dir.path().join(format!("round{round}-old")),
            old_key(),
        );
        let by_new = open_copy(
            &folder,
            dir.path().join(format!("round{round}-new")),
            new_key(),
        );
        match (by_old, by_new) {
            (Ok(old), Ok(new)) => {
                interrupted += 1;
                assert_every_record_reads(&old, &ids, "rolled back to the old key");
                assert_every_record_reads(&new, &ids, "finished with the new key");
                let (old_path, new_path) = (old.path().to_owned(), new.path().to_owned());
                drop((old, new));
                // Each copy converged to the key it was opened with.
                assert!(matches!(
                    Store::open(old_path, new_key(), config()),
                    Err(Error::WrongKey)
                ));
                assert!(matches!(
                    Store::open(new_path, old_key(), config()),
                    Err(Error::WrongKey)
                ));
            }
            (Err(Error::WrongKey), Ok(new)) => {
                assert_every_record_reads(&new, &ids, "rotation completed before the kill");
            }
            (old, new) => panic!(
                "round {round}: old key gave {:?}, new key gave {:?}",
                old.err(),
                new.err()
            ),
        }
    }
    assert!(
        interrupted > 0,
        "no kill landed in the middle of a rotation"
    );
}

//! Fuzzing on stable Rust: structured-random (property) tests with proptest
//! of everything that reads bytes or numbers from outside: the audio decoders
//! and audio preparation, the store's queries, the enhancement rules and
//! queue, and the configuration checks. Each property says what must hold
//! for every input, never just "no panic" alone where more is known.
//!
//! `cargo test -p voiceflow-core --test fuzz` runs [`DEFAULT_CASES`] cases per
//! property (what `make test` runs). A longer run:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test --release -p voiceflow-core --test fuzz
//! ```
//!
//! A failing case is shrunk to a small input and printed; add it as a plain
//! test next to the code it breaks.

mod audio;
mod config;
mod enhance;
mod store;

use proptest::test_runner::Config;

/// Cases per property when `PROPTEST_CASES` is not set: enough to pass over
/// every branch of each generator in `make test`, seconds in all.
const DEFAULT_CASES: u32 = 256;

/// The proptest configuration of every property here: `PROPTEST_CASES` or
/// `default_cases` (scaled down for the costly properties), no regression
/// files written into the source tree.
fn cases(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

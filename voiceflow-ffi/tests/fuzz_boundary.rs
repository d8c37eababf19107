//! Every number a C caller passes, at random: timeouts, sizes, counts,
//! rates, indices, times (zero, huge, NaN, infinite where the type allows).
//! Each call answers `VF_OK` or the documented error status, never
//! `VF_ERROR_PANIC`, and leaves a message saying what was wrong.
//!
//! `cargo test -p voiceflow-ffi --test fuzz_boundary`; a longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p voiceflow-ffi --test fuzz_boundary`.

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;
mod common;

use common::{c_path, model_dir, runtime_library};
use voiceflow::*;
use voiceflow_core::enhance::{Context, EnhanceRequest, Enhancer as _, RuleEnhancer};

/// `PROPTEST_CASES` or `default_cases`, no regression files in the tree.
fn cases(default_cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: None,
        ..Config::default()
    }
}

fn last_error() -> String {
    // SAFETY: `vf_last_error_message` never returns NULL; the string stays
    // valid until the next failing call on this thread, after this copy.
    unsafe { CStr::from_ptr(vf_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// A count with the edges of a small valid range well represented.
fn count() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        1usize..=8,
        Just(usize::MAX),
        Just(isize::MAX as usize),
        any::<usize>(),
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-1.0),
        Just(f64::MAX),
        any::<f64>(),
    ]
}

/// An open enhancer shared by the cases (one worker, a queue of 4).
struct Enhancer(*mut VfEnhancer);
// SAFETY: the C API documents enhancers as usable from any thread at once
// (the library asserts `Send + Sync` for every handle type); this one is
// never freed.
unsafe impl Send for Enhancer {}
// SAFETY: as for `Send`: shared use from many threads is documented.
unsafe impl Sync for Enhancer {}

fn enhancer() -> *const VfEnhancer {
    static ENHANCER: OnceLock<Enhancer> = OnceLock::new();
    ENHANCER
        .get_or_init(|| {
            let mut enhancer = null_mut();
            assert_eq!(
                // SAFETY: `&mut enhancer` is a writable local.
                unsafe { vf_enhancer_new(4, 1, &mut enhancer) },
                VfStatus::VF_OK
            );
            Enhancer(enhancer)
        })
        .0
}

/// The unencrypted store the query cases read, with three records, and the
/// folder that holds it (kept for the life of the test binary).
struct Store {
    handle: *mut VfStore,
    _folder: tempfile::TempDir,
}
// SAFETY: stores are documented as usable from any thread at once; this one
// is never freed, and its folder lives as long as the handle.
unsafe impl Send for Store {}
// SAFETY: as for `Send`: shared use from many threads is documented.
unsafe impl Sync for Store {}

fn store() -> *const VfStore {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut store = null_mut();
            let folder = c_path(&dir.path().join("store"));
            assert_eq!(
                // SAFETY: `folder` is a NUL-terminated string; `&mut store` is a writable local.
                unsafe { vf_store_open_unencrypted(folder.as_ptr(), &mut store) },
                VfStatus::VF_OK
            );
            for text in [c"apple river", c"river stone", c"stone apple"] {
                let mut id = null_mut();
                // SAFETY: `store` is a live store; `context` and `text` are NUL-terminated strings;
                // `&mut id` is a writable local; NULL `enhanced_text` is reported or allowed, never
                // read.
                let status = unsafe {
                    vf_store_put_text(store, c"chat".as_ptr(), text.as_ptr(), null(), &mut id)
                };
                assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
                // SAFETY: `id` is NULL or an owned string of the library, freed once.
                unsafe { vf_string_free(id) };
            }
            Store {
                handle: store,
                _folder: dir,
            }
        })
        .handle
}

/// A tiny.en engine (the model `make test` sets up: its absence fails).
struct Engine(*mut VfEngine);
// SAFETY: engines are documented as usable from any thread at once; this one
// is never freed.
unsafe impl Send for Engine {}
// SAFETY: as for `Send`: shared use from many threads is documented.
unsafe impl Sync for Engine {}

fn engine() -> *const VfEngine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let model = model_dir();
            assert!(
                model.is_dir(),
                "no model at {} (make test sets it up)",
                model.display()
            );
            let runtime = runtime_library();
            // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
            // `false`); the `*_default` call below fills it.
            let mut options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
            // SAFETY: `&mut options` is a writable local.
            unsafe { vf_engine_options_default(&mut options, size_of::<VfEngineOptions>()) };
            options.runtime_library = runtime.as_ptr();
            options.threads = 1;
            let mut engine = null_mut();
            // SAFETY: `c_path(&model)` is a NUL-terminated string; `&options` is an initialised
            // `VfEngineOptions`; `&mut engine` is a writable local.
            let status = unsafe { vf_engine_new(c_path(&model).as_ptr(), &options, &mut engine) };
            assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
            Engine(engine)
        })
        .0
}

/// Which transcription argument a case breaks (the others stay valid, so
/// the call fails before any inference).
#[derive(Debug, Clone)]
enum Broken {
    Rate(u32),
    Channels(u16),
    Count(usize),
    Beam(usize),
    Task(u32),
    Peak(f32),
}

fn broken() -> impl Strategy<Value = Broken> {
    prop_oneof![
        prop_oneof![Just(0u32), 384_001..=u32::MAX].prop_map(Broken::Rate),
        Just(Broken::Channels(0)),
        // Not a whole number of frames for 2 channels.
        (0usize..16).prop_map(|n| Broken::Count(2 * n + 1)),
        prop_oneof![Just(0usize), 129usize..=usize::MAX].prop_map(Broken::Beam),
        (2u32..=u32::MAX).prop_map(Broken::Task),
        prop_oneof![
            Just(f32::NAN),
            Just(f32::INFINITY),
            Just(f32::NEG_INFINITY),
            8.001f32..=f32::MAX,
        ]
        .prop_map(Broken::Peak),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn fuzz_enhancer_sizes_are_ok_or_invalid_argument(capacity in count(), workers in prop_oneof![Just(0usize), 1usize..=4, 1_025usize..=usize::MAX]) {
        let mut enhancer = null_mut();
        // SAFETY: `&mut enhancer` is a writable local.
        let status = unsafe { vf_enhancer_new(capacity, workers, &mut enhancer) };
        let in_range = (1..=65_536).contains(&capacity) && (1..=1_024).contains(&workers);
        if in_range {
            prop_assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
            prop_assert!(!enhancer.is_null());
        } else {
            prop_assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
            prop_assert!(last_error().contains("capacity"), "{}", last_error());
            prop_assert!(enhancer.is_null());
        }
        // SAFETY: `enhancer` is NULL or a live enhancer, freed once and not used after.
        unsafe { vf_enhancer_free(enhancer) };
    }

    #[test]
    fn fuzz_enhance_timeouts_and_contexts(timeout_ms in prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()], context in prop_oneof![0u32..5, any::<u32>()]) {
        let mut out = null_mut();
        // SAFETY: `enhancer()` is a live enhancer; `text` is a NUL-terminated string; `&mut out` is
        // a writable local.
        let status = unsafe { vf_enhancer_enhance(enhancer(), c"um hello comma world".as_ptr(), context, timeout_ms, &mut out) };
        match status {
            VfStatus::VF_OK => {
                prop_assert!(context < 5);
                // SAFETY: on `VF_OK`, `out` is a NUL-terminated string the
                // library made for us, freed only below.
                let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
                // SAFETY: `out` is an owned string of the library, freed once.
                unsafe { vf_string_free(out) };
                // The C call gives what the core's rules give for that context.
                let request = EnhanceRequest::new(Context::ALL[context as usize]);
                let expected = RuleEnhancer.enhance("um hello comma world", &request).unwrap().text;
                prop_assert_eq!(text, expected);
            }
            VfStatus::VF_ERROR_INVALID_ARGUMENT => prop_assert!(context >= 5),
            // A short limit may pass while the worker is busy.
            VfStatus::VF_ERROR_TIMEOUT => prop_assert!(timeout_ms > 0),
            VfStatus::VF_ERROR_QUEUE_FULL => {}
            other => prop_assert!(false, "{other:?}: {}", last_error()),
        }
    }

    #[test]
    fn fuzz_engine_options_are_checked_before_the_model_is_looked_for(
        threads in count(), instances in count(), max_duration in number(),
    ) {
        // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
        // `false`); the `*_default` call below fills it.
        let mut options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
        // SAFETY: `&mut options` is a writable local.
        unsafe { vf_engine_options_default(&mut options, size_of::<VfEngineOptions>()) };
        options.threads = threads;
        options.instances = instances;
        options.max_audio_duration_s = max_duration;
        let mut engine = null_mut();
        // SAFETY: `model_dir` is a NUL-terminated string; `&options` is an initialised
        // `VfEngineOptions`; `&mut engine` is a writable local.
        let status = unsafe { vf_engine_new(c"/nonexistent/voiceflow-fuzz".as_ptr(), &options, &mut engine) };
        let in_range = (1..=1_024).contains(&threads) && (1..=256).contains(&instances) && max_duration > 0.0;
        let expected = if in_range { VfStatus::VF_ERROR_MODEL_NOT_FOUND } else { VfStatus::VF_ERROR_INVALID_ARGUMENT };
        prop_assert_eq!(status, expected, "{}", last_error());
        prop_assert!(engine.is_null());
    }

    #[test]
    fn fuzz_queries_with_any_times_and_limits(
        since_ms in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        until_ms in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        limit in count(),
        search_limit in count(),
    ) {
        // SAFETY: all-zero bytes are a valid `VfQuery` (NULL strings, zeros);
        // the `*_default` call below fills it.
        let mut query = unsafe { std::mem::zeroed::<VfQuery>() };
        // SAFETY: `&mut query` is a writable local.
        unsafe { vf_query_default(&mut query, size_of::<VfQuery>()) };
        query.since_ms = since_ms;
        query.until_ms = until_ms;
        query.limit = limit;
        let mut list = null_mut();
        // SAFETY: `store()` is a live store; `&query` is an initialised `VfQuery`; `&mut list` is a
        // writable local.
        let status = unsafe { vf_store_query(store(), &query, &mut list) };
        if limit == 0 {
            prop_assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
        } else {
            prop_assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
            let mut count = 0;
            // SAFETY: `list` is a live record list; `&mut count` is a writable local.
            unsafe { vf_record_list_count(list, &mut count) };
            prop_assert!(count <= 3 && count <= limit);
            // Any index past the end is an error, not a read out of bounds.
            let mut record = null();
            // SAFETY: `list` is a live record list; `&mut record` is a writable local.
            let status = unsafe { vf_record_list_get(list, count.saturating_add(limit % 7), &mut record) };
            prop_assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
            prop_assert!(record.is_null());
        }
        // SAFETY: `list` is NULL or a live record list, freed once and not used after.
        unsafe { vf_record_list_free(list) };

        let mut found = null_mut();
        // SAFETY: `store()` is a live store; `words` is a NUL-terminated string; `&mut found` is a
        // writable local.
        let status = unsafe { vf_store_search(store(), c"apple".as_ptr(), search_limit, &mut found) };
        if search_limit == 0 {
            prop_assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
        } else {
            prop_assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
            let mut count = 0;
            // SAFETY: `found` is a live record list; `&mut count` is a writable local.
            unsafe { vf_record_list_count(found, &mut count) };
            prop_assert_eq!(count, search_limit.min(2));
        }
        // SAFETY: `found` is NULL or a live record list, freed once and not used after.
        unsafe { vf_record_list_free(found) };
    }

    #[test]
    fn fuzz_key_lengths_and_error_buffer_sizes(key_length in prop_oneof![0usize..=64, Just(usize::MAX), (isize::MAX as usize)..=usize::MAX], capacity in 0usize..=64) {
        let dir = tempfile::tempdir().unwrap();
        let folder = c_path(&dir.path().join("store"));
        let key = [7u8; 64];
        let mut store = null_mut();
        // SAFETY: `folder` is a NUL-terminated string; `key` has 64 bytes, and the
        // library reads it only when `key_length` is 32 (its # Safety); `&mut store` is a
        // writable local.
        let status = unsafe { vf_store_open_with_key(folder.as_ptr(), key.as_ptr(), key_length, &mut store) };
        if key_length == 32 {
            prop_assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
        } else {
            prop_assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
            prop_assert!(store.is_null());
            // The message, copied into a buffer of any size, is cut on a
            // character boundary and NUL-terminated.
            let full = last_error();
            let mut buffer = [0x55 as c_char; 64];
            let mut length = 0;
            // SAFETY: `buffer` has 64 writable bytes and `capacity` is at most 64; `&mut
            // length` is a writable local apart from it.
            let status = unsafe { vf_last_error_copy(buffer.as_mut_ptr(), capacity, &mut length) };
            prop_assert_eq!(status, VfStatus::VF_OK);
            prop_assert_eq!(length, full.len());
            if capacity > 0 {
                // SAFETY: with `capacity` > 0 the call wrote a NUL inside `buffer`.
                let copied = unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_str().unwrap();
                prop_assert!(full.starts_with(copied) && copied.len() < capacity);
            }
        }
        // SAFETY: `store` is NULL or a live store, freed once and not used after.
        unsafe { vf_store_free(store) };
    }
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn fuzz_transcription_arguments_fail_with_their_own_status(broken in broken()) {
        let (mut rate, mut channels, mut count, mut peak) = (16_000u32, 2u16, 3_200usize, 0.5f32);
        // SAFETY: all-zero bytes are a valid `VfTranscribeOptions` (NULL, zeros,
        // `false`, no callback); the `*_default` call below fills it.
        let mut options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
        // SAFETY: `&mut options` is a writable local.
        unsafe { vf_transcribe_options_default(&mut options, size_of::<VfTranscribeOptions>()) };
        let expected = match broken {
            Broken::Rate(r) => { rate = r; VfStatus::VF_ERROR_INVALID_ARGUMENT }
            Broken::Channels(c) => { channels = c; VfStatus::VF_ERROR_INVALID_ARGUMENT }
            Broken::Count(n) => { count = n; VfStatus::VF_ERROR_INVALID_AUDIO }
            Broken::Beam(b) => { options.beam_size = b; VfStatus::VF_ERROR_INVALID_ARGUMENT }
            Broken::Task(t) => { options.task = t; VfStatus::VF_ERROR_INVALID_ARGUMENT }
            Broken::Peak(p) => { peak = p; VfStatus::VF_ERROR_INVALID_AUDIO }
        };
        let mut samples = vec![0.25f32; count];
        if let Some(last) = samples.last_mut() {
            *last = peak;
        }
        let mut transcript = null_mut();
        // SAFETY: `engine()` is a live engine; `&options` is an initialised `VfTranscribeOptions`;
        // `samples.as_ptr()` points to `count` elements; `&mut transcript` is a writable local.
        let status = unsafe {
            vf_engine_transcribe_pcm(engine(), samples.as_ptr(), count, rate, channels, &options, &mut transcript)
        };
        prop_assert_eq!(status, expected, "{:?}: {}", broken, last_error());
        prop_assert!(transcript.is_null());
    }
}

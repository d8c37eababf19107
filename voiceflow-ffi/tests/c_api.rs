//! The C API called from Rust exactly as C calls it: status codes, out
//! pointers, last-error messages; the store and the enhancer end to end.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr::{null, null_mut};

mod common;

use common::{c_path, model_dir};
use voiceflow::*;

fn last_error() -> String {
    // SAFETY: `vf_last_error_message` never returns NULL; the string stays
    // valid until the next failing call on this thread, after this copy.
    let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
    message.to_str().unwrap().to_string()
}

fn borrowed(text: *const c_char) -> String {
    assert!(!text.is_null());
    // SAFETY: not NULL (asserted above): a string the library returned,
    // NUL-terminated and valid while its handle lives, which the callers
    // keep alive across this copy.
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string()
}

/// Takes an owned string from the library, freeing it.
fn owned(text: *mut c_char) -> String {
    let copy = borrowed(text);
    // SAFETY: `text` is an owned string of the library (the callers pass
    // only `char *` results), freed once here and not used after.
    unsafe { vf_string_free(text) };
    copy
}

#[test]
fn null_pointers_and_bad_utf8_are_status_codes_with_messages() {
    let mut engine = std::ptr::dangling_mut::<VfEngine>(); // must be cleared to NULL

    // SAFETY: `&mut engine` is a writable local; NULL `model_dir` and `options` are reported or
    // allowed, never read.
    let status = unsafe { vf_engine_new(null(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    assert!(engine.is_null());
    assert_eq!(last_error(), "NULL pointer passed as `model_dir`");

    // SAFETY: `model_dir` is a NUL-terminated string; NULL `options` and `out_engine` are reported
    // or allowed, never read.
    let status = unsafe { vf_engine_new(c"models/x".as_ptr(), null(), null_mut()) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    assert_eq!(last_error(), "NULL pointer passed as `out_engine`");

    // SAFETY: `model_dir` is a NUL-terminated string; `&mut engine` is a writable local; NULL
    // `options` is reported or allowed, never read.
    let status = unsafe { vf_engine_new(c"mod\xffels".as_ptr(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_UTF8);
    assert_eq!(last_error(), "`model_dir` is not valid UTF-8");

    let mut text = null();
    // SAFETY: `&mut text` is a writable local; NULL `transcript` is reported or allowed, never
    // read.
    let status = unsafe { vf_transcript_text(null(), &mut text) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    // SAFETY: `vf_status_name` returns a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(vf_status_name(status as c_int)) };
    assert_eq!(name.to_str().unwrap(), "VF_ERROR_NULL_POINTER");

    // SAFETY: every free accepts NULL and does nothing with it.
    unsafe {
        vf_engine_free(null_mut());
        vf_transcript_free(null_mut());
        vf_store_free(null_mut());
        vf_record_free(null_mut());
        vf_record_list_free(null_mut());
        vf_enhancer_free(null_mut());
        vf_string_free(null_mut());
    }
}

#[test]
fn a_missing_model_folder_is_model_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let missing = c_path(&dir.path().join("whisper-none"));
    let mut engine = null_mut();
    // SAFETY: `missing` is a NUL-terminated string; `&mut engine` is a writable local; NULL
    // `options` is reported or allowed, never read.
    let status = unsafe { vf_engine_new(missing.as_ptr(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_NOT_FOUND);
    assert!(engine.is_null());
    assert!(last_error().contains("whisper-none"), "{}", last_error());
}

/// An ONNX Runtime error reaches C with its chain: our context, then ONNX
/// Runtime's own message.
#[test]
fn an_onnx_runtime_error_shows_its_cause_in_the_last_error() {
    let model = model_dir();
    let dir = tempfile::tempdir().unwrap();
    for file in ["config.json", "generation_config.json", "tokenizer.json"] {
        std::fs::copy(model.join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("encoder_model.onnx"), b"not an onnx graph").unwrap();
    std::fs::write(dir.path().join("decoder_model_merged.onnx"), b"").unwrap();
    let broken = c_path(dir.path());
    let mut engine = null_mut();
    // SAFETY: `broken` is a NUL-terminated string; `&mut engine` is a writable local; NULL
    // `options` is allowed, never read.
    let status = unsafe { vf_engine_new(broken.as_ptr(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_MALFORMED);
    assert!(engine.is_null());
    let message = last_error();
    assert!(message.starts_with("malformed model file "), "{message}");
    assert!(
        message.contains("onnx: ONNX Runtime cannot load the graph: "),
        "{message}"
    );
    assert!(message.contains("Protobuf parsing failed"), "{message}");
}

#[test]
fn records_go_in_come_back_are_found_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let folder = c_path(&dir.path().join("store"));
    let passphrase = c"correct horse battery staple";
    let mut store = null_mut();
    assert_eq!(
        // SAFETY: `folder` and `passphrase` are NUL-terminated strings; `&mut store` is a writable
        // local.
        unsafe { vf_store_open(folder.as_ptr(), passphrase.as_ptr(), &mut store) },
        VfStatus::VF_OK
    );
    let mut id = null_mut();
    // SAFETY: `store` is a live store; `context`, `raw_text` and `enhanced_text` are NUL-terminated
    // strings; `&mut id` is a writable local.
    let status = unsafe {
        vf_store_put_text(
            store,
            c"email".as_ptr(),
            c"um move the budget meeting to friday".as_ptr(),
            c"Move the budget meeting to Friday.".as_ptr(),
            &mut id,
        )
    };
    assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
    let id = CString::new(owned(id)).unwrap();
    assert_eq!(id.as_bytes().len(), 32);

    let mut record = null_mut();
    assert_eq!(
        // SAFETY: `store` is a live store; `id` is a NUL-terminated string; `&mut record` is a
        // writable local.
        unsafe { vf_store_get(store, id.as_ptr(), &mut record) },
        VfStatus::VF_OK
    );
    let mut text = null();
    // SAFETY: `record` is a live record; `&mut text` is a writable local.
    unsafe { vf_record_raw_text(record, &mut text) };
    assert_eq!(borrowed(text), "um move the budget meeting to friday");
    // SAFETY: `record` is a live record; `&mut text` is a writable local.
    unsafe { vf_record_enhanced_text(record, &mut text) };
    assert_eq!(borrowed(text), "Move the budget meeting to Friday.");
    // SAFETY: `record` is a live record; `&mut text` is a writable local.
    unsafe { vf_record_context(record, &mut text) };
    assert_eq!(borrowed(text), "email");
    // SAFETY: `record` is a live record; `&mut text` is a writable local.
    unsafe { vf_record_id(record, &mut text) };
    assert_eq!(borrowed(text).as_bytes(), id.as_bytes());
    let mut created = 0;
    // SAFETY: `record` is a live record; `&mut created` is a writable local.
    unsafe { vf_record_created_at_ms(record, &mut created) };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(created <= now_ms && now_ms - created < 60_000);
    // SAFETY: `record` is NULL or a live record, freed once and not used after.
    unsafe { vf_record_free(record) };

    let mut list = null_mut();
    assert_eq!(
        // SAFETY: `store` is a live store; `words` is a NUL-terminated string; `&mut list` is a
        // writable local.
        unsafe { vf_store_search(store, c"FRIDAY budget".as_ptr(), 10, &mut list) },
        VfStatus::VF_OK
    );
    let mut count = 0;
    // SAFETY: `list` is a live record list; `&mut count` is a writable local.
    unsafe { vf_record_list_count(list, &mut count) };
    assert_eq!(count, 1);
    let mut found = null();
    assert_eq!(
        // SAFETY: `list` is a live record list; `&mut found` is a writable local.
        unsafe { vf_record_list_get(list, 0, &mut found) },
        VfStatus::VF_OK
    );
    // SAFETY: `found` is a live record; `&mut text` is a writable local.
    unsafe { vf_record_id(found, &mut text) };
    assert_eq!(borrowed(text).as_bytes(), id.as_bytes());
    assert_eq!(
        // SAFETY: `list` is a live record list; `&mut found` is a writable local.
        unsafe { vf_record_list_get(list, 1, &mut found) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    assert!(found.is_null());
    // SAFETY: `list` is NULL or a live record list, freed once and not used after.
    unsafe { vf_record_list_free(list) };

    // SAFETY: `store` is a live store.
    assert_eq!(unsafe { vf_store_flush(store) }, VfStatus::VF_OK);
    assert_eq!(
        // SAFETY: `store` is a live store; `&mut count` is a writable local.
        unsafe { vf_store_count(store, &mut count) },
        VfStatus::VF_OK
    );
    assert_eq!(count, 1);
    assert_eq!(
        // SAFETY: `store` is a live store; `id` is a NUL-terminated string.
        unsafe { vf_store_delete(store, id.as_ptr()) },
        VfStatus::VF_OK
    );
    assert_eq!(
        // SAFETY: `store` is a live store; `id` is a NUL-terminated string; `&mut record` is a
        // writable local.
        unsafe { vf_store_get(store, id.as_ptr(), &mut record) },
        VfStatus::VF_ERROR_NOT_FOUND
    );
    assert_eq!(
        // SAFETY: `store` is a live store; `id` is a NUL-terminated string; `&mut record` is a
        // writable local.
        unsafe { vf_store_get(store, c"not-an-id".as_ptr(), &mut record) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    // SAFETY: `store` is NULL or a live store, freed once and not used after.
    unsafe { vf_store_free(store) };

    // SAFETY: `folder` and `passphrase` are NUL-terminated strings; `&mut store` is a writable
    // local.
    let status = unsafe { vf_store_open(folder.as_ptr(), c"wrong".as_ptr(), &mut store) };
    assert_eq!(status, VfStatus::VF_ERROR_WRONG_KEY);
    assert!(store.is_null());
    let short_key = [7u8; 31];
    // SAFETY: `folder` is a NUL-terminated string; `short_key.as_ptr()` points to `31` elements;
    // `&mut store` is a writable local.
    let status =
        unsafe { vf_store_open_with_key(folder.as_ptr(), short_key.as_ptr(), 31, &mut store) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
    assert_eq!(
        last_error(),
        "invalid argument: a store key has 32 bytes, not 31"
    );
}

/// A long dictation (8 MB): the rule enhancer works on it for a good part
/// of a second (0.9 s in a debug build here).
fn long_text() -> CString {
    CString::new("um so the the rate is twenty five percent comma right ".repeat(150_000)).unwrap()
}

/// An enhancer handle that a helper thread may use (the C API documents
/// enhancers as thread-safe).
struct SharedEnhancer(*const VfEnhancer);
// SAFETY: `VfEnhancer` is thread-safe (its documentation, and the library
// asserts `Send + Sync` for every handle); the test frees it only after
// joining the thread that uses the copy.
unsafe impl Send for SharedEnhancer {}

#[test]
fn the_enhancer_finishes_text_and_reports_timeout_full_queue_and_close() {
    let mut enhancer = null_mut();
    assert_eq!(
        // SAFETY: `&mut enhancer` is a writable local.
        unsafe { vf_enhancer_new(1, 1, &mut enhancer) },
        VfStatus::VF_OK
    );
    let mut out = null_mut();
    // SAFETY: `enhancer` is a live enhancer; `text` is a NUL-terminated string; `&mut out` is a
    // writable local.
    let status = unsafe {
        vf_enhancer_enhance(
            enhancer,
            c"um hello comma world".as_ptr(),
            VF_CONTEXT_CHAT,
            0,
            &mut out,
        )
    };
    assert_eq!(status, VfStatus::VF_OK);
    assert_eq!(owned(out), "Hello, world");

    // A helper thread keeps the only worker busy with a long text (no time
    // limit) for a second or more. Probes with a 1-ms limit then see, in
    // order: an idle worker (served), the long text filling the queue
    // (capacity 1: refused), a probe waiting behind the long text (timed
    // out, its deadline passing in the queue, so it is never processed), and
    // that waiting probe holding the queue's one place (refused at once).
    let long = long_text();
    let busy = {
        let shared = SharedEnhancer(enhancer);
        std::thread::spawn(move || {
            let shared = shared;
            let mut out = null_mut();
            // A probe may hold the queue's place: submit again until accepted.
            let status = loop {
                // SAFETY: `shared.0` is a live enhancer; `long` is a NUL-terminated string;
                // `&mut out` is a writable local.
                let status = unsafe {
                    vf_enhancer_enhance(shared.0, long.as_ptr(), VF_CONTEXT_GENERAL, 0, &mut out)
                };
                if status != VfStatus::VF_ERROR_QUEUE_FULL {
                    break status;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            };
            (
                status,
                if out.is_null() {
                    String::new()
                } else {
                    owned(out)
                },
            )
        })
    };
    let mut timed_out = false;
    loop {
        assert!(
            !busy.is_finished(),
            "the long text ended before a probe waited behind it"
        );
        // SAFETY: `enhancer` is a live enhancer; `text` is a NUL-terminated string; `&mut out` is a
        // writable local.
        let status = unsafe {
            vf_enhancer_enhance(enhancer, c"hi".as_ptr(), VF_CONTEXT_GENERAL, 1, &mut out)
        };
        match status {
            VfStatus::VF_OK => {
                assert!(owned(out).starts_with("Hi"));
                out = null_mut();
                timed_out = false;
            }
            VfStatus::VF_ERROR_TIMEOUT => {
                assert!(out.is_null());
                timed_out = true;
            }
            VfStatus::VF_ERROR_QUEUE_FULL if timed_out => {
                assert!(out.is_null());
                assert_eq!(
                    last_error(),
                    "queue full (capacity 1); request not accepted"
                );
                break;
            }
            VfStatus::VF_ERROR_QUEUE_FULL => {
                assert!(out.is_null());
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            other => panic!("{other:?}: {}", last_error()),
        }
    }
    let (status, text) = busy.join().unwrap();
    assert_eq!(status, VfStatus::VF_OK);
    assert!(
        text.starts_with("So the rate is 25%"),
        "{}",
        &text[..80.min(text.len())]
    );

    // SAFETY: `enhancer` is a live enhancer; `text` is a NUL-terminated string; `&mut out` is a
    // writable local.
    let status = unsafe { vf_enhancer_enhance(enhancer, c"hi".as_ptr(), 9, 0, &mut out) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);

    // SAFETY: `enhancer` is a live enhancer.
    assert_eq!(unsafe { vf_enhancer_close(enhancer) }, VfStatus::VF_OK);
    // SAFETY: `enhancer` is a live enhancer; `text` is a NUL-terminated string; `&mut out` is a
    // writable local.
    let status =
        unsafe { vf_enhancer_enhance(enhancer, c"hi".as_ptr(), VF_CONTEXT_GENERAL, 0, &mut out) };
    assert_eq!(status, VfStatus::VF_ERROR_CLOSED);
    // SAFETY: `enhancer` is NULL or a live enhancer, freed once and not used after.
    unsafe { vf_enhancer_free(enhancer) };
}

/// The raw texts of the records `query` selects, newest first.
fn query_texts(store: *const VfStore, query: &VfQuery) -> Vec<String> {
    let mut list = null_mut();
    // SAFETY: the callers pass a live store and a query from `vf_query_default` whose
    // strings (literals, ids they hold) outlive the call; `&mut list` is a writable local.
    let status = unsafe { vf_store_query(store, query, &mut list) };
    assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
    let mut count = 0;
    // SAFETY: `list` is a live record list; `&mut count` is a writable local.
    unsafe { vf_record_list_count(list, &mut count) };
    let texts = (0..count)
        .map(|index| {
            let mut record = null();
            let mut text = null();
            // SAFETY: `list` is a live record list; `&mut record` is a writable local.
            unsafe { vf_record_list_get(list, index, &mut record) };
            // SAFETY: `record` is a live record; `&mut text` is a writable local.
            unsafe { vf_record_raw_text(record, &mut text) };
            borrowed(text).to_string()
        })
        .collect();
    // SAFETY: `list` is NULL or a live record list, freed once and not used after.
    unsafe { vf_record_list_free(list) };
    texts
}

/// A new unencrypted store in `dir/store`.
fn unencrypted_store(dir: &std::path::Path) -> *mut VfStore {
    let folder = c_path(&dir.join("store"));
    let mut store = null_mut();
    assert_eq!(
        // SAFETY: `folder` is a NUL-terminated string; `&mut store` is a writable local.
        unsafe { vf_store_open_unencrypted(folder.as_ptr(), &mut store) },
        VfStatus::VF_OK
    );
    store
}

#[test]
fn queries_filter_by_context_words_and_time_and_page_with_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = unencrypted_store(dir.path());
    let mut ids = Vec::new();
    for (context, text) in [
        (c"email", c"move the budget meeting to friday"),
        (c"chat", c"budget looks fine"),
        (c"chat", c"lunch on friday"),
    ] {
        let mut id = null_mut();
        // SAFETY: `store` is a live store; `context` and `text` are NUL-terminated strings;
        // `&mut id` is a writable local; NULL `enhanced_text` is reported or allowed, never read.
        let status =
            unsafe { vf_store_put_text(store, context.as_ptr(), text.as_ptr(), null(), &mut id) };
        assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
        ids.push(CString::new(owned(id)).unwrap());
    }

    // SAFETY: all-zero bytes are a valid `VfQuery` (NULL pointers, zeros,
    // `false`, no callbacks); the `*_default` call below fills it.
    let mut query = unsafe { std::mem::zeroed::<VfQuery>() };
    assert_eq!(
        // SAFETY: `&mut query` is a writable local.
        unsafe { vf_query_default(&mut query, size_of::<VfQuery>()) },
        VfStatus::VF_OK
    );
    assert_eq!(query.limit, 50);
    assert_eq!(
        query_texts(store, &query),
        [
            "lunch on friday",
            "budget looks fine",
            "move the budget meeting to friday"
        ]
    );
    query.context = c"chat".as_ptr();
    query.words = c"FRIDAY".as_ptr();
    assert_eq!(query_texts(store, &query), ["lunch on friday"]);

    // SAFETY: all-zero bytes are a valid `VfQuery` (NULL pointers, zeros,
    // `false`, no callbacks); the `*_default` call below fills it.
    let mut page = unsafe { std::mem::zeroed::<VfQuery>() };
    // SAFETY: `&mut page` is a writable local.
    unsafe { vf_query_default(&mut page, size_of::<VfQuery>()) };
    page.limit = 2;
    assert_eq!(query_texts(store, &page).len(), 2);
    page.after = ids[1].as_ptr();
    assert_eq!(
        query_texts(store, &page),
        ["move the budget meeting to friday"]
    );

    // SAFETY: all-zero bytes are a valid `VfQuery` (NULL pointers, zeros,
    // `false`, no callbacks); the `*_default` call below fills it.
    let mut old = unsafe { std::mem::zeroed::<VfQuery>() };
    // SAFETY: `&mut old` is a writable local.
    unsafe { vf_query_default(&mut old, size_of::<VfQuery>()) };
    old.until_ms = 1_000;
    assert!(query_texts(store, &old).is_empty());
    old.until_ms = 0;
    old.after = c"not-an-id".as_ptr();
    let mut list = null_mut();
    // SAFETY: `store` is a live store; `&old` is an initialised `VfQuery`; `&mut list` is a
    // writable local.
    let status = unsafe { vf_store_query(store, &old, &mut list) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
    assert!(list.is_null());
    // SAFETY: `store` is NULL or a live store, freed once and not used after.
    unsafe { vf_store_free(store) };
}

/// Every size-versioned struct: its `vf_*_default` writes `struct_size`
/// bytes and sets the field; 0, a size cut short and a size larger than
/// the library's are `VF_ERROR_INVALID_ARGUMENT` naming the struct, both
/// when filled and when passed in (an uninitialised struct is caught).
#[test]
fn struct_sizes_are_set_by_the_defaults_and_checked_where_read() {
    // SAFETY: all-zero bytes are a valid `VfEngineOptions` (NULL, zeros,
    // `false`); the `*_default` call below fills it.
    let mut engine_options = unsafe { std::mem::zeroed::<VfEngineOptions>() };
    // SAFETY: all-zero bytes are a valid `VfTranscribeOptions` (NULL, zeros,
    // `false`, no callback).
    let mut transcribe_options = unsafe { std::mem::zeroed::<VfTranscribeOptions>() };
    // SAFETY: all-zero bytes are a valid `VfStreamOptions` (NULL, zeros, `false`).
    let mut stream_options = unsafe { std::mem::zeroed::<VfStreamOptions>() };
    // SAFETY: all-zero bytes are a valid `VfStreamCallbacks` (no callbacks).
    let mut callbacks = unsafe { std::mem::zeroed::<VfStreamCallbacks>() };
    // SAFETY: all-zero bytes are a valid `VfQuery` (NULL strings, zeros).
    let mut query = unsafe { std::mem::zeroed::<VfQuery>() };

    // The defaults set `struct_size` (and the other fields).
    // SAFETY: each pointer is a writable local of the size passed.
    let statuses = unsafe {
        [
            vf_engine_options_default(&mut engine_options, size_of::<VfEngineOptions>()),
            vf_transcribe_options_default(
                &mut transcribe_options,
                size_of::<VfTranscribeOptions>(),
            ),
            vf_stream_options_default(&mut stream_options, size_of::<VfStreamOptions>()),
            vf_stream_callbacks_default(&mut callbacks, size_of::<VfStreamCallbacks>()),
            vf_query_default(&mut query, size_of::<VfQuery>()),
        ]
    };
    assert_eq!(statuses, [VfStatus::VF_OK; 5]);
    assert_eq!(engine_options.struct_size, size_of::<VfEngineOptions>());
    assert!(engine_options.batching && engine_options.instances == 1);
    assert_eq!(
        transcribe_options.struct_size,
        size_of::<VfTranscribeOptions>()
    );
    assert_eq!(transcribe_options.beam_size, 1);
    assert!(transcribe_options.timestamps);
    assert_eq!(stream_options.struct_size, size_of::<VfStreamOptions>());
    assert_eq!(stream_options.min_silence_ms, 500);
    assert_eq!(callbacks.struct_size, size_of::<VfStreamCallbacks>());
    assert!(callbacks.on_final.is_none() && callbacks.free_user_data.is_none());
    assert_eq!((query.struct_size, query.limit), (size_of::<VfQuery>(), 50));

    // A size no release had is rejected by the defaults, which write nothing.
    for size in [0, 1, size_of::<VfQuery>() - 8, size_of::<VfQuery>() + 8] {
        let before = query.limit;
        // SAFETY: `&mut query` is a writable `VfQuery`; sizes other than its
        // own are rejected before anything is written.
        let status = unsafe { vf_query_default(&mut query, size) };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT, "{size}");
        assert!(
            last_error().contains("`out_query`: struct_size"),
            "{}",
            last_error()
        );
        assert!(last_error().contains("VfQuery"), "{}", last_error());
        assert_eq!(
            (query.struct_size, query.limit),
            (size_of::<VfQuery>(), before)
        );
    }
    // SAFETY: NULL is reported, never written.
    let status = unsafe { vf_stream_callbacks_default(null_mut(), size_of::<VfStreamCallbacks>()) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);

    // Where a struct is read: 0 (an uninitialised or zeroed struct), a
    // size cut short (inside the last field: no release had it), a newer
    // header's size.
    let sizes = |own: usize| [0, own - 1, own + 8];
    for size in sizes(size_of::<VfEngineOptions>()) {
        let options = VfEngineOptions {
            struct_size: size,
            ..engine_options
        };
        let mut engine = std::ptr::dangling_mut::<VfEngine>();
        // SAFETY: `model_dir` is a NUL-terminated string; `&options` is an
        // initialised `VfEngineOptions` (its size is checked before anything
        // past it could be read); `&mut engine` is a writable local.
        let status = unsafe { vf_engine_new(c"models/none".as_ptr(), &options, &mut engine) };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT, "{size}");
        assert!(engine.is_null());
        let message = last_error();
        assert!(message.contains("`options`: struct_size"), "{message}");
        assert!(message.contains("VfEngineOptions"), "{message}");
    }
    let dir = tempfile::tempdir().unwrap();
    let store = unencrypted_store(dir.path());
    for size in sizes(size_of::<VfQuery>()) {
        let bad = VfQuery {
            struct_size: size,
            ..query
        };
        let mut list = std::ptr::dangling_mut::<VfRecordList>();
        // SAFETY: `store` is a live store; `&bad` is an initialised `VfQuery`
        // (its size is checked before anything past it could be read);
        // `&mut list` is a writable local.
        let status = unsafe { vf_store_query(store, &bad, &mut list) };
        assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT, "{size}");
        assert!(list.is_null());
        assert!(last_error().contains("VfQuery"), "{}", last_error());
    }
    let mut list = null_mut();
    // SAFETY: `store` is a live store; `&query` comes from `vf_query_default`;
    // `&mut list` is a writable local.
    let status = unsafe { vf_store_query(store, &query, &mut list) };
    assert_eq!(status, VfStatus::VF_OK);
    // SAFETY: `list` and `store` are live handles, each freed once here.
    unsafe {
        vf_record_list_free(list);
        vf_store_free(store);
    }
}

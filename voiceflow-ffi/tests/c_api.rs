//! The C API called from Rust exactly as C calls it: status codes, out
//! pointers, last-error messages; the store and the enhancer end to end.

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr::{null, null_mut};

use voiceflow::*;

fn last_error() -> String {
    let message = unsafe { CStr::from_ptr(vf_last_error_message()) };
    message.to_str().unwrap().to_string()
}

fn borrowed(text: *const c_char) -> String {
    assert!(!text.is_null());
    unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string()
}

/// Takes an owned string from the library, freeing it.
fn owned(text: *mut c_char) -> String {
    let copy = borrowed(text);
    unsafe { vf_string_free(text) };
    copy
}

fn path(dir: &std::path::Path) -> CString {
    CString::new(dir.to_str().unwrap()).unwrap()
}

#[test]
fn null_pointers_and_bad_utf8_are_status_codes_with_messages() {
    let mut engine = std::ptr::dangling_mut::<VfEngine>(); // must be cleared to NULL
    let status = unsafe { vf_engine_new(null(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    assert!(engine.is_null());
    assert_eq!(last_error(), "NULL pointer passed as `model_dir`");

    let status = unsafe { vf_engine_new(c"models/x".as_ptr(), null(), null_mut()) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    assert_eq!(last_error(), "NULL pointer passed as `out_engine`");

    let status = unsafe { vf_engine_new(c"mod\xffels".as_ptr(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_UTF8);
    assert_eq!(last_error(), "`model_dir` is not valid UTF-8");

    let mut text = null();
    let status = unsafe { vf_transcript_text(null(), &mut text) };
    assert_eq!(status, VfStatus::VF_ERROR_NULL_POINTER);
    let name = unsafe { CStr::from_ptr(vf_status_name(status as c_int)) };
    assert_eq!(name.to_str().unwrap(), "VF_ERROR_NULL_POINTER");

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
    let missing = path(&dir.path().join("whisper-none"));
    let mut engine = null_mut();
    let status = unsafe { vf_engine_new(missing.as_ptr(), null(), &mut engine) };
    assert_eq!(status, VfStatus::VF_ERROR_MODEL_NOT_FOUND);
    assert!(engine.is_null());
    assert!(last_error().contains("whisper-none"), "{}", last_error());
}

#[test]
fn records_go_in_come_back_are_found_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let folder = path(&dir.path().join("store"));
    let passphrase = c"correct horse battery staple";
    let mut store = null_mut();
    assert_eq!(
        unsafe { vf_store_open(folder.as_ptr(), passphrase.as_ptr(), &mut store) },
        VfStatus::VF_OK
    );
    let mut id = null_mut();
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
        unsafe { vf_store_get(store, id.as_ptr(), &mut record) },
        VfStatus::VF_OK
    );
    let mut text = null();
    unsafe { vf_record_raw_text(record, &mut text) };
    assert_eq!(borrowed(text), "um move the budget meeting to friday");
    unsafe { vf_record_enhanced_text(record, &mut text) };
    assert_eq!(borrowed(text), "Move the budget meeting to Friday.");
    unsafe { vf_record_context(record, &mut text) };
    assert_eq!(borrowed(text), "email");
    unsafe { vf_record_id(record, &mut text) };
    assert_eq!(borrowed(text).as_bytes(), id.as_bytes());
    let mut created = 0;
    unsafe { vf_record_created_at_ms(record, &mut created) };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(created <= now_ms && now_ms - created < 60_000);
    unsafe { vf_record_free(record) };

    let mut list = null_mut();
    assert_eq!(
        unsafe { vf_store_search(store, c"FRIDAY budget".as_ptr(), 10, &mut list) },
        VfStatus::VF_OK
    );
    let mut count = 0;
    unsafe { vf_record_list_count(list, &mut count) };
    assert_eq!(count, 1);
    let mut found = null();
    assert_eq!(
        unsafe { vf_record_list_get(list, 0, &mut found) },
        VfStatus::VF_OK
    );
    unsafe { vf_record_id(found, &mut text) };
    assert_eq!(borrowed(text).as_bytes(), id.as_bytes());
    assert_eq!(
        unsafe { vf_record_list_get(list, 1, &mut found) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    assert!(found.is_null());
    unsafe { vf_record_list_free(list) };

    assert_eq!(unsafe { vf_store_flush(store) }, VfStatus::VF_OK);
    assert_eq!(
        unsafe { vf_store_count(store, &mut count) },
        VfStatus::VF_OK
    );
    assert_eq!(count, 1);
    assert_eq!(
        unsafe { vf_store_delete(store, id.as_ptr()) },
        VfStatus::VF_OK
    );
    assert_eq!(
        unsafe { vf_store_get(store, id.as_ptr(), &mut record) },
        VfStatus::VF_ERROR_NOT_FOUND
    );
    assert_eq!(
        unsafe { vf_store_get(store, c"not-an-id".as_ptr(), &mut record) },
        VfStatus::VF_ERROR_INVALID_ARGUMENT
    );
    unsafe { vf_store_free(store) };

    let status = unsafe { vf_store_open(folder.as_ptr(), c"wrong".as_ptr(), &mut store) };
    assert_eq!(status, VfStatus::VF_ERROR_WRONG_KEY);
    assert!(store.is_null());
    let short_key = [7u8; 31];
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
unsafe impl Send for SharedEnhancer {}

#[test]
fn the_enhancer_finishes_text_and_reports_timeout_full_queue_and_close() {
    let mut enhancer = null_mut();
    assert_eq!(
        unsafe { vf_enhancer_new(1, 1, &mut enhancer) },
        VfStatus::VF_OK
    );
    let mut out = null_mut();
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

    let status = unsafe { vf_enhancer_enhance(enhancer, c"hi".as_ptr(), 9, 0, &mut out) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);

    assert_eq!(unsafe { vf_enhancer_close(enhancer) }, VfStatus::VF_OK);
    let status =
        unsafe { vf_enhancer_enhance(enhancer, c"hi".as_ptr(), VF_CONTEXT_GENERAL, 0, &mut out) };
    assert_eq!(status, VfStatus::VF_ERROR_CLOSED);
    unsafe { vf_enhancer_free(enhancer) };
}

/// The raw texts of the records `query` selects, newest first.
fn query_texts(store: *const VfStore, query: &VfQuery) -> Vec<String> {
    let mut list = null_mut();
    let status = unsafe { vf_store_query(store, query, &mut list) };
    assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
    let mut count = 0;
    unsafe { vf_record_list_count(list, &mut count) };
    let texts = (0..count)
        .map(|index| {
            let mut record = null();
            let mut text = null();
            unsafe { vf_record_list_get(list, index, &mut record) };
            unsafe { vf_record_raw_text(record, &mut text) };
            borrowed(text).to_string()
        })
        .collect();
    unsafe { vf_record_list_free(list) };
    texts
}

#[test]
fn queries_filter_by_context_words_and_time_and_page_with_after() {
    let dir = tempfile::tempdir().unwrap();
    let folder = path(&dir.path().join("store"));
    let mut store = null_mut();
    assert_eq!(
        unsafe { vf_store_open_unencrypted(folder.as_ptr(), &mut store) },
        VfStatus::VF_OK
    );
    let mut ids = Vec::new();
    for (context, text) in [
        (c"email", c"move the budget meeting to friday"),
        (c"chat", c"budget looks fine"),
        (c"chat", c"lunch on friday"),
    ] {
        let mut id = null_mut();
        let status =
            unsafe { vf_store_put_text(store, context.as_ptr(), text.as_ptr(), null(), &mut id) };
        assert_eq!(status, VfStatus::VF_OK, "{}", last_error());
        ids.push(CString::new(owned(id)).unwrap());
    }

    let mut query = unsafe { std::mem::zeroed::<VfQuery>() };
    assert_eq!(unsafe { vf_query_default(&mut query) }, VfStatus::VF_OK);
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

    let mut page = unsafe { std::mem::zeroed::<VfQuery>() };
    unsafe { vf_query_default(&mut page) };
    page.limit = 2;
    assert_eq!(query_texts(store, &page).len(), 2);
    page.after = ids[1].as_ptr();
    assert_eq!(
        query_texts(store, &page),
        ["move the budget meeting to friday"]
    );

    let mut old = unsafe { std::mem::zeroed::<VfQuery>() };
    unsafe { vf_query_default(&mut old) };
    old.until_ms = 1_000;
    assert!(query_texts(store, &old).is_empty());
    old.until_ms = 0;
    old.after = c"not-an-id".as_ptr();
    let mut list = null_mut();
    let status = unsafe { vf_store_query(store, &old, &mut list) };
    assert_eq!(status, VfStatus::VF_ERROR_INVALID_ARGUMENT);
    assert!(list.is_null());
    unsafe { vf_store_free(store) };
}

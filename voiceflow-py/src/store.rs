//! `Store`: the encrypted transcript store, and the `Record`s it returns.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;
use voiceflow_core::dictation;
use voiceflow_core::enhance::RuleEnhancer;
use voiceflow_core::store::{
    self as core, Cursor, Query, RecordContext, RecordData, RecordId, StoreConfig, StoreKey,
};
use voiceflow_core::{Context, Error, Result};

use crate::errors::to_py_err;
use crate::transcript::{segments, Segment, Timings, Transcript};

/// An encrypted transcript store in the folder `path` (created when missing).
///
/// Store(path, passphrase=None, *, key=None, encrypted=True)
///
/// Give exactly one of `passphrase` (stretched with Argon2id) or `key`
/// (32 raw bytes). An unencrypted store is an explicit choice:
/// `encrypted=False` with neither. A wrong key raises WrongKeyError. A
/// folder can be open in one process at a time; close() (or leaving a
/// `with` block) releases it. Thread-safe; the GIL is released while it
/// works.
#[pyclass(frozen, module = "voiceflow")]
pub struct Store(RwLock<Option<core::Store>>);

/// A stored transcript.
#[pyclass(frozen, get_all, module = "voiceflow")]
pub struct Record {
    /// The record's id (time-ordered).
    id: String,
    /// Creation time in milliseconds since the Unix epoch.
    created_at_ms: u64,
    /// Where the text was meant to go (general, email, chat, document,
    /// code, or the user's own label).
    context: String,
    /// The transcript as the model wrote it.
    raw_text: String,
    /// The text after enhancement, when it was enhanced.
    enhanced_text: Option<String>,
    /// Language code (for example "en").
    language: String,
    /// Name of the model that transcribed the audio.
    model: String,
    /// Duration of the audio in seconds.
    duration_s: f64,
    /// Timed segments of the transcript.
    segments: Vec<Segment>,
    /// Time spent per stage of the transcription.
    timings: Timings,
    /// The user's own key/value pairs.
    metadata: BTreeMap<String, String>,
}

impl From<core::Record> for Record {
    fn from(record: core::Record) -> Self {
        let data = record.data;
        Record {
            id: record.id.to_string(),
            created_at_ms: record.created_at_ms,
            context: data.context.label().to_string(),
            segments: segments(&data.segments),
            raw_text: data.raw_text,
            enhanced_text: data.enhanced_text,
            language: data.language,
            model: data.model,
            duration_s: data.audio_duration_s,
            timings: data.timings.into(),
            metadata: data.metadata,
        }
    }
}

#[pymethods]
impl Record {
    /// Creation time as a timezone-aware (UTC) datetime.
    #[getter]
    fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_at_ms)
    }

    fn __repr__(&self) -> String {
        format!(
            "Record(id={:?}, context={:?}, raw_text={:?})",
            self.id, self.context, self.raw_text
        )
    }
}

/// A query time: a timezone-aware datetime at or after the Unix epoch
/// (records carry no earlier times); an earlier one is InvalidArgumentError
/// naming the argument, and a value of another type TypeError.
fn time_arg(name: &str, value: &Bound<'_, PyAny>) -> PyResult<SystemTime> {
    value.extract::<SystemTime>().map_err(|error| {
        if error.is_instance_of::<PyValueError>(value.py()) {
            to_py_err(Error::InvalidArgument(format!(
                "{name} must be at or after 1970-01-01 00:00 UTC ({error})"
            )))
        } else {
            error
        }
    })
}

/// Records as Python sees them.
fn records(records: Vec<core::Record>) -> Vec<Record> {
    records.into_iter().map(Record::from).collect()
}

#[pymethods]
impl Store {
    #[new]
    #[pyo3(signature = (path, passphrase=None, *, key=None, encrypted=true))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        passphrase: Option<String>,
        key: Option<&[u8]>,
        encrypted: bool,
    ) -> PyResult<Self> {
        let key = store_key(passphrase, key, encrypted).map_err(to_py_err)?;
        py.detach(|| core::Store::open(path, key, StoreConfig::default()))
            .map(|store| Store(RwLock::new(Some(store))))
            .map_err(to_py_err)
    }

    /// Stores a transcript (a Transcript, or its text as a str) created now;
    /// returns the new record's id.
    #[pyo3(signature = (transcript, context="general", enhanced_text=None, metadata=None, model=""))]
    fn put(
        &self,
        py: Python<'_>,
        transcript: &Bound<'_, PyAny>,
        context: &str,
        enhanced_text: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
        model: &str,
    ) -> PyResult<String> {
        let context = RecordContext::from_label(context);
        let mut data = if let Ok(transcript) = transcript.cast::<Transcript>() {
            RecordData::from_transcript(&transcript.get().0, context, model)
        } else if let Ok(text) = transcript.extract::<String>() {
            RecordData {
                context,
                raw_text: text,
                model: model.to_string(),
                ..RecordData::default()
            }
        } else {
            return Err(PyTypeError::new_err(
                "transcript must be a Transcript or a str",
            ));
        };
        data.enhanced_text = enhanced_text;
        data.metadata = metadata.unwrap_or_default();
        self.with_store(py, |store| store.put(&data))
            .map(|id| id.to_string())
    }

    /// Finishes `transcript`'s text for `context` (general, email, chat,
    /// document, code) with the rule enhancer and stores both, with its
    /// segments, language, duration and timings, flushed to disk; returns the
    /// stored Record. `model`: the model's name (`Engine.model_info.name`).
    /// `voiceflow.dictate(engine, store, audio, context)` transcribes too.
    #[pyo3(signature = (transcript, context="general", model=""))]
    fn put_finished(
        &self,
        py: Python<'_>,
        transcript: &Bound<'_, Transcript>,
        context: &str,
        model: &str,
    ) -> PyResult<Record> {
        let context: Context = context.parse().map_err(to_py_err)?;
        let transcript = transcript.get().0.clone();
        self.with_store(py, |store| {
            let done = dictation::finish(&RuleEnhancer, store, model, transcript, context)?;
            store.get(&done.id)
        })
        .map(Record::from)
    }

    /// The record with id `id` (NotFoundError when there is none).
    fn get(&self, py: Python<'_>, id: &str) -> PyResult<Record> {
        let id = parse_id(id)?;
        self.with_store(py, |store| store.get(&id))
            .map(Record::from)
    }

    /// Deletes the record `id` (NotFoundError when there is none).
    fn delete(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        let id = parse_id(id)?;
        self.with_store(py, |store| store.delete(&id))
    }

    /// Records whose raw or enhanced text has every word of `words`
    /// (case and punctuation do not matter), newest first.
    #[pyo3(signature = (words, limit=20))]
    fn search(&self, py: Python<'_>, words: &str, limit: usize) -> PyResult<Vec<Record>> {
        self.with_store(py, |store| store.search(words, limit))
            .map(records)
    }

    /// Records newest first: created at or after `since` and before `until`
    /// (timezone-aware datetimes), of one `context`, containing every word
    /// of `words`; at most `limit` (default 50). Records that fail the integrity check
    /// are skipped. For the next page pass the last record's id as `after`.
    #[pyo3(signature = (since=None, until=None, context=None, words=None, limit=None, after=None))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments
    fn query(
        &self,
        py: Python<'_>,
        since: Option<&Bound<'_, PyAny>>,
        until: Option<&Bound<'_, PyAny>>,
        context: Option<&str>,
        words: Option<String>,
        limit: Option<usize>,
        after: Option<&str>,
    ) -> PyResult<Vec<Record>> {
        let mut query = Query::new().limit(limit.unwrap_or(core::DEFAULT_PAGE_SIZE));
        if let Some(since) = since {
            query = query.since(time_arg("since", since)?);
        }
        if let Some(until) = until {
            query = query.until(time_arg("until", until)?);
        }
        if let Some(context) = context {
            query = query.context(RecordContext::from_label(context));
        }
        if let Some(words) = words {
            query = query.words(words);
        }
        if let Some(after) = after {
            query = query.after(after.parse::<Cursor>().map_err(to_py_err)?);
        }
        self.with_store(py, |store| store.query(&query))
            .map(|page| records(page.records))
    }

    /// Makes every write before it durable.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.with_store(py, core::Store::flush)
    }

    /// Whether records are encrypted.
    #[getter]
    fn encrypted(&self, py: Python<'_>) -> PyResult<bool> {
        self.with_store(py, |store| Ok(store.is_encrypted()))
    }

    /// Flushes and closes the store, releasing its folder; later calls raise
    /// ClosedError. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            drop(
                self.0
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(),
            )
        });
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.with_store(py, |store| Ok(store.count()))
    }

    /// Returns the store itself, for `with`.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the store.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }
}

impl Store {
    /// Runs `f` on the open store with the GIL released.
    fn with_store<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&core::Store) -> Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let guard = self.0.read().unwrap_or_else(PoisonError::into_inner);
            f(guard.as_ref().ok_or(Error::Closed("store"))?)
        })
        .map_err(to_py_err)
    }
}

/// The key for the arguments of `Store(...)`.
fn store_key(passphrase: Option<String>, key: Option<&[u8]>, encrypted: bool) -> Result<StoreKey> {
    let invalid = |message: &str| Err(Error::InvalidArgument(message.into()));
    match (passphrase, key, encrypted) {
        (None, None, false) => Ok(StoreKey::unencrypted()),
        (_, _, false) => invalid("an unencrypted store takes no passphrase or key"),
        (Some(passphrase), None, true) => Ok(StoreKey::passphrase(passphrase)),
        (None, Some(key), true) => match <[u8; 32]>::try_from(key) {
            Ok(bytes) => Ok(StoreKey::raw(bytes)),
            Err(_) => invalid("key must be exactly 32 bytes"),
        },
        (Some(_), Some(_), true) => invalid("give a passphrase or a key, not both"),
        (None, None, true) => invalid(
            "give a passphrase or a 32-byte key, or encrypted=False for an unencrypted store",
        ),
    }
}

/// The record id written as `text`.
fn parse_id(text: &str) -> PyResult<RecordId> {
    text.parse().map_err(to_py_err)
}

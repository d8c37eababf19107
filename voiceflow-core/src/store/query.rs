//! Listing and searching: newest first, by time range, context and keywords,
//! a page at a time.

use std::borrow::Cow;
use std::fmt;
use std::ops::Bound;
use std::str::FromStr;
use std::time::SystemTime;

use super::db::{record_id, Store};
use super::id::{unix_ms, RecordId};
use super::index;
use super::kv::{self, Kv, Scan, Tree};
use super::record::{Record, RecordContext};
use super::stats::Op;
use crate::{Error, Result};

/// Records per page when [`Query::limit`] is not set.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// What to list: newest first, optionally within a time range, of one
/// context, or containing keywords. The default lists every record,
/// [`DEFAULT_PAGE_SIZE`] a page.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use voiceflow_core::store::Query;
/// use voiceflow_core::Context;
///
/// let last_week = SystemTime::now() - Duration::from_secs(7 * 24 * 3600);
/// let query = Query::new()
///     .since(last_week)
///     .context(Context::Email)
///     .words("budget meeting")
///     .limit(20);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    context: Option<RecordContext>,
    words: Option<String>,
    limit: usize,
    cursor: Option<Cursor>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            since: None,
            until: None,
            context: None,
            words: None,
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }
}

impl Query {
    /// Every record, newest first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only records created at or after `time`.
    pub fn since(mut self, time: SystemTime) -> Self {
        self.since = Some(time);
        self
    }

    /// Only records created before `time`.
    pub fn until(mut self, time: SystemTime) -> Self {
        self.until = Some(time);
        self
    }

    /// Only records of this context.
    pub fn context(mut self, context: impl Into<RecordContext>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// Only records whose raw or enhanced text contains every word of
    /// `text` (normalised: case and punctuation do not matter).
    pub fn words(mut self, text: impl Into<String>) -> Self {
        self.words = Some(text.into());
        self
    }

    /// At most `limit` records a page (at least 1).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The page after the one that returned `cursor` as [`Page::next`].
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }
}

/// Where a page ended; pass it to [`Query::after`] for the next page. Its
/// text form (the last record's id) can travel through other APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor(RecordId);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        text.parse().map(Cursor)
    }
}

/// One page of a query's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Matching records, newest first.
    pub records: Vec<Record>,
    /// Records in the range that failed the integrity check (altered on
    /// disk); they are skipped, the others still read.
    pub unreadable: Vec<RecordId>,
    /// Where to continue, when the page is full (the next page may be empty).
    pub next: Option<Cursor>,
}

/// The ids a query may return: at or above `lower`, below or at `upper`.
struct Span {
    lower: RecordId,
    upper: Bound<RecordId>,
}

impl Store {
    /// One page of the records that match `query`, newest first.
    ///
    /// Without keywords or a context, this walks the records by id (time);
    /// with them, it intersects the blind-index entries of every keyword and
    /// the context, so it reads only candidate records. Each returned record
    /// is decrypted and checked against the query's words and context.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a limit of 0, keywords without any
    /// word, or a time before the Unix epoch.
    pub fn query(&self, query: &Query) -> Result<Page> {
        self.metrics.timed(Op::Query, || self.run_query(query))
    }

    fn run_query(&self, query: &Query) -> Result<Page> {
        if query.limit == 0 {
            return Err(Error::InvalidArgument(
                "a page holds at least one record".into(),
            ));
        }
        let words = query_words(query.words.as_deref())?;
        let span = self.span(query)?;
        let index_key = self.keyring.index_key();
        let mut tokens = index_key.word_tokens(words.iter().map(String::as_str));
        tokens.extend(
            query
                .context
                .as_ref()
                .map(|context| index_key.context_token(context)),
        );

        let candidates: Box<dyn Iterator<Item = Result<RecordId>>> = if tokens.is_empty() {
            Box::new(newest_first(&*self.kv, &span))
        } else {
            let ids = self.merger.index().ids_with_all(&tokens)?;
            Box::new(
                ids.into_iter()
                    .rev()
                    .filter(move |id| span.contains(id))
                    .map(Ok),
            )
        };
        let mut page = Page {
            records: Vec::new(),
            unreadable: Vec::new(),
            next: None,
        };
        for candidate in candidates {
            let id = candidate?;
            let Some(value) = self.kv.get(Tree::Records, id.as_bytes())? else {
                continue; // deleted meanwhile
            };
            match self.read_value(&id, &value) {
                Ok(record) if matches(&record, &words, query.context.as_ref()) => {
                    page.records.push(record);
                }
                Ok(_) => continue,
                Err(Error::Integrity { .. }) => {
                    page.unreadable.push(id);
                    continue;
                }
                Err(e) => return Err(e),
            }
            if page.records.len() == query.limit {
                page.next = Some(Cursor(id));
                break;
            }
        }
        Ok(page)
    }

    /// Up to `limit` records containing every word of `words`, newest first
    /// (records that fail the integrity check are left out; [`Store::query`]
    /// lists them).
    pub fn search(&self, words: &str, limit: usize) -> Result<Vec<Record>> {
        Ok(self.query(&Query::new().words(words).limit(limit))?.records)
    }

    fn span(&self, query: &Query) -> Result<Span> {
        let lower = match query.since {
            Some(time) => RecordId::first_of_ms(unix_ms(time)?),
            None => RecordId::MIN,
        };
        let until = query
            .until
            .map(|time| unix_ms(time).map(RecordId::first_of_ms))
            .transpose()?;
        let upper = match (until, query.cursor) {
            (Some(until), Some(Cursor(after))) => Bound::Excluded(until.min(after)),
            (Some(bound), None) | (None, Some(Cursor(bound))) => Bound::Excluded(bound),
            (None, None) => Bound::Included(RecordId::MAX),
        };
        Ok(Span { lower, upper })
    }
}

impl Span {
    fn contains(&self, id: &RecordId) -> bool {
        *id >= self.lower
            && match self.upper {
                Bound::Excluded(upper) => *id < upper,
                Bound::Included(upper) => *id <= upper,
                Bound::Unbounded => true,
            }
    }
}

/// The ids of the records within `span`, newest first.
fn newest_first<'k>(kv: &'k dyn Kv, span: &Span) -> impl Iterator<Item = Result<RecordId>> + 'k {
    let upper = span.upper.as_ref().map(|id| id.as_bytes().as_slice());
    let scan = Scan::keys(Tree::Records)
        .within(Bound::Included(span.lower.as_bytes()), upper)
        .rev();
    kv::entries(kv, &scan).map(|entry| record_id(&entry?.0))
}

/// The distinct normalised words of a query's keywords (none without
/// keywords); an error for keywords without any word.
fn query_words(text: Option<&str>) -> Result<Vec<String>> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut words: Vec<String> = index::words(text).map(Cow::into_owned).collect();
    words.sort_unstable();
    words.dedup();
    if words.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{text:?} has no words to search for"
        )));
    }
    Ok(words)
}

/// Whether a decrypted record really has every query word and the context
/// (index tokens are truncated hashes, so this rules out collisions).
fn matches(record: &Record, words: &[String], context: Option<&RecordContext>) -> bool {
    if context.is_some_and(|context| context.label() != record.data.context.label()) {
        return false;
    }
    if words.is_empty() {
        return true;
    }
    let record_words = index::record_words(&record.data);
    words.iter().all(|word| {
        record_words
            .binary_search_by(|have| have.as_ref().cmp(word.as_str()))
            .is_ok()
    })
}

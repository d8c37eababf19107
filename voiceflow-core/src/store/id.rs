//! Record ids: 128 bits, ordered by creation time, unique across processes.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::hex;
use crate::{Error, Result};

/// Length of an id in bytes.
pub(crate) const ID_LEN: usize = 16;
/// Bytes of the id that hold the creation time (48-bit milliseconds).
const TIME_LEN: usize = 6;
/// Bytes of the id that are random (80 bits).
const RANDOM_LEN: usize = ID_LEN - TIME_LEN;
/// The largest creation time an id can hold (about the year 10889).
const MAX_MS: u64 = (1 << (8 * TIME_LEN)) - 1;
/// The largest value of the random part.
const MAX_RANDOM: u128 = (1 << (8 * RANDOM_LEN)) - 1;

/// The identifier of a stored record.
///
/// 16 bytes: the creation time in milliseconds since the Unix epoch (48 bits,
/// big-endian), then 80 random bits. Ids therefore sort by creation time, both
/// as bytes and in their text form (32 lowercase hex digits), and processes
/// that write at the same millisecond still get different ids. Within one
/// process, ids made for the same millisecond increase (the random part is
/// incremented), so the order of `put` calls is kept.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId([u8; ID_LEN]);

/// How many recent milliseconds remember their last id.
const REMEMBERED_MS: usize = 64;

/// The random part of the last id made for each of the most recent
/// milliseconds in this process, so that ids of one millisecond increase
/// whatever other times other threads make ids for meanwhile.
static LAST_RANDOM: Mutex<BTreeMap<u64, u128>> = Mutex::new(BTreeMap::new());

impl RecordId {
    /// The smallest possible id.
    pub(crate) const MIN: RecordId = RecordId([0; ID_LEN]);
    /// The largest possible id.
    pub(crate) const MAX: RecordId = RecordId([0xff; ID_LEN]);

    /// Makes a new id for a record created at `created_at_ms`.
    pub(crate) fn generate(created_at_ms: u64) -> Result<Self> {
        Ok(Self::generate_run(created_at_ms, 1)?[0])
    }

    /// Makes `count` increasing ids for records created at `created_at_ms`
    /// (a batch keeps its order even while other threads make ids for other
    /// times).
    pub(crate) fn generate_run(created_at_ms: u64, count: usize) -> Result<Vec<Self>> {
        if created_at_ms > MAX_MS {
            return Err(Error::InvalidArgument(format!(
                "creation time {created_at_ms} ms is beyond what a record id can hold"
            )));
        }
        let count = count as u128;
        let mut last = LAST_RANDOM.lock().unwrap_or_else(PoisonError::into_inner);
        let fits = |start: u128| {
            start
                .checked_add(count)
                .is_some_and(|end| end <= MAX_RANDOM)
        };
        let start = match last.get(&created_at_ms) {
            Some(&random) if fits(random + 1) => random + 1,
            // A fresh random start with room for the whole run.
            _ => fresh_random() % (MAX_RANDOM - count.min(MAX_RANDOM)),
        };
        last.insert(created_at_ms, start + count.saturating_sub(1));
        if last.len() > REMEMBERED_MS {
            last.pop_first();
        }
        Ok((start..start + count)
            .map(|random| Self::from_parts(created_at_ms, random))
            .collect())
    }

    /// The smallest id of the millisecond `ms` (a range bound).
    pub(crate) fn first_of_ms(ms: u64) -> Self {
        Self::from_parts(ms.min(MAX_MS), 0)
    }

    fn from_parts(ms: u64, random: u128) -> Self {
        let mut bytes = [0u8; ID_LEN];
        bytes[..TIME_LEN].copy_from_slice(&ms.to_be_bytes()[8 - TIME_LEN..]);
        bytes[TIME_LEN..].copy_from_slice(&random.to_be_bytes()[16 - RANDOM_LEN..]);
        RecordId(bytes)
    }

    /// Reads an id from its 16 bytes; `None` when `bytes` has another length.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(RecordId)
    }

    /// The 16 bytes of the id (the record's key in the store).
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// When the record was created, in milliseconds since the Unix epoch.
    pub fn created_at_ms(&self) -> u64 {
        let mut ms = [0u8; 8];
        ms[8 - TIME_LEN..].copy_from_slice(&self.0[..TIME_LEN]);
        u64::from_be_bytes(ms)
    }
}

fn fresh_random() -> u128 {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes[16 - RANDOM_LEN..]);
    u128::from_be_bytes(bytes)
}

/// Milliseconds since the Unix epoch of `time`; an error for times before it.
pub(crate) fn unix_ms(time: SystemTime) -> Result<u64> {
    let since_epoch = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::InvalidArgument(format!("time {time:?} is before the Unix epoch")))?;
    u64::try_from(since_epoch.as_millis())
        .map_err(|_| Error::InvalidArgument(format!("time {time:?} is too far in the future")))
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

impl FromStr for RecordId {
    type Err = Error;

    /// Parses the 32-hex-digit text form.
    fn from_str(text: &str) -> Result<Self> {
        hex::decode(text)
            .and_then(|bytes| Self::from_slice(&bytes))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{text:?} is not a record id (32 hexadecimal digits)"
                ))
            })
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ids_of_one_millisecond_increase_and_keep_the_time() {
        let ms = 1_700_000_000_123;
        let ids: Vec<RecordId> = (0..100).map(|_| RecordId::generate(ms).unwrap()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ids.iter().all(|id| id.created_at_ms() == ms));
    }

    #[test]
    fn a_run_of_ids_increases_while_ids_of_a_later_time_are_made() {
        let ms = 1_700_000_000_456;
        let first = RecordId::generate_run(ms, 10).unwrap();
        // Another thread made an id for a later millisecond in between.
        RecordId::generate(ms + 1).unwrap();
        let second = RecordId::generate_run(ms, 10).unwrap();
        for run in [&first, &second] {
            assert!(run.windows(2).all(|pair| pair[0] < pair[1]));
            assert!(run.iter().all(|id| id.created_at_ms() == ms));
        }
    }

    #[test]
    fn ids_sort_by_time_as_bytes_and_as_text() {
        let older = RecordId::generate(1_000).unwrap();
        let newer = RecordId::generate(2_000).unwrap();
        assert!(older < newer);
        assert!(older.to_string() < newer.to_string());
        assert!(RecordId::first_of_ms(2_000) <= newer);
        assert!(RecordId::first_of_ms(2_001) > newer);
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let id = RecordId::generate(42).unwrap();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<RecordId>().unwrap(), id);
        assert!(matches!(
            "not-an-id".parse::<RecordId>(),
            Err(Error::InvalidArgument(_))
        ));
        assert!("00".parse::<RecordId>().is_err());
    }

    #[test]
    fn times_outside_the_id_range_are_rejected() {
        assert!(RecordId::generate(MAX_MS + 1).is_err());
        assert!(unix_ms(UNIX_EPOCH - Duration::from_secs(1)).is_err());
        assert_eq!(
            unix_ms(UNIX_EPOCH + Duration::from_millis(1234)).unwrap(),
            1234
        );
    }
}

//! The versioned byte form of a record's content (what gets encrypted).
//!
//! A payload is one schema byte followed by the content in that schema.
//! Schema 1 is the JSON form of [`RecordData`]. A later schema adds a new
//! number here; the decoder keeps reading every older number, so records
//! written by earlier versions stay readable (fields added later get their
//! `#[serde(default)]` values).

use super::record::RecordData;
use crate::{Error, Result};

/// The schema this version writes.
const SCHEMA_V1: u8 = 1;

/// Why a payload could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The payload was written in a schema newer than this version knows.
    NewerSchema(u8),
    /// The bytes are not a valid payload.
    Malformed,
}

/// The payload for `data`.
pub(crate) fn encode(data: &RecordData) -> Result<Vec<u8>> {
    let mut payload = vec![SCHEMA_V1];
    serde_json::to_writer(&mut payload, data)
        .map_err(|e| Error::InvalidArgument(format!("record cannot be serialized: {e}")))?;
    Ok(payload)
}

/// The content held in `payload`.
pub(crate) fn decode(payload: &[u8]) -> std::result::Result<RecordData, DecodeError> {
    match payload.split_first() {
        Some((&SCHEMA_V1, json)) => {
            serde_json::from_slice(json).map_err(|_| DecodeError::Malformed)
        }
        Some((&schema, _)) if schema > SCHEMA_V1 => Err(DecodeError::NewerSchema(schema)),
        _ => Err(DecodeError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Segment, Timings};

    #[test]
    fn content_round_trips_exactly() {
        let data = RecordData {
            raw_text: "Grüße, world".into(),
            enhanced_text: Some("Grüße, World.".into()),
            segments: vec![Segment {
                start: 0.1,
                end: 2.7,
                text: "Grüße, world".into(),
                tokens: vec![50364, 17, 4294967295],
                avg_logprob: -0.123_456_79,
                no_speech_prob: 1e-7,
                temperature: 0.2,
            }],
            language: "de".into(),
            model: "base".into(),
            audio_duration_s: 2.75,
            timings: Timings {
                total_s: 0.333_333_333_333_333_3,
                ..Default::default()
            },
            metadata: [("app".to_string(), "mail".to_string())].into(),
            ..Default::default()
        };
        let payload = encode(&data).unwrap();
        assert_eq!(payload[0], SCHEMA_V1);
        assert_eq!(decode(&payload), Ok(data));
    }

    #[test]
    fn older_payloads_without_optional_fields_still_read() {
        let mut payload = vec![SCHEMA_V1];
        payload.extend_from_slice(br#"{"context":"chat","raw_text":"hi"}"#);
        let data = decode(&payload).unwrap();
        assert_eq!(data.raw_text, "hi");
        assert!(data.segments.is_empty() && data.metadata.is_empty());
    }

    #[test]
    fn unknown_schemas_and_garbage_are_told_apart() {
        assert_eq!(decode(&[7, b'{', b'}']), Err(DecodeError::NewerSchema(7)));
        assert_eq!(decode(&[SCHEMA_V1, b'{']), Err(DecodeError::Malformed));
        assert_eq!(decode(&[0]), Err(DecodeError::Malformed));
        assert_eq!(decode(&[]), Err(DecodeError::Malformed));
    }
}

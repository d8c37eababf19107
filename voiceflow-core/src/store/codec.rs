//! The versioned byte form of a record's content (what gets encrypted).
//!
//! A payload is one schema byte followed by the content in that schema.
//! Schema 1 is a compact binary layout, in field order: context label, raw
//! text, enhanced text (a presence byte, then the text), segments (each:
//! start, end, text, token ids, average log-probability, no-speech
//! probability, temperature), language, model, audio duration, the five
//! timings, and the metadata pairs. Texts are a length then UTF-8 bytes;
//! lengths, counts and token ids are LEB128 varints; `f32`/`f64` are
//! little-endian IEEE 754.
//!
//! A later schema gets a new number: the decoder keeps reading every older
//! number (giving fields added later their default), so records written by
//! earlier versions stay readable.

use std::collections::BTreeMap;

use super::record::{RecordContext, RecordData};
use crate::transcript::{Segment, Timings};

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
pub(crate) fn encode(data: &RecordData) -> Vec<u8> {
    let mut out = Writer(Vec::with_capacity(256 + data.raw_text.len() * 2));
    out.byte(SCHEMA_V1);
    out.text(data.context.label());
    out.text(&data.raw_text);
    match &data.enhanced_text {
        Some(text) => {
            out.byte(1);
            out.text(text);
        }
        None => out.byte(0),
    }
    out.varint(data.segments.len() as u64);
    for segment in &data.segments {
        out.f32(segment.start);
        out.f32(segment.end);
        out.text(&segment.text);
        out.varint(segment.tokens.len() as u64);
        for token in &segment.tokens {
            out.varint(u64::from(*token));
        }
        out.f32(segment.avg_logprob);
        out.f32(segment.no_speech_prob);
        out.f32(segment.temperature);
    }
    out.text(&data.language);
    out.text(&data.model);
    out.f64(data.audio_duration_s);
    let t = &data.timings;
    for seconds in [
        t.decode_audio_s,
        t.mel_s,
        t.encoder_s,
        t.decoder_s,
        t.total_s,
    ] {
        out.f64(seconds);
    }
    out.varint(data.metadata.len() as u64);
    for (key, value) in &data.metadata {
        out.text(key);
        out.text(value);
    }
    out.0
}

/// The content held in `payload`.
pub(crate) fn decode(payload: &[u8]) -> Result<RecordData, DecodeError> {
    let mut input = Reader(payload);
    match input.byte()? {
        SCHEMA_V1 => decode_v1(&mut input),
        schema if schema > SCHEMA_V1 => Err(DecodeError::NewerSchema(schema)),
        _ => Err(DecodeError::Malformed),
    }
}

fn decode_v1(input: &mut Reader<'_>) -> Result<RecordData, DecodeError> {
    let context = RecordContext::from_label(&input.text()?);
    let raw_text = input.text()?;
    let enhanced_text = match input.byte()? {
        0 => None,
        1 => Some(input.text()?),
        _ => return Err(DecodeError::Malformed),
    };
    let segments = (0..input.count()?)
        .map(|_| {
            Ok(Segment {
                start: input.f32()?,
                end: input.f32()?,
                text: input.text()?,
                tokens: (0..input.count()?)
                    .map(|_| u32::try_from(input.varint()?).map_err(|_| DecodeError::Malformed))
                    .collect::<Result<_, _>>()?,
                avg_logprob: input.f32()?,
                no_speech_prob: input.f32()?,
                temperature: input.f32()?,
                // Records keep segments without word timestamps.
                words: Vec::new(),
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    let language = input.text()?;
    let model = input.text()?;
    let audio_duration_s = input.f64()?;
    let timings = Timings {
        decode_audio_s: input.f64()?,
        mel_s: input.f64()?,
        encoder_s: input.f64()?,
        decoder_s: input.f64()?,
        total_s: input.f64()?,
    };
    let metadata = (0..input.count()?)
        .map(|_| Ok((input.text()?, input.text()?)))
        .collect::<Result<BTreeMap<_, _>, DecodeError>>()?;
    if !input.0.is_empty() {
        return Err(DecodeError::Malformed);
    }
    Ok(RecordData {
        context,
        raw_text,
        enhanced_text,
        segments,
        language,
        model,
        audio_duration_s,
        timings,
        metadata,
    })
}

struct Writer(Vec<u8>);

impl Writer {
    fn byte(&mut self, byte: u8) {
        self.0.push(byte);
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn text(&mut self, text: &str) {
        self.varint(text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }

    fn f32(&mut self, value: f32) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn f64(&mut self, value: f64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
}

/// The unread rest of a payload.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Malformed)?;
        self.0 = rest;
        Ok(*head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f)
                .checked_shl(shift)
                .filter(|part| part >> shift == u64::from(byte & 0x7f))
                .ok_or(DecodeError::Malformed)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Malformed)
    }

    /// A count of items still to read; never more than the bytes left, so a
    /// damaged count cannot make the decoder allocate without bound.
    fn count(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.varint()?)
            .ok()
            .filter(|count| *count <= self.0.len())
            .ok_or(DecodeError::Malformed)
    }

    fn text(&mut self) -> Result<String, DecodeError> {
        let len = self.count()?;
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Malformed)
    }

    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_le_bytes(self.take()?))
    }

    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_record() -> RecordData {
        RecordData {
            context: RecordContext::Custom("meeting notes".into()),
            raw_text: "Grüße, world".into(),
            enhanced_text: Some("Grüße, World.".into()),
            segments: vec![Segment {
                start: 0.1,
                end: 2.7,
                text: "Grüße, world".into(),
                tokens: vec![0, 127, 128, 50364, u32::MAX],
                avg_logprob: -0.123_456_79,
                no_speech_prob: 1e-7,
                temperature: 0.2,
                words: vec![],
            }],
            language: "de".into(),
            model: "base".into(),
            audio_duration_s: 2.75,
            timings: Timings {
                decode_audio_s: 1e-9,
                mel_s: 0.5,
                encoder_s: 1.25,
                decoder_s: 3.0,
                total_s: 0.333_333_333_333_333_3,
            },
            metadata: [
                ("app".to_string(), "mail".to_string()),
                (String::new(), "empty key".to_string()),
            ]
            .into(),
        }
    }

    #[test]
    fn content_round_trips_exactly() {
        for data in [full_record(), RecordData::default()] {
            let payload = encode(&data);
            assert_eq!(payload[0], SCHEMA_V1);
            assert_eq!(decode(&payload), Ok(data));
        }
    }

    #[test]
    fn the_binary_form_is_compact() {
        let data = full_record();
        let json = serde_json::to_vec(&data).unwrap();
        assert!(encode(&data).len() * 2 < json.len());
    }

    #[test]
    fn every_truncation_and_trailing_garbage_is_malformed() {
        let payload = encode(&full_record());
        for len in 1..payload.len() {
            assert_eq!(
                decode(&payload[..len]),
                Err(DecodeError::Malformed),
                "{len}"
            );
        }
        let mut longer = payload.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(DecodeError::Malformed));
    }

    #[test]
    fn unknown_schemas_and_bad_fields_are_told_apart() {
        assert_eq!(decode(&[7, 0]), Err(DecodeError::NewerSchema(7)));
        assert_eq!(decode(&[0]), Err(DecodeError::Malformed));
        assert_eq!(decode(&[]), Err(DecodeError::Malformed));
        // A huge count, invalid UTF-8, an over-long varint.
        assert_eq!(
            decode(&[SCHEMA_V1, 0xff, 0xff, 0x7f]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(decode(&[SCHEMA_V1, 1, 0xc3]), Err(DecodeError::Malformed));
        let mut long_varint = vec![SCHEMA_V1];
        long_varint.extend([0xff; 11]);
        assert_eq!(decode(&long_varint), Err(DecodeError::Malformed));
    }

    /// Structured-random tests (see `tests/fuzz/main.rs`; `PROPTEST_CASES`
    /// sets the count): the codec is crate-private, so they live here.
    mod fuzz {
        use proptest::prelude::*;

        use super::*;

        fn cases() -> proptest::test_runner::Config {
            proptest::test_runner::Config {
                cases: std::env::var("PROPTEST_CASES")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1024),
                failure_persistence: None,
                ..Default::default()
            }
        }

        fn segment() -> impl Strategy<Value = Segment> {
            (
                (any::<f32>(), any::<f32>(), ".{0,12}"),
                prop::collection::vec(any::<u32>(), 0..6),
                (any::<f32>(), any::<f32>(), any::<f32>()),
            )
                .prop_map(|((start, end, text), tokens, (lp, nsp, t))| Segment {
                    start,
                    end,
                    text,
                    tokens,
                    avg_logprob: lp,
                    no_speech_prob: nsp,
                    temperature: t,
                    words: vec![],
                })
        }

        fn record() -> impl Strategy<Value = RecordData> {
            (
                (".{0,10}", ".{0,40}", prop::option::of(".{0,40}")),
                prop::collection::vec(segment(), 0..4),
                (".{0,4}", ".{0,8}", any::<f64>()),
                prop::array::uniform5(any::<f64>()),
                prop::collection::btree_map(".{0,6}", ".{0,6}", 0..4),
            )
                .prop_map(
                    |(
                        (label, raw, enhanced),
                        segments,
                        (language, model, duration),
                        t,
                        metadata,
                    )| {
                        RecordData {
                            context: RecordContext::from_label(&label),
                            raw_text: raw,
                            enhanced_text: enhanced,
                            segments,
                            language,
                            model,
                            audio_duration_s: duration,
                            timings: Timings {
                                decode_audio_s: t[0],
                                mel_s: t[1],
                                encoder_s: t[2],
                                decoder_s: t[3],
                                total_s: t[4],
                            },
                            metadata,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(cases())]

            /// Any content comes back bit for bit (compared as bytes, so
            /// NaNs count as equal to themselves).
            #[test]
            fn fuzz_codec_round_trips_any_record(data in record()) {
                let payload = encode(&data);
                let decoded = decode(&payload).unwrap();
                prop_assert_eq!(encode(&decoded), payload);
                prop_assert_eq!(decoded.raw_text, data.raw_text);
            }

            /// Any bytes decode or are rejected; what decodes encodes to a
            /// payload that decodes to the same content.
            #[test]
            fn fuzz_codec_arbitrary_bytes_decode_or_are_rejected(
                bytes in prop::collection::vec(any::<u8>(), 0..96),
                schema_one in any::<bool>(),
            ) {
                let mut bytes = bytes;
                if schema_one && !bytes.is_empty() {
                    bytes[0] = SCHEMA_V1;
                }
                match decode(&bytes) {
                    Ok(data) => prop_assert_eq!(decode(&encode(&data)).map(|d| encode(&d)), Ok(encode(&data))),
                    Err(DecodeError::NewerSchema(n)) => prop_assert!(n > SCHEMA_V1 && bytes[0] == n),
                    Err(DecodeError::Malformed) => {}
                }
            }

            /// A valid payload with one byte changed or cut short never
            /// panics the decoder.
            #[test]
            fn fuzz_codec_damaged_payloads_never_panic(
                data in record(),
                at in any::<usize>(),
                byte in any::<u8>(),
                cut in any::<bool>(),
            ) {
                let mut payload = encode(&data);
                let at = at % payload.len();
                if cut {
                    payload.truncate(at);
                } else {
                    payload[at] = byte;
                }
                let _ = decode(&payload);
            }
        }
    }
}

//! What the store keeps: a transcript with its context, texts and metadata.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::id::RecordId;
use crate::transcript::{Segment, Timings, Transcript};
use crate::Context;
use crate::{Error, Result};

/// The longest user label a [`RecordContext::Custom`] may have, in bytes.
pub const MAX_CONTEXT_LABEL_BYTES: usize = 64;

/// Where a transcript was meant to go; records can be filtered by it.
///
/// Either one of the enhancement destinations ([`Context`]: general, email,
/// chat, document, code) or the user's own label. Stored and exported as its
/// label; a custom label equal to a destination's name is that destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordContext {
    /// One of the destinations the enhancer knows.
    Destination(Context),
    /// A label chosen by the user (1 to [`MAX_CONTEXT_LABEL_BYTES`] bytes).
    Custom(String),
}

impl Default for RecordContext {
    fn default() -> Self {
        RecordContext::Destination(Context::default())
    }
}

impl From<Context> for RecordContext {
    fn from(context: Context) -> Self {
        RecordContext::Destination(context)
    }
}

impl RecordContext {
    /// The context's label, as stored and exported.
    pub fn label(&self) -> &str {
        match self {
            RecordContext::Destination(context) => context.as_str(),
            RecordContext::Custom(label) => label,
        }
    }

    /// The context with this label: a destination for its name, otherwise
    /// [`RecordContext::Custom`].
    pub fn from_label(label: &str) -> Self {
        label.parse::<Context>().map_or_else(
            |_| RecordContext::Custom(label.to_string()),
            RecordContext::Destination,
        )
    }

    fn validate(&self) -> Result<()> {
        let label = self.label();
        if label.trim().is_empty() || label.len() > MAX_CONTEXT_LABEL_BYTES {
            return Err(Error::InvalidArgument(format!(
                "context label {label:?} must have 1 to {MAX_CONTEXT_LABEL_BYTES} bytes and not be blank"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for RecordContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for RecordContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for RecordContext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(RecordContext::from_label(&String::deserialize(
            deserializer,
        )?))
    }
}

/// The content of a record: everything but its id and creation time, which
/// the store assigns.
///
/// Build one with [`RecordData::from_transcript`] or with struct update
/// syntax from [`Default`]. Every number must be finite (a non-finite time or
/// score is rejected with [`Error::InvalidArgument`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RecordData {
    /// Where the text was meant to go.
    pub context: RecordContext,
    /// The transcript as the model wrote it.
    pub raw_text: String,
    /// The text after enhancement, when it was enhanced.
    #[serde(default)]
    pub enhanced_text: Option<String>,
    /// Timed segments of the transcript.
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Language code (for example `"en"`).
    #[serde(default)]
    pub language: String,
    /// Name of the model that transcribed the audio.
    #[serde(default)]
    pub model: String,
    /// Duration of the audio in seconds.
    #[serde(default)]
    pub audio_duration_s: f64,
    /// Time spent per stage of the transcription.
    #[serde(default)]
    pub timings: Timings,
    /// The user's own key/value pairs.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl RecordData {
    /// The content of a record for a finished transcription.
    pub fn from_transcript(
        transcript: &Transcript,
        context: impl Into<RecordContext>,
        model: impl Into<String>,
    ) -> Self {
        RecordData {
            context: context.into(),
            raw_text: transcript.text.clone(),
            enhanced_text: None,
            segments: transcript.segments.clone(),
            language: transcript.language.clone(),
            model: model.into(),
            audio_duration_s: transcript.duration_s,
            timings: transcript.timings,
            metadata: BTreeMap::new(),
        }
    }

    /// The texts that keyword search looks in: the raw text and the enhanced
    /// text when there is one.
    pub(crate) fn searchable_texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.raw_text.as_str()).chain(self.enhanced_text.as_deref())
    }

    /// Checks what the store cannot keep or export faithfully.
    pub(crate) fn validate(&self) -> Result<()> {
        self.context.validate()?;
        let timings = &self.timings;
        let mut numbers = vec![
            ("audio_duration_s", self.audio_duration_s),
            ("timings.decode_audio_s", timings.decode_audio_s),
            ("timings.mel_s", timings.mel_s),
            ("timings.encoder_s", timings.encoder_s),
            ("timings.decoder_s", timings.decoder_s),
            ("timings.total_s", timings.total_s),
        ];
        for segment in &self.segments {
            numbers.extend([
                ("segments[].start", f64::from(segment.start)),
                ("segments[].end", f64::from(segment.end)),
                ("segments[].avg_logprob", f64::from(segment.avg_logprob)),
                (
                    "segments[].no_speech_prob",
                    f64::from(segment.no_speech_prob),
                ),
                ("segments[].temperature", f64::from(segment.temperature)),
            ]);
        }
        match numbers.iter().find(|(_, value)| !value.is_finite()) {
            Some((name, value)) => Err(Error::InvalidArgument(format!(
                "record field {name} is {value}; only finite numbers can be stored"
            ))),
            None => Ok(()),
        }
    }
}

/// A stored transcript: its id, creation time and content.
///
/// In JSON (export and import) the content's fields sit next to `id` and
/// `created_at_ms` in one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The record's id (time-ordered).
    pub id: RecordId,
    /// Creation time in milliseconds since the Unix epoch; always the time
    /// held in `id`.
    pub created_at_ms: u64,
    /// The transcript and what goes with it.
    #[serde(flatten)]
    pub data: RecordData,
}

impl Record {
    /// The record with id `id` and content `data`.
    pub(crate) fn new(id: RecordId, data: RecordData) -> Self {
        Record {
            id,
            created_at_ms: id.created_at_ms(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(avg_logprob: f32) -> Segment {
        Segment {
            start: 0.0,
            end: 1.5,
            text: "hello".into(),
            tokens: vec![1, 2],
            avg_logprob,
            no_speech_prob: 0.1,
            temperature: 0.0,
            words: vec![],
        }
    }

    #[test]
    fn context_labels_round_trip() {
        let destinations = Context::ALL.into_iter().map(RecordContext::from);
        for context in destinations.chain([RecordContext::Custom("meeting notes".into())]) {
            assert_eq!(RecordContext::from_label(context.label()), context);
            let json = serde_json::to_string(&context).unwrap();
            assert_eq!(
                serde_json::from_str::<RecordContext>(&json).unwrap(),
                context
            );
        }
        assert_eq!(RecordContext::from_label("email"), Context::Email.into());
    }

    #[test]
    fn blank_or_long_context_labels_are_rejected() {
        for label in [String::new(), "  ".into(), "x".repeat(65)] {
            let data = RecordData {
                context: RecordContext::Custom(label),
                ..Default::default()
            };
            assert!(matches!(data.validate(), Err(Error::InvalidArgument(_))));
        }
    }

    #[test]
    fn non_finite_numbers_are_rejected_with_the_field_name() {
        let data = RecordData {
            segments: vec![segment(-0.2), segment(f32::NEG_INFINITY)],
            ..Default::default()
        };
        let Err(Error::InvalidArgument(message)) = data.validate() else {
            panic!("a non-finite log-probability was accepted");
        };
        assert!(message.contains("avg_logprob"), "{message}");
        let fine = RecordData {
            segments: vec![segment(-0.2)],
            ..Default::default()
        };
        assert!(fine.validate().is_ok());
    }

    #[test]
    fn record_json_has_content_fields_at_the_top() {
        let id = RecordId::generate(1_000).unwrap();
        let record = Record::new(
            id,
            RecordData {
                raw_text: "hi".into(),
                ..Default::default()
            },
        );
        let json: serde_json::Value = serde_json::to_value(&record).unwrap();
        assert_eq!(json["raw_text"], "hi");
        assert_eq!(json["context"], "general");
        assert_eq!(json["created_at_ms"], 1_000);
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }
}

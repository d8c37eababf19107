//! The speech the users send: 16-kHz mono WAV recordings listed with their
//! text in a `manifest.tsv` (`file<TAB>text`, a header line first), such as
//! the project's `tests/fixtures/speech`.

use std::path::Path;
use std::sync::Arc;

use voiceflow_core::transcript::word_errors;
use voiceflow_core::{Error, Result};

/// Sample rate of the fixtures.
pub const RATE: u32 = 16_000;

/// One recording and what it says.
#[derive(Debug, Clone)]
pub struct Clip {
    /// File name.
    pub name: String,
    /// What is said.
    pub text: String,
    /// 16-kHz mono samples.
    pub samples: Arc<[f32]>,
}

impl Clip {
    /// Whether `heard` says this clip's text: at most one word in ten
    /// wrong (one in a short sentence), after case and punctuation are set
    /// aside. More counts as a wrong transcript.
    pub fn heard_right(&self, heard: &str) -> bool {
        let (errors, words) = word_errors(&self.text, heard);
        errors * 10 <= words.max(10)
    }

    /// Seconds of audio.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(RATE)
    }
}

/// Every clip of `folder`'s manifest whose WAV is 16-kHz mono.
pub fn load(folder: &Path) -> Result<Vec<Clip>> {
    let manifest = folder.join("manifest.tsv");
    let text = std::fs::read_to_string(&manifest).map_err(|source| Error::Io {
        path: manifest.clone(),
        source,
    })?;
    let mut clips = Vec::new();
    for line in text.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let Some((file, said)) = line.split_once('\t') else {
            return Err(Error::InvalidArgument(format!(
                "{}: line {line:?} is not FILE<TAB>TEXT",
                manifest.display()
            )));
        };
        let audio = voiceflow_core::audio::read_wav(folder.join(file))?;
        if (audio.sample_rate, audio.channels) == (RATE, 1) {
            clips.push(Clip {
                name: file.to_string(),
                text: said.trim().to_string(),
                samples: audio.samples.into(),
            });
        }
    }
    if clips.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{}: no 16-kHz mono recordings listed",
            manifest.display()
        )));
    }
    Ok(clips)
}

/// A long recording: the clips one after another, each followed by half a
/// second of silence, repeated until `seconds`; and what it says.
pub fn long_recording(clips: &[Clip], seconds: f64) -> Clip {
    let pause = vec![0.0; RATE as usize / 2];
    let mut samples = Vec::new();
    let mut text = Vec::new();
    for clip in clips.iter().cycle() {
        if samples.len() as f64 >= seconds * f64::from(RATE) {
            break;
        }
        samples.extend_from_slice(&clip.samples);
        samples.extend_from_slice(&pause);
        text.push(clip.text.as_str());
    }
    Clip {
        name: format!("{} clips", text.len()),
        text: text.join(" "),
        samples: samples.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(text: &str) -> Clip {
        Clip {
            name: "c.wav".into(),
            text: text.into(),
            samples: vec![0.0; 16_000].into(),
        }
    }

    #[test]
    fn one_wrong_word_in_a_sentence_passes_two_fail() {
        let c = clip("Open the door and turn on the lights in the kitchen.");
        assert!(c.heard_right("open the door and turn on the lights in the kitchen"));
        assert!(c.heard_right("Open the door and turn on the light in the kitchen."));
        assert!(!c.heard_right("Open a door and turn on the light in the kitchen."));
        assert!(!c.heard_right(""));
    }

    #[test]
    fn a_long_recording_repeats_clips_with_pauses() {
        let long = long_recording(&[clip("one"), clip("two")], 3.5);
        // Each clip is 1 s plus 0.5 s: three clips reach 4.5 s.
        assert_eq!(long.text, "one two one");
        assert_eq!(long.samples.len(), 3 * 24_000);
    }
}

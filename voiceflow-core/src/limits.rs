//! The ranges of the numbers a caller passes in [`EngineConfig`] and
//! [`TranscribeOptions`], and the checks that hold them: every count, size
//! and threshold is either accepted or answered [`Error::InvalidArgument`]
//! naming it, never a panic or an allocation of gigabytes (the C and Python
//! bindings pass their callers' numbers straight through).

use crate::config::{EngineConfig, TranscribeOptions};
use crate::{Error, Result};

/// Most ONNX Runtime intra-op threads per model instance: each one is an OS
/// thread started with the session.
pub const MAX_INTRA_OP_THREADS: usize = 1_024;

/// Most model instances per engine: each holds its own encoder and decoder
/// sessions (hundreds of megabytes for the larger models), all loaded by
/// [`crate::Engine::new`].
pub const MAX_INSTANCES: usize = 256;

/// Widest beam: each beam is one row of every decoder call, so the beam
/// width multiplies the decoder's memory and time.
pub const MAX_BEAM_SIZE: usize = 128;

/// Most samples drawn at each temperature above 0 (one decoder row each).
pub const MAX_BEST_OF: usize = 128;

/// Checks an engine configuration before anything is loaded.
///
/// [`Error::InvalidArgument`] when `intra_op_threads` is outside
/// 1..=[`MAX_INTRA_OP_THREADS`], `instances` outside 1..=[`MAX_INSTANCES`],
/// or `max_audio_duration_s` is not a positive number (`f64::INFINITY`
/// means no limit).
pub fn check_engine_config(config: &EngineConfig) -> Result<()> {
    in_range(
        "intra_op_threads",
        config.intra_op_threads,
        MAX_INTRA_OP_THREADS,
    )?;
    in_range("instances", config.instances, MAX_INSTANCES)?;
    if config.max_audio_duration_s.is_nan() || config.max_audio_duration_s <= 0.0 {
        return invalid(format!(
            "max_audio_duration_s must be positive, got {}",
            config.max_audio_duration_s
        ));
    }
    Ok(())
}

/// Checks the options of a transcription that do not depend on the model
/// (the engine checks the language and task against its model).
///
/// [`Error::InvalidArgument`] when `beam_size` is outside
/// 1..=[`MAX_BEAM_SIZE`], `best_of` outside 1..=[`MAX_BEST_OF`], `patience`
/// is not a positive finite number, `temperatures` is empty or holds a
/// value that is not a finite number >= 0, or a threshold is NaN (an
/// infinite threshold is a valid "never" or "always").
pub fn check_transcribe_options(options: &TranscribeOptions) -> Result<()> {
    in_range("beam_size", options.beam_size, MAX_BEAM_SIZE)?;
    in_range("best_of", options.best_of, MAX_BEST_OF)?;
    if !(options.patience.is_finite() && options.patience > 0.0) {
        return invalid(format!(
            "patience must be a positive number, got {}",
            options.patience
        ));
    }
    if options.temperatures.is_empty()
        || options
            .temperatures
            .iter()
            .any(|t| !(t.is_finite() && *t >= 0.0))
    {
        return invalid(format!(
            "temperatures must be a non-empty list of numbers >= 0, got {:?}",
            options.temperatures
        ));
    }
    let thresholds = [
        (
            "compression_ratio_threshold",
            options.compression_ratio_threshold,
        ),
        ("logprob_threshold", options.logprob_threshold),
        ("no_speech_threshold", options.no_speech_threshold),
        (
            "unreliable_no_speech_threshold",
            options.unreliable_no_speech_threshold,
        ),
    ];
    if let Some((name, _)) = thresholds
        .iter()
        .find(|(_, value)| value.is_some_and(f32::is_nan))
    {
        return invalid(format!("{name} must not be NaN"));
    }
    Ok(())
}

/// `value` within 1..=`max`, or an error naming `name`.
fn in_range(name: &str, value: usize, max: usize) -> Result<()> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        invalid(format!("{name} must be 1..={max}, got {value}"))
    }
}

fn invalid(message: String) -> Result<()> {
    Err(Error::InvalidArgument(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(result: Result<()>) -> String {
        match result {
            Err(Error::InvalidArgument(message)) => message,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn defaults_pass() {
        check_engine_config(&EngineConfig::new("m")).unwrap();
        check_transcribe_options(&TranscribeOptions::default()).unwrap();
    }

    #[test]
    fn engine_counts_and_duration_outside_their_ranges_are_named() {
        let with = |f: fn(&mut EngineConfig)| {
            let mut config = EngineConfig::new("m");
            f(&mut config);
            check_engine_config(&config)
        };
        assert!(rejected(with(|c| c.intra_op_threads = 0)).contains("intra_op_threads"));
        assert!(rejected(with(|c| c.intra_op_threads = usize::MAX)).contains("1..=1024"));
        assert!(rejected(with(|c| c.instances = MAX_INSTANCES + 1)).contains("instances"));
        for bad in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            let mut config = EngineConfig::new("m");
            config.max_audio_duration_s = bad;
            assert!(rejected(check_engine_config(&config)).contains("max_audio_duration_s"));
        }
        with(|c| c.max_audio_duration_s = f64::INFINITY).unwrap();
        with(|c| c.instances = MAX_INSTANCES).unwrap();
    }

    #[test]
    fn transcribe_numbers_outside_their_ranges_are_named() {
        let with = |f: fn(&mut TranscribeOptions)| {
            let mut options = TranscribeOptions::default();
            f(&mut options);
            check_transcribe_options(&options)
        };
        assert!(rejected(with(|o| o.beam_size = 0)).contains("beam_size"));
        assert!(rejected(with(|o| o.beam_size = usize::MAX)).contains("beam_size"));
        assert!(rejected(with(|o| o.best_of = MAX_BEST_OF + 1)).contains("best_of"));
        assert!(rejected(with(|o| o.patience = f32::INFINITY)).contains("patience"));
        assert!(rejected(with(|o| o.temperatures = vec![])).contains("temperatures"));
        assert!(rejected(with(|o| o.temperatures = vec![0.0, -0.2])).contains("temperatures"));
        assert!(
            rejected(with(|o| o.unreliable_no_speech_threshold = Some(f32::NAN)))
                .contains("unreliable_no_speech_threshold")
        );
        with(|o| o.logprob_threshold = Some(f32::NEG_INFINITY)).unwrap();
        with(|o| o.beam_size = MAX_BEAM_SIZE).unwrap();
    }
}

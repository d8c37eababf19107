//! The ranges of the numbers a caller passes in [`EngineConfig`] (checked
//! here) and [`crate::TranscribeOptions`] (checked by
//! [`crate::TranscribeOptions::validate`]): every count, size and threshold
//! is either accepted or answered [`Error::InvalidArgument`] (engine) or
//! [`Error::InvalidOption`] (transcription) naming it, never a panic or an
//! allocation of gigabytes (the C and Python bindings pass their callers'
//! numbers straight through).

use crate::config::EngineConfig;
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
}

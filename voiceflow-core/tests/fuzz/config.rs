//! The configuration checks on arbitrary numbers: a value is accepted
//! exactly when it is in its documented range, and an engine with a bad
//! number fails with `InvalidArgument` before any file is read.

use proptest::prelude::*;
use voiceflow_core::limits::{
    check_engine_config, MAX_BEAM_SIZE, MAX_BEST_OF, MAX_INSTANCES, MAX_INTRA_OP_THREADS,
};
use voiceflow_core::{Engine, EngineConfig, Error, TranscribeOptions};

use super::{cases, DEFAULT_CASES};

/// A count: the edges of a range 1..=max and anything else.
fn count(max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(max),
        Just(max + 1),
        Just(usize::MAX),
        any::<usize>(),
        1..=max,
    ]
}

/// Any f64 with the special values well represented.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        any::<f64>(),
        -1e3f64..1e3,
    ]
}

fn threshold() -> impl Strategy<Value = Option<f32>> {
    prop::option::of(prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        any::<f32>(),
    ])
}

proptest! {
    #![proptest_config(cases(DEFAULT_CASES * 4))]

    #[test]
    fn fuzz_engine_config_is_accepted_exactly_in_range(
        threads in count(MAX_INTRA_OP_THREADS),
        instances in count(MAX_INSTANCES),
        max_duration in number(),
    ) {
        let mut config = EngineConfig::new("/nonexistent/voiceflow-fuzz-model");
        config.intra_op_threads = threads;
        config.instances = instances;
        config.max_audio_duration_s = max_duration;
        let in_range = (1..=MAX_INTRA_OP_THREADS).contains(&threads)
            && (1..=MAX_INSTANCES).contains(&instances)
            && max_duration > 0.0;
        let checked = check_engine_config(&config);
        prop_assert_eq!(checked.is_ok(), in_range, "{:?}", checked);
        // The engine checks the numbers before it looks for the model.
        match Engine::new(config) {
            Err(Error::InvalidArgument(_)) => prop_assert!(!in_range),
            Err(Error::ModelNotFound { .. }) => prop_assert!(in_range),
            other => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn fuzz_transcribe_options_are_accepted_exactly_in_range(
        beam_size in count(MAX_BEAM_SIZE),
        best_of in count(MAX_BEST_OF),
        patience in prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(0.0f32), any::<f32>(), 0.1f32..4.0],
        temperatures in prop::collection::vec(
            prop_oneof![4 => 0.0f32..=1.0, 1 => any::<f32>()], 0..8),
        thresholds in (threshold(), threshold(), threshold(), threshold()),
    ) {
        let options = TranscribeOptions {
            beam_size,
            best_of,
            patience,
            temperatures: temperatures.clone(),
            compression_ratio_threshold: thresholds.0,
            logprob_threshold: thresholds.1,
            no_speech_threshold: thresholds.2,
            unreliable_no_speech_threshold: thresholds.3,
            ..TranscribeOptions::default()
        };
        let in_range = (1..=MAX_BEAM_SIZE).contains(&beam_size)
            && (1..=MAX_BEST_OF).contains(&best_of)
            && patience.is_finite()
            && patience > 0.0
            && !temperatures.is_empty()
            && temperatures.iter().all(|t| t.is_finite() && *t >= 0.0)
            && [thresholds.0, thresholds.1, thresholds.2, thresholds.3]
                .iter()
                .all(|t| !t.is_some_and(f32::is_nan));
        match options.validate() {
            Ok(()) => prop_assert!(in_range),
            Err(Error::InvalidOption { .. }) => prop_assert!(!in_range),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

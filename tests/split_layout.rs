//! A model exported with Optimum's split decoder (`decoder_model.onnx` +
//! `decoder_with_past_model.onnx`) transcribes like the merged one. The
//! model is float32 tiny.en converted with `--split` (`scripts/setup.sh model
//! tiny.en-split-float32`, which `make test` runs, or `VOICEFLOW_SPLIT_MODEL_DIR`);
//! without it the test fails, saying so.

mod common;

use common::{config, engine, fixture, split_model_dir};
use voiceflow_core::{Engine, TranscribeOptions};

#[test]
fn the_split_decoder_gives_the_merged_decoders_text() {
    let dir = split_model_dir();
    let split = Engine::new(config(dir)).expect("the split model loads");
    assert_eq!(split.model_info().decoder_layout, "split");
    // The tests' ONNX Runtime library (the onnxruntime wheel's) has no CUDA
    // provider: with or without the `cuda` feature every graph runs on the
    // CPU, and both graphs of the split decoder say so.
    let info = split.model_info();
    assert_eq!(
        (
            info.encoder_provider.as_str(),
            info.decoder_provider.as_str()
        ),
        ("CPU", "CPU")
    );
    for beam_size in [1, 5] {
        let options = TranscribeOptions {
            beam_size,
            ..TranscribeOptions::default()
        };
        for file in ["report.wav", "weather.wav"] {
            let merged = engine().transcribe_file(fixture(file), &options).unwrap();
            let got = split.transcribe_file(fixture(file), &options).unwrap();
            assert_eq!(got.text, merged.text, "{file}, beam {beam_size}");
            assert_eq!(got.segments.len(), merged.segments.len());
        }
    }
}

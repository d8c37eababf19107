//! A model exported with Optimum's split decoder (`decoder_model.onnx` +
//! `decoder_with_past_model.onnx`) transcribes like the merged one. Runs when
//! `VOICEFLOW_SPLIT_MODEL_DIR` names such a folder (for example
//! `scripts/convert_ct2_to_onnx.py CT2_DIR OUT --split`); skipped otherwise.

mod common;

use common::{config, engine, fixture};
use voiceflow_core::{Engine, TranscribeOptions};

#[test]
fn the_split_decoder_gives_the_merged_decoders_text() {
    let Some(dir) = std::env::var_os("VOICEFLOW_SPLIT_MODEL_DIR") else {
        eprintln!("SKIPPED: set VOICEFLOW_SPLIT_MODEL_DIR to a split-decoder model folder");
        return;
    };
    let split = Engine::new(config(dir.into())).expect("the split model loads");
    assert_eq!(split.model_info().decoder_layout, "split");
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

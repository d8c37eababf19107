//! The tokenizer against the reference vectors of the model facts (tiny.en).

mod common;

use voiceflow_core::model::tokenizer::WhisperTokenizer;

fn tokenizer() -> WhisperTokenizer {
    WhisperTokenizer::load(&common::model_dir().join("tokenizer.json"))
        .expect("tiny.en tokenizer.json")
}

/// Greedy tokens of the JFK clip with timestamps (facts 10.2).
const JFK_TIMED: [u32; 27] = [
    50363, 843, 523, 616, 5891, 3399, 1265, 407, 644, 534, 1499, 460, 466, 329, 345, 50763, 50763,
    1265, 644, 345, 460, 466, 329, 534, 1499, 13, 50913,
];

#[test]
fn prompts_encode_with_a_leading_space_and_no_special_tokens() {
    let t = tokenizer();
    assert_eq!(t.encode_prompt("Hello").unwrap(), vec![18435]);
    assert_eq!(t.encode_prompt("  Hello \n").unwrap(), vec![18435]);
    assert_eq!(t.encode(" world").unwrap(), vec![995]);
}

#[test]
fn special_tokens_of_an_english_only_vocabulary() {
    let s = tokenizer().special().clone();
    assert_eq!(
        (s.eot, s.sot, s.sot_prev, s.no_speech),
        (50256, 50257, 50360, 50361)
    );
    assert_eq!((s.no_timestamps, s.timestamp_begin), (50362, 50363));
    assert_eq!((s.translate, s.transcribe), (50357, 50358));
    assert_eq!(s.language_token("en"), Some(50258));
}

#[test]
fn the_jfk_reference_tokens_decode_to_their_text() {
    let t = tokenizer();
    let text: Vec<u32> = vec![
        843, 523, 616, 5891, 3399, 1265, 407, 644, 534, 1499, 460, 466, 329, 345, 11, 1265, 644,
        345, 460, 466, 329, 534, 1499, 13, 50256,
    ];
    assert_eq!(
        t.decode_text(&text),
        " And so my fellow Americans ask not what your country can do for you, ask what you can do for your country."
    );
    // Timestamps are left out of the text (the tokenizer does not know them).
    assert_eq!(
        t.decode_text(&JFK_TIMED),
        " And so my fellow Americans ask not what your country can do for you ask what you can do for your country."
    );
}

#[test]
fn timestamps_render_as_times() {
    assert_eq!(
        tokenizer().decode_with_timestamps(&JFK_TIMED),
        "<|0.00|> And so my fellow Americans ask not what your country can do for you<|8.00|>\
         <|8.00|> ask what you can do for your country.<|11.00|>"
    );
    assert_eq!(
        tokenizer().decode_with_timestamps(&[50257, 51863]),
        "<|startoftranscript|><|30.00|>"
    );
}

//! End to end with the real tiny.en model: speech fixtures in, words out.

mod common;

use std::ops::ControlFlow;

use common::{engine, fixture, manifest, samples, wer, words};
use voiceflow_core::engine::Audio;
use voiceflow_core::{Engine, TranscribeOptions, Transcript};

/// Per-clip bound: one wrong word in a short sentence passes, garbage fails.
const CLIP_WER: f64 = 0.15;
/// Bound over all clips together.
const OVERALL_WER: f64 = 0.08;

fn transcribe_fixture(name: &str, options: &TranscribeOptions) -> Transcript {
    engine()
        .transcribe_file(fixture(name), options)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Transcribes every fixture and checks each clip and the total against the manifest.
fn check_fixtures(options: &TranscribeOptions) {
    check_fixtures_on(engine(), options);
}

/// [`check_fixtures`] on `engine`; returns the transcripts, in the manifest's order.
fn check_fixtures_on(engine: &Engine, options: &TranscribeOptions) -> Vec<Transcript> {
    let (mut errors, mut total, mut transcripts) = (0, 0, Vec::new());
    for (file, reference) in manifest() {
        let t = engine
            .transcribe_file(fixture(&file), options)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let clip = wer(&reference, &t.text);
        eprintln!("{file}: {:?} (WER {clip:.3})", t.text);
        assert!(
            clip <= CLIP_WER,
            "{file}: {:?} vs {reference:?}: WER {clip:.3}",
            t.text
        );
        let (e, n) = common::word_errors(&reference, &t.text);
        errors += e;
        total += n;
        transcripts.push(t);
    }
    let overall = errors as f64 / total as f64;
    assert!(overall <= OVERALL_WER, "overall WER {overall:.3}");
    transcripts
}

#[test]
fn wer_normalises_case_and_punctuation() {
    assert_eq!(wer("Hello, World!", "hello world"), 0.0);
    assert_eq!(wer("a b c d", "a x c"), 0.5);
    assert_eq!(wer("a b", ""), 1.0);
    assert_eq!(words("Don't  stop-now."), vec!["don't", "stop", "now"]);
}

#[test]
fn every_fixture_is_transcribed_greedily() {
    check_fixtures(&TranscribeOptions::default());
}

/// tiny.en with int8 weights, as `voiceflow models install tiny.en` writes
/// it (the CPU's default), with short windows, the fast configuration
/// `scripts/side_by_side.py` measures, hears the fixtures as well as
/// float32 does. (With 30-s windows int8 hears weather.wav's "The weather
/// today" as "But when we're today"; README, Models, says what was tried.)
#[test]
fn the_int8_model_transcribes_every_fixture() {
    let engine = Engine::new(common::config(common::int8_model_dir())).expect("int8 loads");
    check_fixtures_on(
        &engine,
        &TranscribeOptions {
            short_windows: true,
            ..TranscribeOptions::default()
        },
    );
}

/// The multilingual base with int8 weights, as `voiceflow models install
/// base` writes it, detects English and, with short windows, hears the
/// fixtures (with 30-s windows it too hears weather.wav wrong).
#[test]
fn the_int8_base_model_detects_english_and_transcribes_every_fixture() {
    let engine = Engine::new(common::config(common::base_int8_model_dir())).expect("int8 loads");
    assert!(engine.model_info().multilingual);
    let transcripts = check_fixtures_on(
        &engine,
        &TranscribeOptions {
            short_windows: true,
            ..TranscribeOptions::default()
        },
    );
    for t in transcripts {
        assert_eq!(t.language, "en", "{:?}", t.text);
    }
}

#[test]
fn beam_search_transcribes_every_fixture() {
    check_fixtures(&TranscribeOptions {
        beam_size: 5,
        ..TranscribeOptions::default()
    });
}

#[test]
fn other_rates_and_stereo_give_the_same_words() {
    let options = TranscribeOptions::default();
    let reference = words(&transcribe_fixture("calling.wav", &options).text);
    assert!(!reference.is_empty());
    for other in ["calling_44k_stereo.wav", "calling_8k.wav"] {
        assert_eq!(
            words(&transcribe_fixture(other, &options).text),
            reference,
            "{other}"
        );
    }
}

#[test]
fn samples_in_memory_and_interleaved_stereo_work_like_files() {
    let options = TranscribeOptions::default();
    let mono = samples("door.wav");
    let from_samples = engine().transcribe(&mono, 16_000, &options).unwrap();
    let from_file = transcribe_fixture("door.wav", &options);
    assert_eq!(from_samples.text, from_file.text);
    let stereo: Vec<f32> = mono.iter().flat_map(|&s| [s, s]).collect();
    let from_stereo = engine()
        .transcribe_pcm(&stereo, 16_000, 2, &options)
        .unwrap();
    assert_eq!(words(&from_stereo.text), words(&from_file.text));
    let bytes = std::fs::read(fixture("door.wav")).unwrap();
    let from_bytes = engine()
        .transcribe_with(Audio::Bytes(&bytes), &options, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(from_bytes.text, from_file.text);
}

#[test]
fn silence_and_noise_give_no_text() {
    let options = TranscribeOptions::default();
    let silence = vec![0.0f32; 3 * 16_000];
    let t = engine().transcribe(&silence, 16_000, &options).unwrap();
    assert_eq!(t.text, "", "digital silence");
    assert!(t.segments.is_empty());

    // Seeded white noise, amplitude 0.1 (xorshift: no dependency needed).
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<f32> = (0..3 * 16_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * 0.1
        })
        .collect();
    let t = engine().transcribe(&noise, 16_000, &options).unwrap();
    assert_eq!(t.text, "", "white noise");
}

#[test]
fn audio_shorter_than_a_frame_gives_an_empty_transcript() {
    for (samples, rate) in [
        (vec![0.1f32; 1], 16_000),
        (vec![0.1f32; 100], 16_000),
        (vec![0.1f32; 7], 8_000),
    ] {
        let t = engine()
            .transcribe(&samples, rate, &TranscribeOptions::default())
            .unwrap();
        assert_eq!(t.text, "");
        assert!(t.segments.is_empty());
        assert_eq!(t.language, "en");
    }
}

/// ~70 s: the five fixtures three times over with pauses between them.
fn long_clip() -> (Vec<f32>, Vec<String>) {
    let pause = vec![0.0f32; 16_000 * 6 / 5];
    let mut audio = Vec::new();
    let mut sentences = Vec::new();
    for _ in 0..3 {
        for (file, text) in manifest() {
            audio.extend(samples(&file));
            audio.extend_from_slice(&pause);
            sentences.push(text);
        }
    }
    (audio, sentences)
}

#[test]
fn a_long_clip_is_transcribed_completely_with_ordered_segments() {
    let (audio, sentences) = long_clip();
    let duration = audio.len() as f32 / 16_000.0;
    assert!((60.0..80.0).contains(&duration), "{duration} s");
    let t = engine()
        .transcribe(&audio, 16_000, &TranscribeOptions::default())
        .unwrap();
    eprintln!("{}", t.text);

    let reference = sentences.join(" ");
    let overall = wer(&reference, &t.text);
    assert!(overall <= CLIP_WER, "WER {overall:.3}: {:?}", t.text);
    let heard = words(&t.text);
    for sentence in &sentences {
        let missing: Vec<String> = words(sentence)
            .into_iter()
            .filter(|w| !heard.contains(w))
            .collect();
        assert!(missing.len() <= 1, "{sentence:?}: missing {missing:?}");
    }
    // Each of the 15 sentences is heard: the content words appear 3 times.
    assert_eq!(heard.iter().filter(|w| *w == "sailor").count(), 3);
    assert_eq!(heard.iter().filter(|w| *w == "kitchen").count(), 3);

    assert!(t.segments.len() >= 3, "{} segments", t.segments.len());
    let mut previous_end = 0.0f32;
    for s in &t.segments {
        assert!(s.start < s.end, "{s:?}");
        assert!(
            s.start >= previous_end,
            "overlap at {s:?} (previous end {previous_end})"
        );
        assert!(s.end <= duration + 0.01, "{s:?} beyond {duration} s");
        previous_end = s.end;
    }
    assert!(
        previous_end > duration - 10.0,
        "the last segment ends at {previous_end} of {duration} s"
    );
    assert!((t.duration_s - f64::from(duration)).abs() < 0.01);
}

#[test]
fn segments_are_reported_as_they_come_and_the_callback_can_stop() {
    let (audio, _) = long_clip();
    let pcm = Audio::Pcm {
        samples: &audio,
        sample_rate: 16_000,
        channels: 1,
    };
    let options = TranscribeOptions::default();
    let mut seen = Vec::new();
    let t = engine()
        .transcribe_with(pcm, &options, &mut |segment, progress| {
            seen.push((segment.text.clone(), progress));
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen.len(), 1, "stopped after the first segment");
    assert_eq!(t.segments.len(), 1);
    assert_eq!(t.segments[0].text, seen[0].0);
    let progress = seen[0].1;
    assert!(
        progress.done_s > 0.0 && progress.done_s < progress.total_s,
        "{progress:?}"
    );
    assert!((progress.total_s - audio.len() as f64 / 16_000.0).abs() < 0.02);
}

#[test]
fn without_timestamps_the_words_are_the_same() {
    let options = TranscribeOptions {
        timestamps: false,
        ..TranscribeOptions::default()
    };
    let t = transcribe_fixture("sailor.wav", &options);
    assert_eq!(t.segments.len(), 1);
    assert!(
        wer(
            "My favorite book is about a sailor who crosses the ocean alone.",
            &t.text
        ) <= CLIP_WER
    );
    assert!(t.segments[0].end > 3.0);
}

#[test]
fn an_initial_prompt_is_accepted() {
    let options = TranscribeOptions {
        initial_prompt: Some("Quarterly finance report.".into()),
        ..TranscribeOptions::default()
    };
    let t = transcribe_fixture("report.wav", &options);
    assert!(
        wer(
            "Please send the quarterly report to the finance team by Friday.",
            &t.text
        ) <= CLIP_WER
    );
}

#[test]
fn transcripts_carry_language_segments_and_timings() {
    let t = transcribe_fixture("report.wav", &TranscribeOptions::default());
    assert_eq!(t.language, "en");
    assert_eq!(t.language_probability, 1.0);
    assert!((t.duration_s - 4.41).abs() < 0.05, "{}", t.duration_s);
    let s = &t.segments[0];
    assert!(s.avg_logprob < 0.0 && s.avg_logprob > -1.0);
    assert!(s.no_speech_prob < 0.5);
    assert!(!s.tokens.is_empty() && s.tokens.iter().all(|&id| id < 50256));
    let timings = t.timings;
    assert!(timings.mel_s > 0.0 && timings.encoder_s > 0.0 && timings.decoder_s > 0.0);
    let stages = timings.decode_audio_s + timings.mel_s + timings.encoder_s + timings.decoder_s;
    assert!(timings.total_s >= stages * 0.99, "{timings:?}");
}

#[test]
fn model_info_describes_tiny_en() {
    let info = engine().model_info();
    assert_eq!(info.name, "whisper-tiny.en-float32");
    assert!(!info.multilingual);
    assert_eq!(info.languages, vec!["en"]);
    assert_eq!(
        (info.n_mels, info.d_model, info.decoder_layers),
        (80, 384, 4)
    );
    assert_eq!(info.vocab_size, 51864);
}

#[test]
fn four_threads_at_once_get_their_own_text() {
    let files = ["report.wav", "weather.wav", "door.wav", "sailor.wav"];
    let expected: Vec<String> = files
        .iter()
        .map(|f| manifest().into_iter().find(|(m, _)| m == f).unwrap().1)
        .collect();
    let texts: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| scope.spawn(move || transcribe_fixture(f, &TranscribeOptions::default()).text))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ((file, reference), text) in files.iter().zip(&expected).zip(&texts) {
        assert!(wer(reference, text) <= CLIP_WER, "{file}: {text:?}");
    }
}

#[test]
fn one_registry_reports_the_engine_the_enhancer_and_the_store() {
    use std::sync::Arc;
    use voiceflow_core::enhance::PipelineConfig;
    use voiceflow_core::enhance::{Context, EnhancePipeline, EnhanceRequest, Job, RuleEnhancer};
    use voiceflow_core::metrics::Metrics;
    use voiceflow_core::store::{RecordData, Store, StoreConfig, StoreKey};
    use voiceflow_core::Engine;

    let metrics = Arc::new(Metrics::new());
    let engine =
        Engine::with_metrics(common::config(common::model_dir()), metrics.clone()).unwrap();
    let options = TranscribeOptions {
        language: Some("en".into()),
        ..TranscribeOptions::default()
    };
    let transcript = engine
        .transcribe_file(fixture("report.wav"), &options)
        .unwrap();
    // A second request stopped by its callback after the first segment.
    engine
        .transcribe_with(
            Audio::File(&fixture("report.wav")),
            &options,
            &mut |_, _| ControlFlow::Break(()),
        )
        .unwrap();
    assert!(engine
        .transcribe_file(fixture("missing.wav"), &options)
        .is_err());

    let pipeline =
        EnhancePipeline::with_metrics(RuleEnhancer, PipelineConfig::default(), metrics.clone())
            .unwrap();
    let job = Job::new(transcript.text.clone(), EnhanceRequest::new(Context::Email));
    let enhanced = pipeline.submit(job).unwrap().wait().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let store_config = StoreConfig {
        metrics: Some(metrics.clone()),
        ..StoreConfig::default()
    };
    let store = Store::open(folder.path(), StoreKey::unencrypted(), store_config).unwrap();
    let id = store
        .put(&RecordData {
            raw_text: transcript.text.clone(),
            enhanced_text: Some(enhanced.text),
            ..RecordData::default()
        })
        .unwrap();
    assert!(store.get(&id).is_ok());
    engine.close();
    assert!(engine
        .transcribe_file(fixture("report.wav"), &options)
        .is_err());

    let snapshot = engine.metrics().snapshot();
    let requests = |outcome| snapshot.counter("voiceflow_requests_total", &[("outcome", outcome)]);
    assert_eq!(
        [
            "admitted",
            "completed",
            "cancelled",
            "failed",
            "rejected",
            "timed_out"
        ]
        .map(requests),
        [Some(3), Some(1), Some(1), Some(1), Some(1), Some(0)]
    );
    // Both transcriptions that ran are timed stage by stage; the audio
    // histogram sums the seconds of audio processed (report.wav twice).
    let audio = snapshot.histogram("voiceflow_audio_seconds", &[]).unwrap();
    assert_eq!(audio.count, 2);
    assert!((audio.sum - 2.0 * transcript.duration_s).abs() < 1e-9);
    assert!((audio.max - transcript.duration_s).abs() < 1e-9);
    for stage in [
        "voiceflow_audio_prepare_seconds",
        "voiceflow_mel_seconds",
        "voiceflow_request_encoder_seconds",
        "voiceflow_request_decoder_seconds",
        "voiceflow_transcription_seconds",
    ] {
        let v = snapshot.histogram(stage, &[]).unwrap();
        assert_eq!(v.count, 2, "{stage}");
        assert!(v.p50 <= v.p99 && v.p99 <= v.max, "{stage}: {v:?}");
    }
    // Every admitted request waited for its turn, the failed one included.
    let wait = snapshot
        .histogram("voiceflow_queue_wait_seconds", &[])
        .unwrap();
    assert_eq!(wait.count, 3);
    let total = snapshot
        .histogram("voiceflow_transcription_seconds", &[])
        .unwrap();
    assert!(total.max >= transcript.timings.total_s.min(total.max) && total.sum > 0.0);

    let text = metrics.to_prometheus();
    for line in [
        "voiceflow_requests_total{outcome=\"completed\"} 1\n",
        "voiceflow_audio_seconds_count 2\n",
        "voiceflow_audio_seconds_bucket{le=\"+Inf\"} 2\n",
        "enhance_requests_total{context=\"email\",outcome=\"completed\"} 1\n",
        "voiceflow_store_operation_seconds_count{op=\"put\"} 1\n",
        "voiceflow_store_operation_seconds_count{op=\"get\"} 1\n",
        "voiceflow_store_records_written_total 1\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
}

#[test]
fn short_windows_hear_every_fixture_and_a_recording_past_30_s() {
    let options = TranscribeOptions {
        short_windows: true,
        ..TranscribeOptions::default()
    };
    check_fixtures(&options);
    // Every fixture twice with a second of silence after each (about 45 s):
    // a 30-s window, then a short one for the rest.
    let gap = vec![0.0f32; 16_000];
    let clips: Vec<(String, String)> = manifest().into_iter().chain(manifest()).collect();
    let audio: Vec<f32> = clips
        .iter()
        .flat_map(|(file, _)| [samples(file), gap.clone()].concat())
        .collect();
    assert!(audio.len() > 40 * 16_000);
    let reference: Vec<&str> = clips.iter().map(|(_, text)| text.as_str()).collect();
    let heard = engine().transcribe(&audio, 16_000, &options).unwrap();
    let long = wer(&reference.join(" "), &heard.text);
    assert!(long <= OVERALL_WER, "WER {long:.3}: {:?}", heard.text);
    assert!(heard
        .segments
        .windows(2)
        .all(|p| p[0].end <= p[1].start + 1e-3));
    assert!(heard.segments.last().unwrap().end as usize <= audio.len() / 16_000 + 1);
}

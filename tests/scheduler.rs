//! The scheduler with the real tiny.en model: many callers at once get
//! exactly the tokens they get alone, admission control refuses or times out
//! instead of hanging, close() answers everyone, and a callback may start
//! another transcription on the same engine.

mod common;

use std::ops::ControlFlow;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{config, model_dir, samples, words};
use voiceflow_core::engine::Audio;
use voiceflow_core::{Engine, Error, SchedulerConfig, TranscribeOptions};

/// What tiny.en hears in report.wav, word for word.
const REPORT: &str = "Please send the quarterly report to the finance team by Friday.";

/// An engine with its own scheduler settings.
fn engine_with(scheduler: SchedulerConfig) -> Engine {
    let mut config = config(model_dir());
    config.instances = 1;
    config.intra_op_threads = 2;
    config.scheduler = scheduler;
    Engine::new(config).expect("tiny.en")
}

/// Audio of different lengths: each fixture, two fixtures joined by half a
/// second of silence, and one of 37 s (two windows).
fn clips() -> Vec<Vec<f32>> {
    let names = [
        "report.wav",
        "weather.wav",
        "door.wav",
        "calling.wav",
        "sailor.wav",
    ];
    let gap = vec![0.0f32; 8_000];
    let mut clips: Vec<Vec<f32>> = names.iter().map(|n| samples(n)).collect();
    for pair in [[0, 1], [2, 3], [4, 0]] {
        clips.push(
            [
                samples(names[pair[0]]),
                gap.clone(),
                samples(names[pair[1]]),
            ]
            .concat(),
        );
    }
    let long: Vec<f32> = names
        .iter()
        .cycle()
        .take(10)
        .flat_map(|n| [samples(n), gap.clone()].concat())
        .collect();
    assert!(long.len() > 30 * 16_000, "the long clip spans two windows");
    clips.push(long);
    clips
}

/// Every segment's tokens, in order.
fn tokens(engine: &Engine, clip: &[f32], options: &TranscribeOptions) -> Vec<Vec<u32>> {
    engine
        .transcribe(clip, 16_000, options)
        .expect("transcription")
        .segments
        .into_iter()
        .map(|s| s.tokens)
        .collect()
}

fn greedy() -> TranscribeOptions {
    TranscribeOptions::default()
}

fn beam() -> TranscribeOptions {
    TranscribeOptions {
        beam_size: 5,
        ..TranscribeOptions::default()
    }
}

#[test]
fn fifty_callers_at_once_get_the_tokens_they_get_alone() {
    let engine = engine_with(SchedulerConfig::default());
    let clips = clips();
    let options = [greedy(), beam()];
    // References: each clip alone, greedy and with beam search.
    let alone: Vec<Vec<Vec<Vec<u32>>>> = clips
        .iter()
        .map(|clip| options.iter().map(|o| tokens(&engine, clip, o)).collect())
        .collect();
    let callers = 50;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|i| {
                let (engine, clips, options) = (&engine, &clips, &options);
                s.spawn(move || {
                    // Different start times: later callers join batches already running.
                    std::thread::sleep(Duration::from_millis(7 * i as u64));
                    let clip = i % clips.len();
                    let strategy = i % 2;
                    (
                        clip,
                        strategy,
                        tokens(engine, &clips[clip], &options[strategy]),
                    )
                })
            })
            .collect();
        for handle in handles {
            let (clip, strategy, got) = handle.join().expect("caller thread");
            assert_eq!(
                got,
                alone[clip][strategy],
                "clip {clip} ({}) differs inside the batch",
                ["greedy", "beam 5"][strategy]
            );
        }
    });
    let snapshot = engine.metrics().snapshot();
    let rows = snapshot
        .histogram("voiceflow_decoder_batch_size", &[])
        .expect("decoder batch sizes");
    eprintln!(
        "{} decoder steps, {:.2} rows per step",
        rows.count, rows.mean
    );
}

/// Holds the first caller inside its segment callback (with its place
/// taken) until the returned barrier is passed twice.
fn occupy(engine: &Engine, gate: Arc<Barrier>) -> impl FnOnce() + Send + '_ {
    move || {
        let clip = samples("report.wav");
        let mut held = false;
        engine
            .transcribe_with(
                Audio::Pcm {
                    samples: &clip,
                    sample_rate: 16_000,
                    channels: 1,
                },
                &greedy(),
                &mut |_, _| {
                    if !held {
                        held = true;
                        gate.wait(); // the engine is busy
                        gate.wait(); // the other caller is done
                    }
                    ControlFlow::Continue(())
                },
            )
            .expect("first caller");
    }
}

#[test]
fn a_full_engine_refuses_at_once_and_a_waiting_caller_times_out() {
    let engine = engine_with(SchedulerConfig {
        max_concurrent: 1,
        max_queued: 0,
        ..SchedulerConfig::default()
    });
    let gate = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(occupy(&engine, Arc::clone(&gate)));
        gate.wait();
        let clip = samples("door.wav");
        let started = Instant::now();
        match engine.transcribe(&clip, 16_000, &greedy()) {
            Err(Error::Overloaded { running, queued }) => assert_eq!((running, queued), (1, 0)),
            other => panic!("expected Overloaded, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused at once"
        );
        gate.wait();
    });

    let engine = engine_with(SchedulerConfig {
        max_concurrent: 1,
        max_queued: 1,
        ..SchedulerConfig::default()
    });
    let gate = Arc::new(Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(occupy(&engine, Arc::clone(&gate)));
        gate.wait();
        let clip = samples("door.wav");
        let options = TranscribeOptions {
            timeout: Some(Duration::from_millis(300)),
            ..greedy()
        };
        match engine.transcribe(&clip, 16_000, &options) {
            Err(Error::Timeout(after)) => assert!(after >= Duration::from_millis(300)),
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert_eq!(engine.load(), (1, 0), "the timed-out caller left the queue");
        gate.wait();
    });
}

#[test]
fn a_deadline_stops_a_long_transcription_midway() {
    let engine = engine_with(SchedulerConfig::default());
    let long = clips().pop().expect("long clip");
    let options = TranscribeOptions {
        timeout: Some(Duration::from_millis(1)),
        ..greedy()
    };
    assert!(matches!(
        engine.transcribe(&long, 16_000, &options),
        Err(Error::Timeout(_))
    ));
    // The engine goes on serving.
    let text = engine
        .transcribe(&samples("report.wav"), 16_000, &greedy())
        .unwrap()
        .text;
    assert_eq!(words(&text), words(REPORT));
}

#[test]
fn a_callback_may_transcribe_on_the_same_engine() {
    let engine = engine_with(SchedulerConfig::default());
    let outer = samples("report.wav");
    let inner = samples("door.wav");
    let mut inner_text = None;
    let transcript = engine
        .transcribe_with(
            Audio::Pcm {
                samples: &outer,
                sample_rate: 16_000,
                channels: 1,
            },
            &greedy(),
            &mut |_, _| {
                if inner_text.is_none() {
                    inner_text = Some(engine.transcribe(&inner, 16_000, &greedy()).unwrap().text);
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert_eq!(words(&transcript.text), words(REPORT));
    let alone = engine.transcribe(&inner, 16_000, &greedy()).unwrap().text;
    assert!(!alone.is_empty());
    assert_eq!(inner_text.expect("the callback ran"), alone);
}

#[test]
fn closing_answers_every_running_and_waiting_caller() {
    let engine = engine_with(SchedulerConfig {
        max_concurrent: 2,
        ..SchedulerConfig::default()
    });
    let long = clips().pop().expect("long clip");
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..6)
            .map(|_| s.spawn(|| engine.transcribe(&long, 16_000, &greedy())))
            .collect();
        while engine.load().0 < 2 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(200));
        engine.close();
        for caller in callers {
            match caller.join().expect("caller thread") {
                Ok(_) | Err(Error::Closed(_)) => {}
                Err(e) => panic!("expected a transcript or Closed, got {e}"),
            }
        }
    });
    assert!(matches!(
        engine.transcribe(&long, 16_000, &greedy()),
        Err(Error::Closed(_))
    ));
}

//! Where the model runs ([`Device`]): the CPU when asked, and a clear error
//! when CUDA is insisted on and cannot be had. The tests' ONNX Runtime
//! library (the onnxruntime wheel's) has no CUDA execution provider, so
//! with or without the `cuda` feature a strict CUDA engine must fail
//! naming the device and the reason, while `auto` falls back to the CPU.

mod common;

use common::{config, engine, fixture, model_dir};
use voiceflow_core::{Device, Engine, Error, TranscribeOptions};

#[test]
fn the_cpu_and_auto_devices_run_every_graph_on_the_cpu_with_the_same_words() {
    let options = TranscribeOptions::default();
    let expected = engine()
        .transcribe_file(fixture("report.wav"), &options)
        .unwrap()
        .text;
    assert!(expected.contains("quarterly report"), "{expected}");
    for device in [Device::Cpu, Device::Auto] {
        let mut config = config(model_dir());
        config.device = device;
        let engine = Engine::new(config).expect("the CPU takes the model");
        let info = engine.model_info();
        assert_eq!(
            (
                info.encoder_provider.as_str(),
                info.decoder_provider.as_str()
            ),
            ("CPU", "CPU"),
            "{device}"
        );
        let got = engine.transcribe_file(fixture("report.wav"), &options);
        assert_eq!(got.unwrap().text, expected, "{device}");
    }
}

#[test]
fn a_strict_cuda_device_that_cannot_be_had_fails_saying_why() {
    for device_id in [0, 1] {
        let mut config = config(model_dir());
        config.device = Device::Cuda { device_id };
        match Engine::new(config) {
            Err(Error::DeviceUnavailable { device, reason }) => {
                assert_eq!(device, Device::Cuda { device_id }.to_string());
                // Either this build lacks the `cuda` feature, or the
                // library lacks the CUDA provider: both name CUDA.
                assert!(reason.to_lowercase().contains("cuda"), "{reason}");
                let message = Error::DeviceUnavailable { device, reason }.to_string();
                assert!(message.starts_with("device cuda"), "{message}");
            }
            Ok(_) => panic!("a CUDA engine was made without a CUDA provider"),
            Err(other) => panic!("expected DeviceUnavailable, got {other:?}"),
        }
    }
}

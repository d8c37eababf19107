//! The machine a run measured: CPU, memory, versions (results.json and the
//! report's header).

use serde::Serialize;

/// What the numbers of a run depend on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name (/proc/cpuinfo).
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cpus: usize,
    /// Total memory, GB (/proc/meminfo).
    pub memory_gb: f64,
    /// Operating system and architecture.
    pub os: String,
    /// VoiceFlow's version.
    pub voiceflow_version: String,
    /// The model the engine and the server ran.
    pub model: String,
    /// ONNX Runtime threads (`None`: one per core).
    pub threads: Option<usize>,
}

impl Machine {
    /// This machine.
    pub fn this(model: &str, threads: Option<usize>) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| {
                line.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kb: f64 = meminfo
            .lines()
            .find_map(|line| {
                line.strip_prefix("MemTotal:")?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0);
        Machine {
            cpu_model,
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_gb: memory_kb / 1024.0 / 1024.0,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            voiceflow_version: env!("CARGO_PKG_VERSION").into(),
            model: model.into(),
            threads,
        }
    }
}

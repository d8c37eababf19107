//! Profiles: how many users, for how long, at each scenario; and the
//! thresholds that pass or fail the run.
//!
//! Three are built in (`smoke`, `standard`, `full`); a TOML file with the
//! same keys gives another (every key optional, defaulting to `standard`;
//! an unknown key is an error that names it).

use std::path::Path;

use serde::{Deserialize, Serialize};
use voiceflow_core::{Error, Result};

/// Users added level by level, a fixed time per level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progressive {
    /// Concurrent users of each level, in order.
    pub users: Vec<usize>,
    /// Seconds each level runs.
    pub level_s: f64,
}

/// A steady load for a long time, with the process sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sustained {
    /// Concurrent users.
    pub users: usize,
    /// Seconds the load lasts.
    pub duration_s: f64,
    /// Seconds between samples of memory, CPU and open files.
    pub sample_every_s: f64,
}

/// A base load, a sudden peak, and the base again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spike {
    /// Users before and after the spike.
    pub base_users: usize,
    /// Users during the spike.
    pub peak_users: usize,
    /// Seconds of each of the three phases.
    pub phase_s: f64,
}

/// Load raised step by step until the success rate or P95 crosses its limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stress {
    /// Users of the first level.
    pub start_users: usize,
    /// Users added per level.
    pub step_users: usize,
    /// The last level tried when nothing breaks.
    pub max_users: usize,
    /// Seconds each level runs.
    pub level_s: f64,
    /// A level below this success rate is the breaking point.
    pub min_success_rate: f64,
    /// P95 latency (ms) over which a level is the breaking point, per
    /// target: the targets' work differs by orders of magnitude.
    pub max_p95_ms: TargetLimits,
}

/// One number per target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetLimits {
    /// The in-process engine (one transcription of a fixture).
    pub engine: f64,
    /// The enhancement pipeline (one job, queueing included).
    pub enhance: f64,
    /// The encrypted store (one operation).
    pub store: f64,
    /// The WebSocket server (the last final after the end of speech).
    pub ws: f64,
}

/// Large amounts: many records, long audio, large uploads, bulk jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Store writers working at once.
    pub store_writers: usize,
    /// Records each writer puts.
    pub store_ops_per_writer: usize,
    /// Store readers (get and search) running while the writers write.
    pub store_readers: usize,
    /// Enhancement jobs submitted in bulk (waiting for room in the queue).
    pub enhance_jobs: usize,
    /// Seconds of speech in the long recording (engine: one transcription;
    /// ws: one upload to /v1/audio/transcriptions).
    pub long_audio_s: f64,
}

/// WebSocket connections opened and held, streams started but silent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connections {
    /// Connections held at once.
    pub idle: usize,
    /// Seconds they are held, pinged once a second.
    pub hold_s: f64,
}

/// A whole load-test run's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// The profile's name, shown in the report.
    pub name: String,
    /// The progressive scenario.
    pub progressive: Progressive,
    /// The sustained scenario.
    pub sustained: Sustained,
    /// The spike scenario.
    pub spike: Spike,
    /// The stress scenario.
    pub stress: Stress,
    /// The volume scenario.
    pub volume: Volume,
    /// The WebSocket connection scenario.
    pub connections: Connections,
    /// Speed of WebSocket streams against real time: 1 sends audio as a
    /// microphone would, 4 four times faster, 0 as fast as the socket takes it.
    pub pace: f64,
    /// Requests one user makes at most per level (every loop is bounded in
    /// count as well as in time).
    pub max_requests_per_user: usize,
    /// Seconds one request may take before it counts as timed out.
    pub request_timeout_s: f64,
    /// Thresholds (`TARGET.SCENARIO.METRIC OP NUMBER`, see [`crate::threshold`]).
    pub thresholds: Vec<String>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::standard()
    }
}

impl Profile {
    /// Minutes on a 2-core machine: the committed readiness report.
    pub fn standard() -> Self {
        Profile {
            name: "standard".into(),
            progressive: Progressive {
                users: vec![1, 5, 10, 20, 50],
                level_s: 10.0,
            },
            sustained: Sustained {
                users: 10,
                duration_s: 60.0,
                sample_every_s: 1.0,
            },
            spike: Spike {
                base_users: 10,
                peak_users: 50,
                phase_s: 10.0,
            },
            stress: Stress {
                start_users: 25,
                step_users: 25,
                max_users: 200,
                level_s: 10.0,
                min_success_rate: 0.95,
                max_p95_ms: TargetLimits {
                    engine: 10_000.0,
                    enhance: 1_000.0,
                    store: 250.0,
                    ws: 5_000.0,
                },
            },
            volume: Volume {
                store_writers: 10,
                store_ops_per_writer: 1_000,
                store_readers: 2,
                enhance_jobs: 5_000,
                long_audio_s: 120.0,
            },
            connections: Connections {
                idle: 1_000,
                hold_s: 10.0,
            },
            pace: 1.0,
            max_requests_per_user: 5_000,
            request_timeout_s: 60.0,
            thresholds: [
                "engine.progressive.success_rate >= 0.99",
                "enhance.volume.success_rate >= 0.95",
                "store.volume.success_rate >= 0.999",
                "store.volume.p95_ms < 50",
                "ws.connections.success_rate >= 0.99",
                "ws.progressive.success_rate >= 0.95",
                "ws.sustained.success_rate >= 0.95",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    /// Well under a minute: every scenario against every target, briefly
    /// (what `make test` runs).
    pub fn smoke() -> Self {
        let standard = Profile::standard();
        Profile {
            name: "smoke".into(),
            progressive: Progressive {
                users: vec![1, 2],
                level_s: 1.0,
            },
            sustained: Sustained {
                users: 2,
                duration_s: 2.0,
                sample_every_s: 0.25,
            },
            spike: Spike {
                base_users: 1,
                peak_users: 3,
                phase_s: 1.0,
            },
            stress: Stress {
                start_users: 2,
                step_users: 2,
                max_users: 4,
                level_s: 1.0,
                ..standard.stress
            },
            volume: Volume {
                store_writers: 2,
                store_ops_per_writer: 100,
                store_readers: 1,
                enhance_jobs: 200,
                long_audio_s: 20.0,
            },
            connections: Connections {
                idle: 20,
                hold_s: 1.0,
            },
            pace: 4.0,
            max_requests_per_user: 1_000,
            request_timeout_s: 60.0,
            thresholds: [
                "engine.progressive.success_rate >= 0.99",
                "enhance.volume.success_rate >= 0.99",
                "store.volume.success_rate >= 0.999",
                "ws.connections.success_rate >= 0.99",
                "ws.progressive.success_rate >= 0.99",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    /// The original report's scale: an hour sustained, 10,000 store
    /// operations per writer.
    pub fn full() -> Self {
        let standard = Profile::standard();
        Profile {
            name: "full".into(),
            progressive: Progressive {
                users: vec![1, 5, 10, 20, 50, 100],
                level_s: 60.0,
            },
            sustained: Sustained {
                users: 20,
                duration_s: 3_600.0,
                sample_every_s: 5.0,
            },
            spike: Spike {
                phase_s: 60.0,
                ..standard.spike
            },
            stress: Stress {
                max_users: 500,
                level_s: 30.0,
                ..standard.stress
            },
            volume: Volume {
                store_ops_per_writer: 10_000,
                enhance_jobs: 20_000,
                long_audio_s: 600.0,
                ..standard.volume
            },
            connections: Connections {
                idle: 1_000,
                hold_s: 60.0,
            },
            max_requests_per_user: 1_000_000,
            ..standard
        }
    }

    /// A built-in profile by name, or a TOML file's.
    pub fn resolve(name_or_path: &str) -> Result<Self> {
        let profile = match name_or_path {
            "smoke" => Profile::smoke(),
            "standard" => Profile::standard(),
            "full" => Profile::full(),
            path if path.ends_with(".toml") => Profile::load(Path::new(path))?,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown profile {other:?}: smoke, standard, full or a .toml file"
                )))
            }
        };
        profile.validate()?;
        Ok(profile)
    }

    /// A profile from a TOML file (missing keys: the standard profile's).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut profile: Profile = toml::from_str(&text).map_err(|e| {
            Error::InvalidArgument(format!("profile {}: {}", path.display(), e.message()))
        })?;
        if profile.name == Profile::standard().name {
            profile.name = path.display().to_string();
        }
        Ok(profile)
    }

    /// Checks what would make a run meaningless or unbounded.
    pub fn validate(&self) -> Result<()> {
        let invalid = |what: &str| Err(Error::InvalidArgument(format!("profile: {what}")));
        let seconds = [
            ("progressive.level_s", self.progressive.level_s),
            ("sustained.duration_s", self.sustained.duration_s),
            ("sustained.sample_every_s", self.sustained.sample_every_s),
            ("spike.phase_s", self.spike.phase_s),
            ("stress.level_s", self.stress.level_s),
            ("connections.hold_s", self.connections.hold_s),
            ("request_timeout_s", self.request_timeout_s),
        ];
        if let Some((key, _)) = seconds.iter().find(|(_, s)| !(s.is_finite() && *s > 0.0)) {
            return invalid(&format!("{key} must be a positive number of seconds"));
        }
        if self.progressive.users.is_empty() || self.progressive.users.contains(&0) {
            return invalid("progressive.users must list user counts above 0");
        }
        if [
            self.sustained.users,
            self.spike.base_users,
            self.spike.peak_users,
            self.stress.start_users,
            self.stress.step_users,
            self.volume.store_writers,
            self.max_requests_per_user,
        ]
        .contains(&0)
        {
            return invalid("user, writer and request counts must be above 0");
        }
        if self.stress.max_users < self.stress.start_users {
            return invalid("stress.max_users must be at least stress.start_users");
        }
        if !(0.0..=1.0).contains(&self.stress.min_success_rate) {
            return invalid("stress.min_success_rate must be between 0 and 1");
        }
        if !(self.pace.is_finite() && self.pace >= 0.0) {
            return invalid("pace must be 0 (no pacing) or a positive speed");
        }
        if !(self.volume.long_audio_s.is_finite() && self.volume.long_audio_s >= 0.0) {
            return invalid("volume.long_audio_s must be 0 (skip) or positive");
        }
        for threshold in &self.thresholds {
            crate::threshold::Threshold::parse(threshold)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_are_valid() {
        for name in ["smoke", "standard", "full"] {
            assert_eq!(Profile::resolve(name).unwrap().name, name);
        }
    }

    #[test]
    fn a_file_overrides_some_keys_and_names_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(
            &path,
            "pace = 0.0\n[progressive]\nusers = [3]\nlevel_s = 2.0\n",
        )
        .unwrap();
        let profile = Profile::resolve(path.to_str().unwrap()).unwrap();
        assert_eq!(profile.progressive.users, [3]);
        assert_eq!(profile.pace, 0.0);
        assert_eq!(profile.spike, Profile::standard().spike);

        std::fs::write(&path, "[spike]\nbase_users = 1\npeak = 2\n").unwrap();
        let error = Profile::resolve(path.to_str().unwrap()).unwrap_err();
        assert!(error.to_string().contains("peak"), "{error}");
    }

    #[test]
    fn unbounded_or_empty_profiles_are_refused() {
        let mut profile = Profile::smoke();
        profile.progressive.level_s = f64::INFINITY;
        assert!(profile.validate().is_err());
        let mut profile = Profile::smoke();
        profile.max_requests_per_user = 0;
        assert!(profile.validate().is_err());
        let mut profile = Profile::smoke();
        profile.thresholds.push("store.volume.p95 < 3".into());
        assert!(profile.validate().is_err());
        assert!(Profile::resolve("heavy").is_err());
    }
}

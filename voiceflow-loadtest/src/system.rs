//! A process's resident memory, CPU use and open file descriptors over
//! time (from Linux's /proc), and a leak verdict from the memory trend.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SystemSample {
    /// Seconds from the start of the run.
    pub t_s: f64,
    /// Resident memory, MB (VmRSS).
    pub rss_mb: f64,
    /// CPU time since the previous reading over wall time, percent of one
    /// core (200 = two cores busy).
    pub cpu_pct: f64,
    /// Open file descriptors (sockets included).
    pub fds: usize,
    /// Threads.
    pub threads: usize,
}

/// Samples a process in the background until stopped.
pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<SystemSample>>,
}

impl Sampler {
    /// Starts sampling `pid` every `every` (times count from `epoch`).
    pub fn start(pid: u32, every: Duration, epoch: Instant) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut last_cpu = cpu_seconds(pid).map(|cpu| (Instant::now(), cpu));
            let mut ticker = tokio::time::interval(every.max(Duration::from_millis(10)));
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticker.tick() => {}
                }
                let Some(mut sample) = read(pid, epoch) else {
                    break;
                };
                if let (Some((at, cpu)), Some(now_cpu)) = (last_cpu, cpu_seconds(pid)) {
                    let wall = at.elapsed().as_secs_f64();
                    if wall > 0.0 {
                        sample.cpu_pct = 100.0 * (now_cpu - cpu) / wall;
                    }
                    last_cpu = Some((Instant::now(), now_cpu));
                }
                samples.push(sample);
            }
            samples
        });
        Sampler { stop, task }
    }

    /// Stops sampling; the readings so far.
    pub async fn stop(self) -> Vec<SystemSample> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// One reading of `pid` now (CPU left at 0); `None` when the process is
/// gone or this is not Linux.
pub fn read(pid: u32, epoch: Instant) -> Option<SystemSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(SystemSample {
        t_s: epoch.elapsed().as_secs_f64(),
        rss_mb: field("VmRSS:")? / 1024.0,
        cpu_pct: 0.0,
        fds,
        threads: field("Threads:")? as usize,
    })
}

/// The process's user + system CPU time, seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses;
    // utime and stime are the 14th and 15th fields, the 12th and 13th after it.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: `sysconf` has no preconditions: it only reads a configuration
    // value (and returns -1 for an unknown name, handled below).
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Whether memory kept growing, from the second half of the readings (the
/// first half is warm-up: caches, pools and allocator arenas filling).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeakVerdict {
    /// Least-squares slope of RSS over the second half, MB per minute.
    pub slope_mb_per_min: f64,
    /// The slope times the second half's length: growth the trend explains, MB.
    pub trend_growth_mb: f64,
    /// Mean RSS of the second half, MB.
    pub mean_rss_mb: f64,
    /// Growth beyond which a leak is suspected: the larger of
    /// [`LEAK_MIN_MB`] and [`LEAK_FRACTION`] of the mean.
    pub limit_mb: f64,
    /// `trend_growth_mb > limit_mb`.
    pub leak_suspected: bool,
    /// Open file descriptors at the start and end of the second half.
    pub fds: (usize, usize),
}

/// Growth under this many MB is never called a leak (allocator noise).
pub const LEAK_MIN_MB: f64 = 10.0;
/// Growth under this fraction of the mean RSS is never called a leak.
pub const LEAK_FRACTION: f64 = 0.05;

impl LeakVerdict {
    /// The verdict on `samples`; `None` with fewer than 6 readings.
    pub fn judge(samples: &[SystemSample]) -> Option<Self> {
        if samples.len() < 6 {
            return None;
        }
        let half = &samples[samples.len() / 2..];
        let n = half.len() as f64;
        let mean_t = half.iter().map(|s| s.t_s).sum::<f64>() / n;
        let mean_rss = half.iter().map(|s| s.rss_mb).sum::<f64>() / n;
        let covariance: f64 = half
            .iter()
            .map(|s| (s.t_s - mean_t) * (s.rss_mb - mean_rss))
            .sum();
        let variance: f64 = half.iter().map(|s| (s.t_s - mean_t).powi(2)).sum();
        let slope = if variance > 0.0 {
            covariance / variance
        } else {
            0.0
        };
        let span = half[half.len() - 1].t_s - half[0].t_s;
        let limit_mb = LEAK_MIN_MB.max(LEAK_FRACTION * mean_rss);
        Some(LeakVerdict {
            slope_mb_per_min: slope * 60.0,
            trend_growth_mb: slope * span,
            mean_rss_mb: mean_rss,
            limit_mb,
            leak_suspected: slope * span > limit_mb,
            fds: (half[0].fds, half[half.len() - 1].fds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(rss: impl Fn(f64) -> f64) -> Vec<SystemSample> {
        (0..60)
            .map(|i| SystemSample {
                t_s: i as f64,
                rss_mb: rss(i as f64),
                cpu_pct: 0.0,
                fds: 10,
                threads: 4,
            })
            .collect()
    }

    #[test]
    fn a_flat_noisy_trend_is_no_leak_and_a_steady_climb_is() {
        let flat = LeakVerdict::judge(&samples(|t| {
            300.0
                + if (t as u32).is_multiple_of(2) {
                    3.0
                } else {
                    -3.0
                }
        }))
        .unwrap();
        assert!(!flat.leak_suspected, "{flat:?}");
        // Alternating ±3 MB over 30 readings: the fit's slope is -3*15/2247.5
        // MB/s, -0.58 MB over the half's 29 s.
        assert!(flat.trend_growth_mb.abs() < 1.0, "{flat:?}");
        // 1 MB/s over the second half's 29 s: 29 MB > max(10, 5% of ~345).
        let climb = LeakVerdict::judge(&samples(|t| 300.0 + t)).unwrap();
        assert!(climb.leak_suspected, "{climb:?}");
        assert!((climb.slope_mb_per_min - 60.0).abs() < 1e-9);
        assert!(LeakVerdict::judge(&samples(|_| 1.0)[..5]).is_none());
    }

    #[tokio::test]
    async fn samples_this_process() {
        let sampler = Sampler::start(
            std::process::id(),
            Duration::from_millis(20),
            Instant::now(),
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        let samples = sampler.stop().await;
        assert!(samples.len() >= 3, "{samples:?}");
        assert!(samples
            .iter()
            .all(|s| s.rss_mb > 1.0 && s.fds >= 3 && s.threads >= 1));
    }
}

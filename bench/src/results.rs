//! The results file every benchmark writes, `bench/results/<name>.json`, in the shape
//! the design fixes, and a plain-text table of the same figures for the terminal.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::latency::LatencySummary;
use crate::run_info::RunInfo;

/// The figures measured in one configuration: a closed-loop throughput and open-loop
/// latencies keyed by label (an offered rate per second, or e.g. "window1").
#[derive(Clone, Debug, Default)]
pub struct Measurements {
    pub throughput_per_s: u64,
    pub latency_ns: Vec<(String, LatencySummary)>,
}

impl Measurements {
    fn to_json(&self) -> Map<String, Value> {
        let latency: Map<String, Value> = self
            .latency_ns
            .iter()
            .map(|(label, summary)| (label.clone(), summary.to_json()))
            .collect();
        let mut map = Map::new();
        map.insert("throughput_per_s".into(), json!(self.throughput_per_s));
        map.insert("latency_ns".into(), Value::Object(latency));
        map
    }
}

#[derive(Clone, Debug)]
pub struct BenchmarkResult {
    /// The file stem: "core" writes `core.json`.
    pub benchmark: String,
    /// How a user reruns it, e.g. "make bench-core".
    pub command: String,
    pub run: RunInfo,
    /// The headline figures.
    pub measured: Measurements,
    /// Per-mode figures where a benchmark compares modes.
    pub modes: Vec<(String, Measurements)>,
    /// Other figures, units last in their names.
    pub extra: Map<String, Value>,
}

impl BenchmarkResult {
    pub fn new(benchmark: &str, command: &str) -> BenchmarkResult {
        BenchmarkResult {
            benchmark: benchmark.to_string(),
            command: command.to_string(),
            run: RunInfo::collect(),
            measured: Measurements::default(),
            modes: Vec::new(),
            extra: Map::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("benchmark".into(), json!(self.benchmark));
        map.insert("command".into(), json!(self.command));
        map.insert("git_sha".into(), json!(self.run.git_sha));
        map.insert("cpu".into(), json!(self.run.cpu));
        map.insert("cores".into(), json!(self.run.cores));
        map.insert("when".into(), json!(self.run.when));
        map.extend(self.measured.to_json());
        if !self.modes.is_empty() {
            let modes: Map<String, Value> = self
                .modes
                .iter()
                .map(|(name, m)| (name.clone(), Value::Object(m.to_json())))
                .collect();
            map.insert("modes".into(), Value::Object(modes));
        }
        map.insert("extra".into(), Value::Object(self.extra.clone()));
        Value::Object(map)
    }

    /// Writes the JSON file, creating its folder.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = serde_json::to_string_pretty(&self.to_json())?;
        text.push('\n');
        std::fs::write(path, text)
    }

    /// A human-readable table of the headline and per-mode figures.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} benchmark  {}  {} x {}  {}",
            self.benchmark, self.run.git_sha, self.run.cores, self.run.cpu, self.run.when
        );
        write_measurements(&mut s, "", &self.measured);
        for (name, m) in &self.modes {
            write_measurements(&mut s, name, m);
        }
        for (key, value) in &self.extra {
            let _ = writeln!(s, "  {key:<40} {value}");
        }
        s
    }
}

fn write_measurements(s: &mut String, mode: &str, m: &Measurements) {
    let prefix = if mode.is_empty() {
        String::new()
    } else {
        format!("[{mode}] ")
    };
    let _ = writeln!(
        s,
        "  {prefix}throughput (closed loop): {} commands/s",
        m.throughput_per_s
    );
    if m.latency_ns.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "  {prefix}{:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "latency ns", "samples", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    for (label, l) in &m.latency_ns {
        let _ = writeln!(
            s,
            "  {prefix}{:>12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}",
            label, l.samples, l.p50, l.p90, l.p99, l.p99_9, l.p99_99, l.max
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_designed_shape() {
        let mut r = BenchmarkResult::new("core", "make bench-core");
        r.measured.throughput_per_s = 5_000_000;
        let summary = LatencySummary {
            samples: 10,
            p50: 1,
            p90: 2,
            p99: 3,
            p99_9: 4,
            p99_99: 5,
            max: 6,
        };
        r.measured.latency_ns.push(("1000000".to_string(), summary));
        r.extra.insert("trade_ratio".into(), json!(0.06));
        let v = r.to_json();
        for key in ["benchmark", "command", "git_sha", "cpu", "cores", "when"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["throughput_per_s"], 5_000_000);
        assert_eq!(v["latency_ns"]["1000000"]["p99_9"], 4);
        assert_eq!(v["extra"]["trade_ratio"], 0.06);
        assert!(v.get("modes").is_none());
        assert!(r.table().contains("1000000"));
    }
}

//! Drives one engine through a pre-generated stream, closed or open loop.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringex_bench::open_loop::OpenLoopSchedule;
use ringex_core::{Command, Engine, EngineConfig, Event};

/// Events one command may produce before the buffer grows: a sweep through many makers.
const EVENTS_RESERVED: usize = 4096;

pub struct CoreDriver {
    pub engine: Engine,
    seq: u64,
    events: Vec<Event>,
}

impl CoreDriver {
    pub fn new(config: EngineConfig) -> CoreDriver {
        CoreDriver {
            engine: Engine::new(config).expect("valid engine config"),
            seq: 0,
            events: Vec::with_capacity(EVENTS_RESERVED),
        }
    }

    /// Applies one command as the workload stamps it: the next sequence number, and
    /// that number as its timestamp.
    #[inline]
    fn apply(&mut self, cmd: &Command) {
        self.seq += 1;
        self.events.clear();
        self.engine.apply(self.seq, self.seq, cmd, &mut self.events);
    }

    /// Applies every command as fast as possible; returns the elapsed time.
    pub fn run_closed_loop(&mut self, commands: &[Command]) -> Duration {
        let start = Instant::now();
        for cmd in commands {
            self.apply(cmd);
        }
        start.elapsed()
    }

    /// Applies every command back to back, recording each one's service time (from
    /// the previous command's completion to its own, so one clock read apiece): the
    /// core's own latency, without queueing.
    pub fn run_service_times(&mut self, commands: &[Command], service: &mut Histogram<u64>) {
        let start = Instant::now();
        let mut last_ns = 0u64;
        for cmd in commands {
            self.apply(cmd);
            let now_ns = start.elapsed().as_nanos() as u64;
            service.saturating_record((now_ns - last_ns).max(1));
            last_ns = now_ns;
        }
    }

    /// Applies command `i` at its planned time on a schedule of `rate_per_s`, recording
    /// completion minus planned time into `latencies`.
    pub fn run_open_loop(
        &mut self,
        commands: &[Command],
        rate_per_s: u64,
        latencies: &mut Histogram<u64>,
    ) {
        let schedule = OpenLoopSchedule::start(rate_per_s);
        // One clock read per command when running behind: the time one command
        // completed is the time the next one is checked against.
        let mut now_ns = schedule.now_ns();
        for (i, cmd) in commands.iter().enumerate() {
            let due_ns = schedule.wait_until_due(i as u64, now_ns);
            self.apply(cmd);
            now_ns = schedule.now_ns();
            latencies.saturating_record((now_ns - due_ns).max(1));
        }
    }
}

//! Open-loop pacing free of coordinated omission: command `i` has a planned send time
//! `start + i / rate`, fixed before the run. A command that waits behind a slow one
//! is charged for the wait, because its latency is measured from its planned time,
//! not from when it was actually sent.

use std::time::Instant;

use hdrhistogram::Histogram;

pub struct OpenLoopSchedule {
    start: Instant,
    rate_per_s: u64,
}

impl OpenLoopSchedule {
    /// A schedule starting now at `rate_per_s` commands per second.
    pub fn start(rate_per_s: u64) -> OpenLoopSchedule {
        assert!(rate_per_s > 0);
        OpenLoopSchedule {
            start: Instant::now(),
            rate_per_s,
        }
    }

    /// Planned send time of command `i`, in ns since the start.
    #[inline]
    pub fn planned_ns(&self, i: u64) -> u64 {
        (u128::from(i) * 1_000_000_000 / u128::from(self.rate_per_s)) as u64
    }

    /// Nanoseconds since the start.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Spins until command `i` is due and returns its planned time. `now_ns` is a
    /// clock reading to start from: when running behind, the previous command's
    /// completion time already shows `i` is due, which saves a clock read per command.
    /// Spinning, not sleeping: a sleep's wake-up delay is larger than the gaps paced.
    #[inline]
    pub fn wait_until_due(&self, i: u64, mut now_ns: u64) -> u64 {
        let due_ns = self.planned_ns(i);
        while now_ns < due_ns {
            std::hint::spin_loop();
            now_ns = self.now_ns();
        }
        due_ns
    }

    /// Latency of command `i` completing now: completion minus planned send time.
    #[inline]
    pub fn latency_ns(&self, i: u64) -> u64 {
        self.now_ns().saturating_sub(self.planned_ns(i))
    }
}

/// The latency floor of the machine at `rate_per_s`: the same pacing and clock reads
/// with no work, so what it records is timer cost plus the pauses the operating system
/// and any hypervisor impose. Open-loop tails below this are not the code's.
pub fn idle_latency(rate_per_s: u64, commands: u64, latencies: &mut Histogram<u64>) {
    let schedule = OpenLoopSchedule::start(rate_per_s);
    let mut now_ns = schedule.now_ns();
    for i in 0..commands {
        let due_ns = schedule.wait_until_due(i, now_ns);
        now_ns = schedule.now_ns();
        latencies.saturating_record((now_ns - due_ns).max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_evenly_spaced_sends() {
        let s = OpenLoopSchedule::start(1_000_000);
        assert_eq!(s.planned_ns(0), 0);
        assert_eq!(s.planned_ns(3), 3_000);
        let s = OpenLoopSchedule::start(3_000_000);
        assert_eq!(s.planned_ns(3), 1_000);
    }

    #[test]
    fn latency_counts_from_the_plan() {
        let s = OpenLoopSchedule::start(1_000);
        s.wait_until_due(1, 0);
        assert!(s.now_ns() >= 1_000_000);
        // Command 0 was due at the start and completes after command 1 was due.
        assert!(s.latency_ns(0) >= 1_000_000);
    }

    #[test]
    fn idle_latency_records_every_command() {
        let mut h = crate::latency::latency_histogram();
        idle_latency(1_000_000, 1000, &mut h);
        assert_eq!(h.len(), 1000);
    }
}

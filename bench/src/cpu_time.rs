//! CPU time of the calling thread, from Linux's /proc: unlike wall time it leaves out
//! the time the thread waited while other processes ran, which on a shared machine
//! separates the code's speed from the machine's load.

/// Nanoseconds this thread has run on a CPU, or `None` where /proc is unavailable.
pub fn thread_cpu_ns() -> Option<u64> {
    // The first field of schedstat is the time spent running, in ns.
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_advances_while_working() {
        let before = thread_cpu_ns().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_ns().unwrap() > before, "{x}");
    }
}

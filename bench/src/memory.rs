//! Resident memory of this process, read from Linux's /proc.

/// Resident set size in bytes, or `None` where /proc is unavailable.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    // "VmRSS:     1234 kB": reported in kB whatever the page size.
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_grows_when_memory_is_touched() {
        let before = rss_bytes().unwrap();
        let block = vec![1u8; 64 << 20];
        let after = rss_bytes().unwrap();
        assert!(after > before + (32 << 20), "{before} -> {after}");
        drop(block);
    }
}
